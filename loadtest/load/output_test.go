package load

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/paycode/paycode/loadtest/mppsim"
)

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestOutputWriter: results put while their buffers are reused come out
// of the results file in order, several chunks' worth, each with its own
// fields, engine time and observation, and the plot holds them all.
func TestOutputWriter(t *testing.T) {
	var buf bytes.Buffer
	pl := newPlot("t")
	w := newOutputWriter(pl, vegeta.NewEncoder(&buf), true)
	const n = 2*outputChunk + 17
	t0 := time.Unix(1_800_000_000, 0)
	var r vegeta.Result
	body := make([]byte, 0, 16)
	for i := range n {
		// One Result and body reused, as the sender's workers do.
		body = strconv.AppendInt(body[:0], int64(i), 10)
		r = vegeta.Result{Attack: "t", Seq: uint64(i), Code: 200, Timestamp: t0.Add(time.Duration(i) * time.Millisecond),
			Latency: time.Duration(i) * time.Microsecond, Method: "POST", URL: "http://x" + APIPath + "pay?k=p&n=" + strconv.Itoa(i), Body: body}
		o := Observation{Kind: KindPay, Class: mppsim.OutcomeSuccess, Result: "SUCCESS", OK: i%2 == 0, EngineUS: int64(i), Valid: true}
		if i%5 == 0 {
			r.Code, r.Error = 0, "timeout"
			o.Err, o.EngineUS, o.Result, o.OK = true, -1, "", false
		}
		w.put(&r, &o)
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	dec := vegeta.NewDecoder(&buf)
	for i := range n {
		var got vegeta.Result
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("result %d: %v", i, err)
		}
		o := ObservationOf(&got)
		if got.Seq != uint64(i) || !got.Timestamp.Equal(t0.Add(time.Duration(i)*time.Millisecond)) || got.Latency != time.Duration(i)*time.Microsecond ||
			string(got.Body) != strconv.Itoa(i) || o.Kind != KindPay || o.Class != mppsim.OutcomeSuccess {
			t.Fatalf("result %d: %+v (observation %+v)", i, got, o)
		}
		if i%5 == 0 {
			if got.Error != "timeout" || o.EngineUS != -1 || o.OK || o.Result != "" || len(got.Headers[http.CanonicalHeaderKey("paycode-engine-us")]) != 0 {
				t.Fatalf("result %d without an answer: %+v (observation %+v)", i, got, o)
			}
		} else if o.EngineUS != int64(i) || o.Result != "SUCCESS" || o.OK != (i%2 == 0) {
			t.Fatalf("result %d: observation %+v", i, o)
		}
	}
	if err := dec.Decode(&vegeta.Result{}); !errors.Is(err, io.EOF) {
		t.Fatalf("after %d results: %v", n, err)
	}
	pl.Close()
	var html bytes.Buffer
	if _, err := pl.WriteTo(&html); err != nil || html.Len() == 0 {
		t.Fatalf("plot: %v, %d bytes", err, html.Len())
	}
}

// TestOutputWriterError: a results file that cannot be written is
// reported, by put's flag and by close.
func TestOutputWriterError(t *testing.T) {
	w := newOutputWriter(newPlot("t"), vegeta.NewEncoder(failingWriter{}), false)
	r := vegeta.Result{Timestamp: time.Now(), URL: "http://x" + APIPath + "pay?k=p&n=0"}
	o := Observation{EngineUS: -1}
	for range outputChunk {
		w.put(&r, &o)
	}
	if err := w.close(); err == nil || !w.failed.Load() {
		t.Fatalf("close: %v, failed %v", err, w.failed.Load())
	}
}
