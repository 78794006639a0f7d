package bench

import (
	"sync/atomic"
	"testing"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/journal"
)

// lanes is how many pays run at once in the durability benchmarks: 64
// concurrent lanes, the point where group commit must pay off.
const lanes = 64

func newJournaledAPI(b *testing.B, j engine.SharedJournal, key []byte) *httpapi.Server {
	return newJournaledAPIWallet(b, j, key, instantWallet{})
}

func newJournaledAPIWallet(b *testing.B, j engine.SharedJournal, key []byte, w engine.Wallet) *httpapi.Server {
	return newJournaledAPIConfig(b, j, key, w, nil)
}

func newJournaledAPIConfig(b *testing.B, j engine.SharedJournal, key []byte, w engine.Wallet, tweak func(*engine.Config)) *httpapi.Server {
	cfg := engine.Config{
		Wallets: map[string]engine.Wallet{"mpp-281001": w},
		Journal: j,
		CodeKey: key,
		Logger:  quietLog,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	return newEngineAPI(b, cfg, false)
}

// runParallelPays drives the lane handler from `lanes` goroutines, each
// with its own RequestCtx and body generator; every pay is new.
func runParallelPays(b *testing.B, api *httpapi.Server) {
	var seq atomic.Uint64
	b.SetParallelism((lanes + 1) / 2) // × GOMAXPROCS (2 here) goroutines
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		h := newHandlerPayer(api)
		for pb.Next() {
			h.payN(seq.Add(1))
			if !h.succeeded() {
				b.Errorf("pay answered %s", h.ctx.Response.Body())
				return
			}
		}
	})
}

// BenchmarkPayLanesMemory: 64 concurrent lanes on the in-memory journal.
func BenchmarkPayLanesMemory(b *testing.B) {
	runParallelPays(b, newJournaledAPI(b, nil, nil))
}

// BenchmarkPayLanesPebble: the same with the Pebble journal in a temp dir:
// an intent and an outcome, both synced, per pay. Compare its ns/op with
// BenchmarkPayLanesMemory from the same run for the cost of durability.
func BenchmarkPayLanesPebble(b *testing.B) {
	j, err := journal.Open(b.TempDir(), journal.Options{Logger: quietLog})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { j.Close() })
	runParallelPays(b, newJournaledAPI(b, j, j.CodeKey()))
}

// BenchmarkPayLanesPebbleAsync: Pebble with engine.asyncOutcomes, as
// serve runs by default (a success is written without waiting for its
// fsync, which the journal's background sync makes: one synced write per
// pay on the pay's path).
func BenchmarkPayLanesPebbleAsync(b *testing.B) {
	j, err := journal.Open(b.TempDir(), journal.Options{Logger: quietLog, BackgroundSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { j.Close() })
	runParallelPays(b, newJournaledAPIConfig(b, j, j.CodeKey(), instantWallet{}, func(c *engine.Config) { c.AsyncOutcomes = true }))
}

// BenchmarkPayLanesPostgres: the same 64 lanes on the shared PostgreSQL
// journal (PAYCODE_TEST_POSTGRES; skipped without it): an insert-or-fetch
// claim and a fenced outcome update, both committed synchronously, per
// pay; the lease is released in the outcome's write.
func BenchmarkPayLanesPostgres(b *testing.B) {
	j := openPostgres(b)
	runParallelPays(b, newJournaledAPI(b, j, j.CodeKey()))
}

// BenchmarkPayLanesPostgresAsync: PostgreSQL with engine.asyncOutcomes
// (the outcome's commit does not wait for the WAL flush).
func BenchmarkPayLanesPostgresAsync(b *testing.B) {
	j := openPostgres(b)
	runParallelPays(b, newJournaledAPIConfig(b, j, j.CodeKey(), instantWallet{}, func(c *engine.Config) { c.AsyncOutcomes = true }))
}

// BenchmarkPayLanesHTTPMemory and …Pebble: the whole path — lane HTTP
// over an in-memory listener, engine, connector, simulated wallet — from
// 64 lanes, without and with the journal.
func BenchmarkPayLanesHTTPMemory(b *testing.B) {
	runPayHTTP(b, newJournaledAPIWallet(b, nil, nil, simWallet(b)), lanes/2)
}

func BenchmarkPayLanesHTTPPebble(b *testing.B) {
	j, err := journal.Open(b.TempDir(), journal.Options{Logger: quietLog})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { j.Close() })
	runPayHTTP(b, newJournaledAPIWallet(b, j, j.CodeKey(), simWallet(b)), lanes/2)
}
