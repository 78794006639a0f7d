package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/paycode/paycode/engine"
)

// Serve's log writer (lineBuffer): how long a line may wait in memory, and
// how many buffered bytes make the writer that adds them write at once.
// At 5,000 pays/s the per-payment lines come to ~2 MB/s, so the size
// bound, not the interval, paces the writes under load: one write system
// call per ~150 lines instead of one per line under the handler's lock.
const (
	logFlushInterval = 100 * time.Millisecond
	logBufferSize    = 64 << 10
)

// newLogger returns serve's logger on w: JSON, or text when format is
// text, or auto and w is a terminal. The level was validated. Durations
// are written as Go writes them ("10s", "31.5ms"), not as JSON's
// nanoseconds; warnings and errors flush w when it is a *lineBuffer.
func newLogger(w io.Writer, format, level string) *slog.Logger {
	lvl, _ := parseLevel(level)
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	text := format == "text" || (format == "auto" && isTerminal(w))
	if text {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	lh := &logHandler{inner: h}
	if lb, ok := w.(*lineBuffer); ok {
		lh.flush = lb
		lh.lines = !text
	}
	return slog.New(lh)
}

// logHandler wraps serve's slog handler. It turns duration values into
// their text form only in the records that carry one, instead of a
// ReplaceAttr, which slog calls for every attribute of every record (the
// per-payment line is on the pay path); and it flushes the buffered
// writer after a warning or an error, so those lines, and every line
// before them, are out before anything that may follow them (an
// os.Exit on a fatal journal error). The JSON handler on a lineBuffer
// also writes the per-payment line itself (engine.PaymentLineWriter).
type logHandler struct {
	inner slog.Handler
	flush *lineBuffer // nil: w is not buffered
	// lines: inner is the JSON handler on flush with no attributes or
	// groups added, so engine.FinishedPayment.AppendJSONLine writes
	// exactly its line.
	lines bool
}

var _ engine.PaymentLineWriter = (*logHandler)(nil)

// WritePaymentLine writes the per-payment line with
// engine.FinishedPayment.AppendJSONLine, the same bytes the JSON handler
// writes for it at a fraction of the cost (the line is on every pay's
// path): no slog.Record, no attribute slice, no caller lookup, no second
// lock. It declines (false) on any other handler and on a line whose
// strings need escaping, which slog then writes.
func (h *logHandler) WritePaymentLine(o *engine.FinishedPayment) bool {
	if !h.lines {
		return false
	}
	var b [512]byte
	line, ok := o.AppendJSONLine(b[:0], time.Now())
	if !ok {
		return false
	}
	_, _ = h.flush.Write(line) // as slog.Logger does, a write error is dropped
	return true
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	human := false
	r.Attrs(func(a slog.Attr) bool {
		human = needsText(a.Value)
		return !human
	})
	if human {
		nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool {
			nr.AddAttrs(durationText(a))
			return true
		})
		r = nr
	}
	err := h.inner.Handle(ctx, r)
	if h.flush != nil && r.Level >= slog.LevelWarn {
		_ = h.flush.Flush()
	}
	return err
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = durationText(a)
	}
	return &logHandler{inner: h.inner.WithAttrs(out), flush: h.flush}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{inner: h.inner.WithGroup(name), flush: h.flush}
}

// needsText reports whether v is, holds or may resolve to a duration.
func needsText(v slog.Value) bool {
	switch v.Kind() {
	case slog.KindDuration, slog.KindLogValuer:
		return true
	case slog.KindGroup:
		for _, a := range v.Group() {
			if needsText(a.Value) {
				return true
			}
		}
	}
	return false
}

// durationText is a with its durations, at any depth, as text.
func durationText(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	switch a.Value.Kind() {
	case slog.KindDuration:
		a.Value = slog.StringValue(a.Value.Duration().String())
	case slog.KindGroup:
		g := a.Value.Group()
		out := make([]slog.Attr, len(g))
		for i, c := range g {
			out[i] = durationText(c)
		}
		a.Value = slog.GroupValue(out...)
	}
	return a
}

// lineBuffer is serve's log writer when stderr is not a terminal: lines
// gather in memory and reach w in one write per logFlushInterval, when
// logBufferSize bytes have gathered, after a warning or an error
// (logHandler), and at Close. Loggers never wait for w except the one
// whose line fills the buffer. A clean stop loses nothing (serve closes
// it last); a crash loses at most the last interval's info lines.
type lineBuffer struct {
	w io.Writer

	mu     sync.Mutex // guards cur and closed
	cur    []byte
	closed bool

	out   sync.Mutex // orders writes to w; guards spare
	spare []byte

	stop chan struct{}
	done chan struct{}
}

// newLineBuffer starts a lineBuffer on w; Close stops it.
func newLineBuffer(w io.Writer, every time.Duration) *lineBuffer {
	b := &lineBuffer{w: w, cur: make([]byte, 0, logBufferSize), spare: make([]byte, 0, logBufferSize),
		stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop(every)
	return b
}

// Write adds p, a whole line (slog handlers write one line per call).
func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.cur = append(b.cur, p...)
	full := len(b.cur) >= logBufferSize || b.closed
	b.mu.Unlock()
	if full {
		if err := b.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes what has gathered to w.
func (b *lineBuffer) Flush() error {
	b.out.Lock()
	defer b.out.Unlock()
	b.mu.Lock()
	full := b.cur
	b.cur = b.spare[:0]
	b.mu.Unlock()
	b.spare = full
	if len(full) == 0 {
		return nil
	}
	_, err := b.w.Write(full)
	return err
}

func (b *lineBuffer) loop(every time.Duration) {
	defer close(b.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			_ = b.Flush()
		}
	}
}

// Close stops the interval's flushes and writes what is left; lines
// written after it (a background goroutine's) are written through.
func (b *lineBuffer) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	<-b.done
	return b.Flush()
}
