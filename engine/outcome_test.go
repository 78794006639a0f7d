package engine

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
)

// slogLine is logFinished's line through slog's own JSON handler, and the
// time slog stamped it with (read back from the line).
func slogLine(t testing.TB, o *FinishedPayment) ([]byte, time.Time) {
	var b bytes.Buffer
	logFinished(slog.New(slog.NewJSONHandler(&b, nil)), o)
	line := b.Bytes()
	const pre = `{"time":"`
	end := bytes.IndexByte(line[len(pre):], '"')
	if !bytes.HasPrefix(line, []byte(pre)) || end < 0 {
		t.Fatalf("slog's line has no time first: %s", line)
	}
	at, err := time.Parse(time.RFC3339Nano, string(line[len(pre):len(pre)+end]))
	if err != nil {
		t.Fatal(err)
	}
	return line, at
}

func finishedSample() FinishedPayment {
	created := time.Date(2026, 12, 7, 10, 4, 13, 1234567, time.UTC)
	return FinishedPayment{
		PaymentID: "20261207100413001000000000000042", ClientID: "DEMO_CLIENT", RequestID: "load-1234567-000012345",
		Wallet: "mpp-281011", Code: "281011******1200", Amount: codec.Amount{Currency: codec.MustCurrency("HKD"), Value: 5600},
		Status: codec.StatusSuccess, Result: codec.Success, Message: "ignored by the line",
		Created: created, Finished: created.Add(31500 * time.Microsecond),
	}
}

// TestAppendJSONLineIsSlogs: the hand-written line is byte for byte what
// slog's JSON handler writes for logFinished's record, and it declines
// every line it does not write that way.
func TestAppendJSONLineIsSlogs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*FinishedPayment)
		ok     bool
	}{
		{"success", func(*FinishedPayment) {}, true},
		{"failed after follow-ups, recovered", func(o *FinishedPayment) {
			o.Status, o.Result, o.FollowUps, o.Recovered = codec.StatusFail, codec.UserBalanceNotEnough, 3, true
			o.Finished = o.Created.Add(90 * time.Second)
		}, true},
		{"no wallet, no currency, zero amount", func(o *FinishedPayment) {
			o.Wallet, o.Amount, o.Status, o.Result = "", codec.Amount{}, codec.StatusCancelled, codec.ProcessFail
		}, true},
		{"negative duration", func(o *FinishedPayment) { o.Finished = o.Created.Add(-time.Millisecond) }, true},
		{"microseconds", func(o *FinishedPayment) { o.Finished = o.Created.Add(58830 * time.Nanosecond) }, true},
		{"nanoseconds", func(o *FinishedPayment) { o.Finished = o.Created.Add(41) }, true},
		{"hours", func(o *FinishedPayment) { o.Finished = o.Created.Add(49*time.Hour + 3*time.Second) }, true},
		{"printable ASCII with <>&", func(o *FinishedPayment) { o.RequestID = "a<b>&c ~!{}[]" }, true},
		{"a quote", func(o *FinishedPayment) { o.RequestID = `a"b` }, false},
		{"a backslash", func(o *FinishedPayment) { o.ClientID = `a\b` }, false},
		{"a control character", func(o *FinishedPayment) { o.RequestID = "a\tb" }, false},
		{"DEL", func(o *FinishedPayment) { o.RequestID = "a\x7fb" }, false},
		{"non-ASCII", func(o *FinishedPayment) { o.RequestID = "café" }, false},
		{"invalid UTF-8", func(o *FinishedPayment) { o.Wallet = "w\xff" }, false},
		{"U+2028", func(o *FinishedPayment) { o.PaymentID = "a\u2028b" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := finishedSample()
			tc.change(&o)
			want, at := slogLine(t, &o)
			for _, loc := range []*time.Location{at.Location(), time.UTC, time.FixedZone("HKT", 8*3600)} {
				for _, tt := range []time.Time{at.In(loc), time.Date(2026, 1, 2, 3, 4, 5, 0, loc), time.Date(2026, 1, 2, 3, 4, 5, 120000000, loc)} {
					want := want
					if !tt.Equal(at) || tt.Location() != at.Location() {
						var b bytes.Buffer
						h := slog.NewJSONHandler(&b, nil)
						r := slog.NewRecord(tt, slog.LevelInfo, finishedMsg, 0)
						r.AddAttrs(recordAttrs(t, &o)...)
						if err := h.Handle(t.Context(), r); err != nil {
							t.Fatal(err)
						}
						want = b.Bytes()
					}
					prefix := []byte("kept|")
					got, ok := o.AppendJSONLine(prefix, tt)
					if ok != tc.ok {
						t.Fatalf("ok = %v, want %v (slog: %s)", ok, tc.ok, want)
					}
					if !ok {
						if string(got) != "kept|" {
							t.Fatalf("declined but changed dst: %q", got)
						}
						continue
					}
					if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
						t.Fatalf("line\n got %s\nwant %s", got[len(prefix):], want)
					}
				}
			}
		})
	}
}

// recordAttrs are the attributes logFinished logs, read back from a
// capturing handler (so the test follows logFinished, not a copy).
func recordAttrs(t testing.TB, o *FinishedPayment) []slog.Attr {
	var c captureHandler
	logFinished(slog.New(&c), o)
	if len(c.attrs) == 0 {
		t.Fatal("logFinished logged nothing")
	}
	return c.attrs
}

type captureHandler struct{ attrs []slog.Attr }

func (*captureHandler) Enabled(_ context.Context, _ slog.Level) bool { return true }
func (c *captureHandler) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool { c.attrs = append(c.attrs, a); return true })
	return nil
}
func (c *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *captureHandler) WithGroup(string) slog.Handler      { return c }

// FuzzAppendJSONLine: any strings, any duration: the line is slog's, or
// declined.
func FuzzAppendJSONLine(f *testing.F) {
	f.Add("DEMO_CLIENT", "req-1", "mpp-281011", int64(5600), int64(31500000), 0, false)
	f.Add("A\"B", "ré\u2028", "w\xff", int64(-1), int64(-5), 7, true)
	f.Fuzz(func(t *testing.T, client, req, wallet string, amount, dur int64, fus int, rec bool) {
		o := finishedSample()
		o.ClientID, o.RequestID, o.Wallet, o.Amount.Value, o.FollowUps, o.Recovered = client, req, wallet, amount, fus, rec
		o.Finished = o.Created.Add(time.Duration(dur))
		want, at := slogLine(t, &o)
		got, ok := o.AppendJSONLine(nil, at)
		if ok && !bytes.Equal(got, want) {
			t.Fatalf("line\n got %s\nwant %s", got, want)
		}
		if !ok && len(got) != 0 {
			t.Fatalf("declined but wrote %q", got)
		}
	})
}

// BenchmarkFinishedLine: the per-payment line, hand-written against
// slog's JSON handler (both to a discarding writer).
func BenchmarkFinishedLine(b *testing.B) {
	o := finishedSample()
	b.Run("slog", func(b *testing.B) {
		log := slog.New(slog.NewJSONHandler(io.Discard, nil))
		b.ReportAllocs()
		for b.Loop() {
			logFinished(log, &o)
		}
	})
	b.Run("append", func(b *testing.B) {
		var buf [512]byte
		b.ReportAllocs()
		for b.Loop() {
			line, _ := o.AppendJSONLine(buf[:0], time.Now())
			_, _ = io.Discard.Write(line)
		}
	})
}
