package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"
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
}
