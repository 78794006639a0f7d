package journal

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
)

// BenchmarkLookupAbsent: what a new pay's claim pays to learn that its
// request key is not stored yet, with 100,000 payments in the journal —
// a Pebble Get, and the in-memory filter of index keys that now answers
// first.
func BenchmarkLookupAbsent(b *testing.B) {
	j, err := Open(b.TempDir(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	for i := 0; i < 100000; i++ {
		p := sharedPayment(fmt.Sprintf("pre%07d", i), fmt.Sprintf("pr%07d", i), codec.StatusSuccess, 0)
		p.CodeHash[1], p.CodeHash[2], p.CodeHash[3] = byte(i), byte(i>>8), byte(i>>16)
		if err := j.Append(ctx, &engine.Batch{Payments: []*engine.PaymentRecord{p}}, false); err != nil {
			b.Fatal(err)
		}
	}
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = appendReqKey(nil, prefixPayReq, "C1", fmt.Sprintf("new%09d", i))
	}
	b.Run("pebble-get", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if v, err := j.get(keys[i%len(keys)]); err != nil || v != nil {
				b.Fatal(v, err)
			}
		}
	})
	b.Run("filter", func(b *testing.B) {
		miss := 0
		for i := 0; i < b.N; i++ {
			if j.filter.mayHave(keys[i%len(keys)]) {
				miss++
			}
		}
		b.ReportMetric(float64(miss)/float64(b.N), "false-positives/op")
	})
}
