package load

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/plot"
)

// outputChunk is how many results the output writer takes at a time.
const outputChunk = 2048

// record is what the outputs need of one result once its request and
// response buffers are reused: the result's fields and what its answer
// meant.
type record struct {
	ts                time.Time
	latency           time.Duration
	seq               uint64
	bytesOut, bytesIn uint64
	code              uint16
	attack, method    string
	url, err          string
	body              []byte // only with KeepBodies
	obs               Observation
}

// outputWriter feeds the latency plot and the results file from its own
// goroutine, a chunk of results at a time. A result costs the sending
// goroutine a copy into the current chunk; the gob encoding (a few
// microseconds a result, most of it the headers' map), the observation
// header and the plot run in a tight loop over the chunk, their code and
// state warm, and never while a worker holds the run's lock. Its CPU is
// the generator's all the same: Run counts it (it waits for the writer
// before reading the CPU time).
type outputWriter struct {
	pl         *plot.Plot
	enc        vegeta.Encoder
	keepBodies bool

	cur    []record
	chunks chan []record
	free   chan []record
	done   chan struct{}
	err    error       // the first encoding error; read after done
	failed atomic.Bool // err is set
}

func newOutputWriter(pl *plot.Plot, enc vegeta.Encoder, keepBodies bool) *outputWriter {
	w := &outputWriter{pl: pl, enc: enc, keepBodies: keepBodies,
		chunks: make(chan []record, 64), free: make(chan []record, 4), done: make(chan struct{})}
	w.cur = make([]record, 0, outputChunk)
	go w.run()
	return w
}

// put copies r and its observation into the current chunk, handing the
// chunk to the writer when full. Its caller serializes put and close.
func (w *outputWriter) put(r *vegeta.Result, o *Observation) {
	w.cur = append(w.cur, record{ts: r.Timestamp, latency: r.Latency, seq: r.Seq, bytesOut: r.BytesOut, bytesIn: r.BytesIn,
		code: r.Code, attack: r.Attack, method: r.Method, url: r.URL, err: r.Error, obs: *o})
	if w.keepBodies && len(r.Body) > 0 {
		w.cur[len(w.cur)-1].body = append([]byte(nil), r.Body...)
	}
	if len(w.cur) == outputChunk {
		w.chunks <- w.cur
		select {
		case w.cur = <-w.free:
		default:
			w.cur = make([]record, 0, outputChunk)
		}
	}
}

// close hands the last chunk over and waits until everything is written
// (the plot complete, the encoder's writer still to be flushed).
func (w *outputWriter) close() error {
	if len(w.cur) > 0 {
		w.chunks <- w.cur
		w.cur = nil
	}
	close(w.chunks)
	<-w.done
	return w.err
}

func (w *outputWriter) run() {
	defer close(w.done)
	var r vegeta.Result
	hdr := make(http.Header, 2)
	var obsBuf []byte
	for chunk := range w.chunks {
		for i := range chunk {
			rc := &chunk[i]
			r = vegeta.Result{Attack: rc.attack, Seq: rc.seq, Code: rc.code, Timestamp: rc.ts, Latency: rc.latency,
				BytesOut: rc.bytesOut, BytesIn: rc.bytesIn, Error: rc.err, Body: rc.body, Method: rc.method, URL: rc.url}
			w.pl.Add(&r)
			if w.enc == nil || w.err != nil {
				continue
			}
			// Only paycode's engine time and what the answer meant:
			// results files stay small, and `paycode report` rebuilds
			// every row from them (ObservationOf).
			clear(hdr)
			if rc.obs.EngineUS >= 0 {
				hdr[engineTimeKey] = []string{strconv.FormatInt(rc.obs.EngineUS, 10)}
			}
			if rc.obs.Valid {
				obsBuf = rc.obs.appendHeader(obsBuf[:0])
				hdr[ObservationHeader] = []string{string(obsBuf)}
			}
			r.Headers = hdr
			if err := w.enc.Encode(&r); err != nil {
				w.err = fmt.Errorf("load: writing results: %w", err)
				w.failed.Store(true)
			}
		}
		clear(chunk)
		select {
		case w.free <- chunk[:0]:
		default:
		}
	}
}
