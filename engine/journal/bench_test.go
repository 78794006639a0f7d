package journal_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

// syncCounter counts WAL fsyncs, to show group commit at work.
type syncCounter struct{ n atomic.Int64 }

func (s *syncCounter) String() string { return "syncCounter" }

func (s *syncCounter) MaybeError(op errorfs.Op) error {
	switch op.Kind {
	case errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
		if len(op.Path) > 4 && op.Path[len(op.Path)-4:] == ".log" {
			s.n.Add(1)
		}
	}
	return nil
}

// benchDir is where Pebble benchmarks write: $PAYCODE_BENCH_DIR, else a
// temporary directory (make sure it is a real disk, not tmpfs).
func benchDir(b *testing.B) string {
	if d := os.Getenv("PAYCODE_BENCH_DIR"); d != "" {
		dir, err := os.MkdirTemp(d, "journal-bench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

// BenchmarkAppend measures Append of one payment-sized batch (one
// PaymentRecord, ~330 bytes encoded) by W concurrent writers: ops/s,
// p50/p99 latency and, for Pebble, WAL fsyncs per append (below 1 means
// appends shared fsyncs: group commit).
func BenchmarkAppend(b *testing.B) {
	type impl struct {
		name string
		sync bool
		open func(b *testing.B) (engine.Journal, *syncCounter)
	}
	impls := []impl{
		{"Pebble/sync", true, openBenchPebble},
		{"Pebble/nosync", false, openBenchPebble},
		{"Mem", true, func(b *testing.B) (engine.Journal, *syncCounter) { return journal.NewMem(), nil }},
	}
	for _, im := range impls {
		for _, writers := range []int{1, 8, 64} {
			b.Run(im.name+"/writers="+strconv.Itoa(writers), func(b *testing.B) {
				j, syncs := im.open(b)
				defer j.Close()
				benchAppend(b, j, syncs, writers, im.sync)
			})
		}
	}
}

func openBenchPebble(b *testing.B) (engine.Journal, *syncCounter) {
	sc := &syncCounter{}
	j, err := journal.Open(benchDir(b), journal.Options{FS: errorfs.Wrap(vfs.Default, sc), Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	return j, sc
}

func benchAppend(b *testing.B, j engine.Journal, syncs *syncCounter, writers int, synced bool) {
	var next atomic.Int64
	lat := make([][]time.Duration, writers)
	var wg sync.WaitGroup
	var syncs0 int64
	if syncs != nil {
		syncs0 = syncs.n.Load()
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := payment("", codec.StatusProcessing, t0, 1)
			batch := &engine.Batch{Payments: []*engine.PaymentRecord{p}}
			idBuf := []byte("20261126093000010000000000000000")[:16]
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				p.PaymentID = string(strconv.AppendInt(idBuf, 1e15+n, 10))
				t := time.Now()
				if err := j.Append(context.Background(), batch, synced); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(all[len(all)/2])/1e3, "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100])/1e3, "p99-µs")
	if syncs != nil && synced {
		b.ReportMetric(float64(syncs.n.Load()-syncs0)/float64(len(all)), "fsyncs/op")
	}
}

func BenchmarkEncodePayment(b *testing.B) {
	p := payment("20261126093000010000000000000001", codec.StatusSuccess, t0, 2)
	buf := make([]byte, 0, journal.PaymentSizeHint)
	b.ReportAllocs()
	for b.Loop() {
		buf = journal.AppendPayment(buf[:0], p)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodePayment(b *testing.B) {
	p := payment("20261126093000010000000000000001", codec.StatusSuccess, t0, 2)
	buf := journal.AppendPayment(nil, p)
	var got engine.PaymentRecord
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if err := journal.DecodePayment(buf, &got); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeRecord(b *testing.B) {
	p := payment("20261126093000010000000000000001", codec.StatusSuccess, t0, 2)
	buf := journal.AppendPayment(nil, p)
	b.ReportAllocs()
	for b.Loop() {
		var rec engine.Record
		if err := journal.DecodeRecord(buf, &rec); err != nil {
			b.Fatal(err)
		}
	}
}

// fillPebble writes n final payments updated at t0 (100 per batch).
func fillPebble(b *testing.B, j engine.Journal, n int) {
	batch := &engine.Batch{}
	for i := range n {
		batch.Payments = append(batch.Payments, payment("p"+strconv.Itoa(1e9+i), codec.StatusSuccess, t0, 2))
		if len(batch.Payments) == 100 || i == n-1 {
			if err := j.Append(context.Background(), batch, false); err != nil {
				b.Fatal(err)
			}
			batch.Payments = batch.Payments[:0]
		}
	}
	if err := j.Append(context.Background(), &engine.Batch{}, true); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLoad: recovery reads, per record (50k payments on disk).
func BenchmarkLoad(b *testing.B) {
	const n = 50000
	dir := benchDir(b)
	j, err := journal.Open(dir, journal.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	fillPebble(b, j, n)
	_ = j.Close()
	j, err = journal.Open(dir, journal.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		got := 0
		if err := j.Load(context.Background(), func(*engine.Record) error { got++; return nil }); err != nil || got != n {
			b.Fatal(got, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}

// BenchmarkCompact: removing 10k expired payments, per payment.
func BenchmarkCompact(b *testing.B) {
	const n = 10000
	j, err := journal.Open(benchDir(b), journal.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	b.ReportAllocs()
	var elapsed time.Duration
	for range b.N {
		fillPebble(b, j, n)
		start := time.Now()
		if k, err := j.Compact(context.Background(), t0.Add(time.Hour)); err != nil || k != n {
			b.Fatal(k, err)
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N)/n, "ns/payment")
}

// BenchmarkClaimPaymentRepeat measures the lookup side of the Pebble
// journal's ClaimPayment: a claim whose request key is already stored,
// so it returns the existing payment and writes nothing.
func BenchmarkClaimPaymentRepeat(b *testing.B) {
	j, _ := openBenchPebble(b)
	defer j.Close()
	pj := j.(*journal.Pebble)
	p := payment("20261126093000010000000000000001", codec.StatusProcessing, t0, 1)
	if _, err := pj.ClaimPayment(context.Background(), p); err != nil {
		b.Fatal(err)
	}
	again := payment("20261126093000010000000000000002", codec.StatusProcessing, t0, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		ex, err := pj.ClaimPayment(context.Background(), again)
		if err != nil || ex == nil {
			b.Fatalf("ClaimPayment: %v %v, want the stored payment", ex, err)
		}
	}
}

// BenchmarkPayRecords is one pay's journal work as the engine does it,
// from one goroutine: ClaimPayment of a new intent (two lookups of absent
// index keys, then a synced Append of the payment with its request, code
// and held entries) and the unsynced Append of its success (the payment,
// its age entry, the held mark's delete). "floor" is the same I/O with
// none of the journal's code: one synced Set of an intent-sized value and
// one unsynced Set of an outcome-sized value on a store opened with the
// journal's options (bench/cmd/floorserver's journal writes). On disk
// ns/op is mostly the fsync: compare instructions per op under callgrind,
// or the memfs variants (vfs.NewMem: no disk, syncs are free), whose
// ns/op is the CPU a pay's writes cost, memtable cache misses included.
func BenchmarkPayRecords(b *testing.B) {
	for _, fs := range []struct {
		name string
		dir  func(b *testing.B) (string, vfs.FS)
	}{
		{"disk", func(b *testing.B) (string, vfs.FS) { return benchDir(b), nil }},
		{"memfs", func(b *testing.B) (string, vfs.FS) { return "/journal", vfs.NewMem() }},
	} {
		b.Run("journal/"+fs.name, func(b *testing.B) {
			dir, fsys := fs.dir(b)
			benchPayRecords(b, dir, journal.Options{Logger: quiet, FS: fsys})
		})
		b.Run("floor/"+fs.name, func(b *testing.B) {
			dir, fsys := fs.dir(b)
			benchPayFloor(b, dir, journal.Options{Logger: quiet, FS: fsys})
		})
	}
}

func benchPayRecords(b *testing.B, dir string, opts journal.Options) {
	ctx := context.Background()
	j, err := journal.Open(dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	intent := payment("", codec.StatusProcessing, t0, 1)
	intent.Held = true
	outcome := payment("", codec.StatusSuccess, t0, 2)
	batch := &engine.Batch{Payments: []*engine.PaymentRecord{outcome}}
	idBuf := []byte("20261126093000010000000000000000")[:16]
	var sublevels, samples, maxSublevels int64 // L0's read amplification, every 1000 pays
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%1000 == 999 {
			n := int64(j.Metrics().Levels[0].Sublevels)
			sublevels, samples, maxSublevels = sublevels+n, samples+1, max(maxSublevels, n)
		}
		id := string(strconv.AppendInt(idBuf, 1e15+int64(i), 10))
		intent.PaymentID, intent.RequestID = id, id
		intent.CodeHash[0], intent.CodeHash[1], intent.CodeHash[2] = byte(i), byte(i>>8), byte(i>>16)
		if ex, err := j.ClaimPayment(ctx, intent); err != nil || ex != nil {
			b.Fatalf("claim %s: %v %v", id, ex, err)
		}
		outcome.PaymentID, outcome.RequestID, outcome.CodeHash = id, id, intent.CodeHash
		if err := j.Append(ctx, batch, false); err != nil {
			b.Fatal(err)
		}
	}
	if samples > 0 {
		b.ReportMetric(float64(sublevels)/float64(samples), "L0-sublevels-mean")
		b.ReportMetric(float64(maxSublevels), "L0-sublevels-max")
	}
}

func benchPayFloor(b *testing.B, dir string, opts journal.Options) {
	db, err := journal.OpenDB(dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	key := []byte("p/20261126093000010000000000000000")
	intent, outcome := make([]byte, 467-len(key)-8), make([]byte, 369-len(key)-8)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		key = strconv.AppendInt(key[:18], 1e15+int64(i), 10)
		if err := db.Set(key, intent, pebble.Sync); err != nil {
			b.Fatal(err)
		}
		if err := db.Set(key, outcome, pebble.NoSync); err != nil {
			b.Fatal(err)
		}
	}
}
