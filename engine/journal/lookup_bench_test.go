package journal

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
)

// BenchmarkLookupAbsent: what a new pay's claim pays to learn that its
// request key is not stored yet, with 100,000 payments in the journal —
// a Pebble Get, and the in-memory filter of index keys that now answers
// first.
func BenchmarkLookupAbsent(b *testing.B) {
	j := settledStore(b)
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

// settledStore opens a journal on disk holding 100,000 settled payments
// (ids pre0000000…, request ids pr0000000…), written as pays write them
// (unsynced), so that some are flushed to L0 files and some compacted
// below: the store a lookup of an older payment reads. It is closed when
// the benchmark ends.
func settledStore(b *testing.B) *Pebble {
	j, err := Open(b.TempDir(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = j.Close() })
	writeSettled(b, j, "pre", "pr", 0, 100000)
	return j
}

// writeSettled appends n settled payments, ids id0000000… and
// request ids req0000000…, their code hashes distinct from those of
// another call's with a different salt.
func writeSettled(b *testing.B, j *Pebble, id, req string, salt byte, n int) {
	ctx := context.Background()
	for i := 0; i < n; i++ {
		p := sharedPayment(fmt.Sprintf("%s%07d", id, i), fmt.Sprintf("%s%07d", req, i), codec.StatusSuccess, salt)
		p.CodeHash[1], p.CodeHash[2], p.CodeHash[3] = byte(i), byte(i>>8), byte(i>>16)
		if err := j.Append(ctx, &engine.Batch{Payments: []*engine.PaymentRecord{p}}, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetPaymentSettled: an inquiry of an older settled payment, one
// the engine no longer holds in memory — GetPayment by payment id (the
// record, then its refunds' range) and by request id (the request index
// first). The store holds the 100,000 payments of settledStore, compacted
// to the bottom level (their held marks' deletions gone with the marks),
// then 300,000 newer ones as pays left them (in the memtable and L0
// files, not compacted by hand). held-mark-get is the Pebble Get of an
// older payment's absent held mark that GetPayment made before the held
// set answered it (heldSet). It reports L0's files and sublevels (read
// amplification) as the writes left them.
func BenchmarkGetPaymentSettled(b *testing.B) {
	j := settledStore(b)
	ctx := context.Background()
	if err := j.db.Compact(ctx, []byte{0}, []byte{0xff}, false); err != nil {
		b.Fatal(err)
	}
	writeSettled(b, j, "new", "nr", 1, 300000)
	ids, reqs := make([]string, 1024), make([]string, 1024)
	for i := range ids {
		n := i * 97 % 100000 // spread over the store's files
		ids[i], reqs[i] = fmt.Sprintf("pre%07d", n), fmt.Sprintf("pr%07d", n)
	}
	m := j.Metrics()
	l0Files, l0Sublevels := float64(m.Levels[0].TablesCount), float64(m.Levels[0].Sublevels)
	b.Run("by-id", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if rec, _, err := j.GetPayment(ctx, "C1", "", ids[i%len(ids)]); err != nil || rec == nil || rec.Held {
				b.Fatal(rec, err)
			}
		}
		b.ReportMetric(l0Files, "L0-files")
		b.ReportMetric(l0Sublevels, "L0-sublevels")
	})
	b.Run("by-request", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if rec, _, err := j.GetPayment(ctx, "C1", reqs[i%len(reqs)], ""); err != nil || rec == nil || rec.Held {
				b.Fatal(rec, err)
			}
		}
	})
	b.Run("held-mark-get", func(b *testing.B) {
		var k []byte
		for i := 0; b.Loop(); i++ {
			k = appendKey(k[:0], prefixHeld, ids[i%len(ids)])
			if v, err := j.get(k); err != nil || v != nil {
				b.Fatal(v, err)
			}
		}
	})
}

// BenchmarkKeyFilterClaim: a claim's work on the key filter — test and
// add its request and code keys, both new — on filters of about 2 million
// keys, where the bit arrays are far larger than the CPU's caches and
// every probe is a likely miss: one part (Open's sizing for a store of a
// million index keys: twice that) and chains that grew to four and to
// eight parts while the node ran (a lookup tests every part, hashing the
// key once per part).
func BenchmarkKeyFilterClaim(b *testing.B) {
	for _, tc := range []struct {
		name  string
		first uint // keys the first part is sized for
		keys  int  // keys added before the benchmark
	}{
		{"1-part", 2 << 20, 1 << 20},
		{"4-parts", 1 << 18, 2 << 20},
		{"8-parts", 1 << 14, 9 << 18},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var kf keyFilter
			kf.reset(tc.first, DefaultKeyFilterMemory, slog.New(slog.DiscardHandler))
			var k []byte
			for i := range tc.keys {
				k = strconv.AppendInt(appendReqKey(k[:0], prefixPayReq, "C1", "old"), int64(i), 10)
				kf.add(k)
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
			_, size, parts := kf.stats()
			b.ReportMetric(float64(maybe)/float64(2*b.N), "false-positives/key")
			b.ReportMetric(float64(parts), "parts")
			b.ReportMetric(float64(size)/(1<<20), "MiB")
		})
	}
}

// BenchmarkClaimPastFilter: ClaimPayment of new payments on a node that
// has run past its key filter's first size, against the same store just
// reopened. The journal (on vfs.NewMem, so that ns/op is the claim's CPU,
// not an fsync) is opened empty with a filter sized for 2^15 index keys
// (filterKeys; Open's own floor is 2^20), then takes 100,000 settled
// payments (200,000 request and code keys, six times that): what a node
// opened on an empty store holds, at the default size, after 3,000,000
// pays (ten minutes at 5,000/s). "ran" claims on that journal as it is,
// "reopened" after a Close and an Open (which size the filter for what
// is stored). filter-maybe/key is the share of new keys the filter does
// not rule out, each a Pebble Get of an absent key (measured on 4,096
// keys before the loop); filter-bytes is the filter's size.
func BenchmarkClaimPastFilter(b *testing.B) {
	ctx := context.Background()
	opts := Options{FS: vfs.NewMem(), Logger: slog.New(slog.DiscardHandler), filterKeys: 1 << 15}
	j, err := Open("/journal", opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = j.Close() })
	writeSettled(b, j, "pre", "pr", 0, 100000)
	next := 0
	claim := func() *engine.PaymentRecord {
		next++
		p := sharedPayment(fmt.Sprintf("clm%09d", next), fmt.Sprintf("cr%09d", next), codec.StatusProcessing, 9)
		p.CodeHash[1], p.CodeHash[2], p.CodeHash[3], p.CodeHash[4] = byte(next), byte(next>>8), byte(next>>16), byte(next>>24)
		return p
	}
	for _, reopen := range []bool{false, true} {
		name := "ran"
		if reopen {
			name = "reopened"
		}
		b.Run(name, func(b *testing.B) {
			if reopen {
				if err := j.Close(); err != nil {
					b.Fatal(err)
				}
				if j, err = Open("/journal", opts); err != nil {
					b.Fatal(err)
				}
				reopen = false // the first run of b.N only
			}
			maybe := 0
			for i := range 4096 {
				k := appendReqKey(nil, prefixPayReq, "C1", fmt.Sprintf("absent%d-%09d", next, i))
				if j.filter.mayHave(k) {
					maybe++
				}
			}
			for b.Loop() {
				if ex, err := j.ClaimPayment(ctx, claim()); err != nil || ex != nil {
					b.Fatal(ex, err)
				}
			}
			b.ReportMetric(float64(maybe)/4096, "filter-maybe/key")
			b.ReportMetric(float64(j.filter.memory()), "filter-bytes")
		})
	}
}
