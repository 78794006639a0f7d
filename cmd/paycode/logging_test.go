package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
)

// TestLineBuffer: info lines wait in memory until the interval, a full
// buffer, a warning or Close; a warning brings out the lines before it,
// in order; after Close lines are written through.
func TestLineBuffer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var w syncBuffer
		lb := newLineBuffer(&w, time.Second)
		log := newLogger(lb, "json", "info")
		log.Info("first")
		if w.String() != "" {
			t.Fatalf("an info line was written at once: %q", w.String())
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if !strings.Contains(w.String(), `"msg":"first"`) {
			t.Fatalf("after the interval: %q", w.String())
		}
		log.Info("second")
		log.Warn("third")
		if s := w.String(); !strings.Contains(s, `"msg":"second"`) || strings.Index(s, `"msg":"second"`) > strings.Index(s, `"msg":"third"`) {
			t.Fatalf("a warning did not bring out the lines before it, in order: %q", s)
		}
		long := strings.Repeat("x", logBufferSize)
		log.Info("big", "x", long)
		if !strings.Contains(w.String(), long) {
			t.Fatal("a full buffer was not written at once")
		}
		log.Info("fourth")
		if err := lb.Close(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(w.String(), `"msg":"fourth"`) {
			t.Fatalf("Close did not write the rest: %q", w.String())
		}
		log.Info("fifth")
		if !strings.Contains(w.String(), `"msg":"fifth"`) {
			t.Fatalf("a line after Close was not written through: %q", w.String())
		}
	})
}

// TestLogDurations: durations are text wherever they are, in a record, a
// group or a logger's With attributes; records without one pass as they
// are.
func TestLogDurations(t *testing.T) {
	var b strings.Builder
	log := newLogger(&b, "json", "info").With("took", 2*time.Second)
	log.Info("x", slog.Group("g", slog.Duration("d", 3*time.Millisecond)), "n", 5)
	for _, want := range []string{`"took":"2s"`, `"g":{"d":"3ms"}`, `"n":5`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("want %s in %q", want, b.String())
		}
	}
}

// TestPaymentLineWriter: serve's JSON logger on a lineBuffer writes the
// per-payment line itself, the line slog would write (the engine's
// TestAppendJSONLineIsSlogs holds the byte-for-byte check); any other
// logger, and a line it cannot write plainly, leave it to slog.
func TestPaymentLineWriter(t *testing.T) {
	o := &engine.FinishedPayment{PaymentID: "20261207100413001000000000000042", ClientID: "DEMO_CLIENT",
		RequestID: "req-1", Wallet: "mpp-281011", Code: "281011******1200",
		Amount: codec.Amount{Currency: codec.MustCurrency("HKD"), Value: 5600}, Status: codec.StatusSuccess, Result: codec.Success,
		Created: time.Unix(100, 0), Finished: time.Unix(100, 31500000)}
	var w syncBuffer
	lb := newLineBuffer(&w, time.Hour)
	lw := newLogger(lb, "json", "info").Handler().(engine.PaymentLineWriter)
	if !lw.WritePaymentLine(o) {
		t.Fatal("serve's JSON logger declined the line")
	}
	if err := lb.Close(); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(w.String()), &m); err != nil || !strings.HasSuffix(w.String(), "}\n") {
		t.Fatalf("not one JSON line: %q (%v)", w.String(), err)
	}
	for k, v := range map[string]any{"level": "INFO", "msg": "payment finished", "payment_request_id": "req-1",
		"code": "281011******1200", "amount": 5600.0, "currency": "HKD", "duration": "31.5ms", "follow_ups": 0.0, "recovered": false} {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, m["time"].(string)); err != nil {
		t.Error(err)
	}

	odd := *o
	odd.RequestID = "caf\u00e9"
	for name, c := range map[string]struct {
		log *slog.Logger
		o   *engine.FinishedPayment
	}{
		"text":           {newLogger(newLineBuffer(&w, time.Hour), "text", "info"), o},
		"unbuffered":     {newLogger(&w, "json", "info"), o},
		"with attrs":     {newLogger(newLineBuffer(&w, time.Hour), "json", "info").With("a", 1), o},
		"with group":     {newLogger(newLineBuffer(&w, time.Hour), "json", "info").WithGroup("g"), o},
		"escaped string": {newLogger(newLineBuffer(&w, time.Hour), "json", "info"), &odd},
	} {
		if lw, ok := c.log.Handler().(engine.PaymentLineWriter); ok && lw.WritePaymentLine(c.o) {
			t.Errorf("%s: wrote the line itself", name)
		}
	}
}

// BenchmarkPaymentLogLine is the per-payment "payment finished" line (the
// attributes engine.reportLocked logs) through serve's logger to a file,
// unbuffered and through a lineBuffer, from as many goroutines as cores.
func BenchmarkPaymentLogLine(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "serve.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	lb := newLineBuffer(f, logFlushInterval)
	defer lb.Close()
	for _, c := range []struct {
		name string
		log  *slog.Logger
	}{{"file", newLogger(f, "json", "info")}, {"buffered", newLogger(lb, "json", "info")}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c.log.LogAttrs(context.Background(), slog.LevelInfo, "payment finished",
						slog.String("payment_id", "2026120704130012345678"), slog.String("client_id", "DEMO_CLIENT"),
						slog.String("payment_request_id", "load-1234567-000012345"), slog.String("wallet", "mpp-281011"),
						slog.String("code", "281011******1200"), slog.Int64("amount", 5600),
						slog.String("currency", "HKD"), slog.String("status", "SUCCESS"),
						slog.String("result", "SUCCESS"), slog.String("duration", (31500*time.Microsecond).String()),
						slog.Int("follow_ups", 0), slog.Bool("recovered", false))
				}
			})
		})
	}
	// "lines": the same line as serve writes it, engine.PaymentLineWriter.
	lw := newLogger(lb, "json", "info").Handler().(engine.PaymentLineWriter)
	o := &engine.FinishedPayment{PaymentID: "2026120704130012345678", ClientID: "DEMO_CLIENT",
		RequestID: "load-1234567-000012345", Wallet: "mpp-281011", Code: "281011******1200",
		Amount: codec.Amount{Currency: codec.MustCurrency("HKD"), Value: 5600}, Status: codec.StatusSuccess, Result: codec.Success,
		Created: time.Unix(100, 0), Finished: time.Unix(100, 31500000)}
	b.Run("lines", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !lw.WritePaymentLine(o) {
					b.Fatal("declined")
				}
			}
		})
	})
}
