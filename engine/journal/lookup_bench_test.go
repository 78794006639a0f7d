package journal

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
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

// BenchmarkKeyFilterClaim: a claim's work on the key filter — test and
// add its request and code keys, both new — on a filter sized as Open
// sizes it for a store of a million index keys (four times that), where
// the bit array is far larger than the CPU's caches and every probe is a
// likely miss.
func BenchmarkKeyFilterClaim(b *testing.B) {
	kf := keyFilter{f: newFilterBits(4 << 20)}
	for i := range 1 << 20 {
		kf.add(appendReqKey(nil, prefixPayReq, "C1", fmt.Sprintf("old%09d", i)))
	}
	var req, code []byte
	var hash [engine.CodeHashSize]byte
	maybe := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req = strconv.AppendInt(appendReqKey(req[:0], prefixPayReq, "C1", "new"), int64(i), 10)
		hash[0], hash[1], hash[2], hash[3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
		code = appendCodeKey(code[:0], &hash)
		if kf.testAndAdd(req) {
			maybe++
		}
		if kf.testAndAdd(code) {
			maybe++
		}
	}
	b.ReportMetric(float64(maybe)/float64(2*b.N), "false-positives/key")
}
