package load

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/plot"

	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// ObservationHeader is a header the load tool adds to each result it
// writes to ResultsFile (never sent): the test-code row, the resultCode
// and whether the answer was the expected one, e.g. "success SUCCESS 1".
// With it a results file is self-describing: ReadRun rebuilds every row.
// vegeta report and vegeta plot ignore it.
const ObservationHeader = "Paycode-Load-Observation"

func (o *Observation) appendHeader(dst []byte) []byte {
	b := append(dst, o.Class.String()...)
	b = append(b, ' ')
	if o.Result == "" {
		b = append(b, '-')
	} else {
		b = append(b, o.Result...)
	}
	if o.OK {
		b = append(b, " 1"...)
	} else {
		b = append(b, " 0"...)
	}
	return b
}

// ObservationOf rebuilds the observation of a result read back from a
// results file (see ObservationHeader). A result without the header
// (another tool's) gets its kind from the URL and counts as OK when it
// got an HTTP 200.
func ObservationOf(r *vegeta.Result) Observation {
	o := Observation{EngineUS: -1, Latency: r.Latency}
	k, _, ok := ParseURL(r.URL)
	o.Err = r.Code != http.StatusOK || r.Error != ""
	if !ok {
		o.Err = true
		return o
	}
	o.Kind, o.Valid = k, true
	if h := r.Headers[http.CanonicalHeaderKey(httpapi.HeaderEngineTime)]; len(h) > 0 && !o.Err {
		if us, err := strconv.ParseInt(h[0], 10, 64); err == nil {
			o.EngineUS = us
		}
	}
	h := r.Headers[ObservationHeader]
	if len(h) == 0 {
		o.OK = !o.Err
		return o
	}
	f := strings.Fields(h[0])
	if len(f) == 3 {
		if c, ok := mppsim.ParseOutcome(f[0]); ok {
			o.Class = c
		}
		if f[1] != "-" {
			o.Result = f[1]
		}
		o.OK = f[2] == "1"
	}
	return o
}

// ReadRun reads a run's outputs back: dir (or a file in it) must hold
// ResultsFile; SummaryFile beside it supplies what results do not carry
// (the requested rate, CPU, the correctness check, the run's other
// failures). The rows are rebuilt from the results and the budgets (the
// run's, then extra) re-evaluated, so Passed reflects them. The Recorder
// and the plot are for WriteHTML.
func ReadRun(path string, extra []Budget) (*Summary, *Recorder, *plot.Plot, error) {
	dir := path
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		dir = filepath.Dir(path)
	}
	s := &Summary{}
	if b, err := os.ReadFile(filepath.Join(dir, SummaryFile)); err == nil {
		if err := json.Unmarshal(b, s); err != nil {
			return nil, nil, nil, fmt.Errorf("load: %s: %w", filepath.Join(dir, SummaryFile), err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, err
	}
	f, err := os.Open(filepath.Join(dir, ResultsFile))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load: %w (a run's -out directory holds %s)", err, ResultsFile)
	}
	defer f.Close()
	rec := NewRecorder()
	name, _, _ := strings.Cut(s.Scenario, ":") // Scenario.String starts with the name
	pl := newPlot(name)
	dec := vegeta.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	var n uint64
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, nil, fmt.Errorf("load: %s: result %d: %w", f.Name(), n+1, err)
		}
		n++
		rec.Add(ObservationOf(&r), r.Timestamp)
		pl.Add(&r)
	}
	pl.Close()
	if n == 0 {
		return nil, nil, nil, fmt.Errorf("load: %s holds no results", f.Name())
	}
	if s.Scenario == "" { // results without a summary: another tool's, or a lost summary.json
		s.Scenario = filepath.Base(dir)
		s.Started = rec.first.UTC()
		s.Duration = rec.last.Sub(rec.first).Seconds()
		s.Achieved.Requests = n
	}
	secs := s.Duration
	if s.Requested.Rate > 0 {
		secs = max(secs, s.Requested.Requests/s.Requested.Rate)
	}
	if secs <= 0 {
		secs = rec.last.Sub(rec.first).Seconds()
	}
	s.Kinds, s.Results, s.Classes = rec.Rows(secs)
	if rec.Count() > 0 {
		s.Success = float64(rec.all.ok) / float64(rec.Count())
	}
	var budgets []Budget
	for _, b := range s.Budgets {
		bs, err := ParseBudgets(b.Budget)
		if err != nil {
			return nil, nil, nil, err
		}
		budgets = append(budgets, bs...)
	}
	budgets = append(budgets, extra...)
	var failures []string
	for _, f := range s.Failures {
		if !strings.HasPrefix(f, "budget ") {
			failures = append(failures, f)
		}
	}
	s.Budgets = EvalBudgets(budgets, s)
	for _, b := range s.Budgets {
		if !b.OK {
			failures = append(failures, "budget "+b.Message)
		}
	}
	s.Failures = failures
	s.Passed = len(failures) == 0
	s.Outputs = nil
	return s, rec, pl, nil
}

// WriteJSON writes s as summary.json does.
func (s *Summary) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
