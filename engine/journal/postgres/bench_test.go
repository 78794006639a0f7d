package postgres_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal/journaltest"
)

// benchWriters are the concurrent writers of each benchmark: exactly this
// many goroutines (not RunParallel's multiple of GOMAXPROCS), sharing b.N
// operations over one Store (default Options: MaxConns 16).
var benchWriters = []int{1, 8, 64}

// runWriters runs b.N calls of op over w goroutines, each op given its
// writer index and a sequence number unique across writers, and reports
// ops/s and the p50 and p99 latency of one call.
func runWriters(b *testing.B, w int, unit string, op func(writer int, seq int64) error) {
	var next atomic.Int64
	hists := make([]*hdrhistogram.Histogram, w)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range w {
		hists[i] = hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seq := next.Add(1)
				if seq > int64(b.N) {
					return
				}
				t := time.Now()
				if err := op(i, seq); err != nil {
					b.Error(err)
					return
				}
				_ = hists[i].RecordValue(time.Since(t).Microseconds())
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
	for _, h := range hists {
		all.Merge(h)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), unit+"/s")
	b.ReportMetric(float64(all.ValueAtQuantile(50)), "p50-µs")
	b.ReportMetric(float64(all.ValueAtQuantile(99)), "p99-µs")
}

// BenchmarkAppend: a synced Append of one payment record (the next
// version of a payment the writer owns): one fenced UPDATE and a commit
// that waits for the WAL flush.
func BenchmarkAppend(b *testing.B) {
	for _, w := range benchWriters {
		b.Run("writers="+strconv.Itoa(w), func(b *testing.B) {
			s := open(b, "bench", time.Minute)
			ctx := context.Background()
			recs := make([]*engine.PaymentRecord, w)
			for i := range recs {
				recs[i] = journaltest.Payment(fmt.Sprintf("p%d", i), fmt.Sprintf("c%d", i))
				if got, err := s.ClaimPayment(ctx, recs[i]); err != nil || got != nil {
					b.Fatal(got, err)
				}
			}
			runWriters(b, w, "appends", func(i int, _ int64) error {
				r := recs[i]
				r.Version++
				return s.Append(ctx, &engine.Batch{Payments: []*engine.PaymentRecord{r}}, true)
			})
		})
	}
}

// BenchmarkClaimPayment: ClaimPayment of a new payment each time: the
// INSERT … ON CONFLICT with its fetch, committed synchronously.
func BenchmarkClaimPayment(b *testing.B) {
	for _, w := range benchWriters {
		b.Run("writers="+strconv.Itoa(w), func(b *testing.B) {
			s := open(b, "bench", time.Minute)
			ctx := context.Background()
			runWriters(b, w, "claims", func(_ int, seq int64) error {
				id := "p" + strconv.FormatInt(seq, 10)
				got, err := s.ClaimPayment(ctx, journaltest.Payment(id, "c"+id))
				if err == nil && got != nil {
					err = fmt.Errorf("ClaimPayment(%s) found %s", id, got.PaymentID)
				}
				return err
			})
		})
	}
}

// BenchmarkGetPayment: one read by payment id, from a caller without a
// deadline (the lane's pay path) and from one whose deadline comes
// before the call timeout (a follow-up's, say), which keeps its own
// context instead of a timer context of the store's. Compare allocs/op.
func BenchmarkGetPayment(b *testing.B) {
	s := open(b, "bench", time.Minute)
	bg := context.Background()
	if got, err := s.ClaimPayment(bg, journaltest.Payment("p1", "c1")); err != nil || got != nil {
		b.Fatal(got, err)
	}
	dl, cancel := context.WithTimeout(bg, time.Hour)
	defer cancel()
	callTimeout := time.Minute // open's
	short, cancelShort := context.WithTimeout(bg, callTimeout/2)
	defer cancelShort()
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{{"ctx=none", bg}, {"ctx=later", dl}, {"ctx=sooner", short}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if p, _, err := s.GetPayment(c.ctx, "", "", "p1"); err != nil || p == nil {
					b.Fatal(p, err)
				}
			}
		})
	}
}
