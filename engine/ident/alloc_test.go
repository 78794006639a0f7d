//go:build !race

// Allocation tests run without the race detector, which makes sync.Pool
// drop items at random (ristretto's Get batches live in one) and so
// allocates where a normal build does not; fasthttp excludes its own the
// same way.

package ident_test

import (
	"runtime"
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/ident"
)

// TestHitPathAllocs: answering from the cache — a route, a "no rule", or
// a code refused by class — does not allocate.
func TestHitPathAllocs(t *testing.T) {
	id, _ := newIdentifier(t, ident.Config{}, ident.NewTableSource(ident.DefaultTable()))
	for _, tt := range []struct {
		name string
		code codec.Code
	}{
		{"route", code281001},
		{"no rule", code281002},
		{"unroutable", codeWeChat},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.code
			id.Identify(ctx, &c) // warm: the miss allocates
			before := id.Stats()
			allocs := testing.AllocsPerRun(1000, func() { id.Identify(ctx, &c) })
			if allocs != 0 {
				t.Errorf("%v allocs per hit, want 0", allocs)
			}
			if after := id.Stats(); after.SourceCalls != before.SourceCalls {
				t.Fatalf("the measured calls reached the source: %+v", after)
			}
		})
	}
}

// TestHitPathAllocsAmortised states what AllocsPerRun's integer division
// hides: ristretto hands each full batch of BufferItems Get keys to its
// admission policy and starts a new slice, so hits allocate one slice per
// BufferItems calls, no more.
func TestHitPathAllocsAmortised(t *testing.T) {
	id, _ := newIdentifier(t, ident.Config{}, ident.NewTableSource(ident.DefaultTable()))
	c := code281001
	id.Identify(ctx, &c)
	const n = ident.BufferItems * 1000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		id.Identify(ctx, &c)
	}
	runtime.ReadMemStats(&after)
	mallocs := after.Mallocs - before.Mallocs
	// Slack for a GC emptying the stripe pool mid-run (a new stripe is 2
	// allocations) and for runtime bookkeeping.
	limit := uint64(n/ident.BufferItems + 64)
	if mallocs > limit {
		t.Errorf("%d allocations in %d hits, want at most %d (one per %d hits)", mallocs, n, limit, ident.BufferItems)
	}
	t.Logf("%d allocations, %d bytes in %d hits", mallocs, after.TotalAlloc-before.TotalAlloc, n)
}

func TestTableLookupAllocs(t *testing.T) {
	tb := ident.DefaultTable()
	c := code281001
	if allocs := testing.AllocsPerRun(1000, func() { tb.Lookup(&c) }); allocs != 0 {
		t.Errorf("%v allocs per Lookup, want 0", allocs)
	}
}
