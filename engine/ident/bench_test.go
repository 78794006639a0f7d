package ident_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/ristretto/v2"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/ident"
)

// benchIdentifier is an Identifier with the production defaults (a 100k
// entry cache, the real clock) over the default table.
func benchIdentifier(b *testing.B) *ident.Identifier {
	b.Helper()
	id, err := ident.NewWithSource(ident.Config{}, ident.NewTableSource(ident.DefaultTable()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { id.Close() })
	return id
}

func BenchmarkIdentifyHit(b *testing.B) {
	id := benchIdentifier(b)
	c := code281001
	if _, err := id.Identify(ctx, &c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		id.Identify(ctx, &c)
	}
	if st := id.Stats(); st.SourceCalls != 1 {
		b.Fatalf("the loop missed: %+v", st)
	}
}

func BenchmarkIdentifyHitParallel(b *testing.B) {
	id := benchIdentifier(b)
	codes := []codec.Code{code281001, code281003, code281010, code281011, codeLegacy19}
	for i := range codes {
		if _, err := id.Identify(ctx, &codes[i]); err != nil {
			b.Fatal(err)
		}
	}
	var worker atomic.Uint32
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := codes[int(worker.Add(1))%len(codes)] // each goroutine its own copy
		for pb.Next() {
			id.Identify(ctx, &c)
		}
	})
	b.StopTimer()
	if st := id.Stats(); st.SourceCalls != uint64(len(codes)) {
		b.Fatalf("the loop missed: %+v", st)
	}
}

func BenchmarkTableLookup(b *testing.B) {
	tb := ident.DefaultTable()
	for _, bc := range []struct {
		name string
		code codec.Code
	}{
		{"6-digit", code281001},
		{"2-digit legacy", codeLegacy19},
		{"miss", code281002},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := bc.code
			b.ReportAllocs()
			for b.Loop() {
				tb.Lookup(&c)
			}
		})
	}
}

// BenchmarkIdentifyMiss is the full miss path over an in-memory source:
// flight, source lookup, entry, ristretto Set and Wait. Every iteration
// misses: the code cycles through a million distinct keys and the clock
// moves past the TTL each time, so a key seen before has expired.
func BenchmarkIdentifyMiss(b *testing.B) {
	clk := newManualClock()
	id, err := ident.NewWithSource(ident.Config{Clock: clk.Now, RefreshAhead: -1}, ident.NewTableSource(ident.DefaultTable()))
	if err != nil {
		b.Fatal(err)
	}
	defer id.Close()
	digits := []byte("281001" + "00" + "0123456789012345")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// Vary digits 3-8 (keys differ; some route, most do not).
		n := i % 1_000_000
		for j := 7; j >= 2; j-- {
			digits[j] = byte('0' + n%10)
			n /= 10
		}
		i++
		c, err := codec.ParseCode(digits)
		if err != nil {
			b.Fatal(err)
		}
		clk.Advance(time.Hour)
		id.Identify(ctx, &c)
	}
	b.StopTimer()
	if st := id.Stats(); st.Hits+st.NegativeHits != 0 {
		b.Fatalf("some iterations hit: %+v", st)
	}
}

// BenchmarkCacheSet measures what the miss path's cache.Wait costs on top
// of ristretto's buffered Set of a new key.
func BenchmarkCacheSet(b *testing.B) {
	for _, wait := range []bool{false, true} {
		b.Run("wait="+strconv.FormatBool(wait), func(b *testing.B) {
			cache, err := ristretto.NewCache(&ristretto.Config[uint64, string]{
				NumCounters: 1_000_000, MaxCost: 100_000, BufferItems: 64, IgnoreInternalCost: true,
			})
			if err != nil {
				b.Fatal(err)
			}
			defer cache.Close()
			b.ReportAllocs()
			k := uint64(0)
			for b.Loop() {
				k++
				if cache.Set(k, "w", 1) && wait {
					cache.Wait()
				}
			}
		})
	}
}

// BenchmarkServiceRoundTrip is one ServiceClient call to the real handler
// over loopback: the cost of a remote miss without the cache.
func BenchmarkServiceRoundTrip(b *testing.B) {
	h := startHub(b, ident.DefaultTable(), nil)
	// A generous timeout: a benchmark on a busy machine must not fail
	// on one stalled round trip.
	c, err := ident.NewServiceClient(h.url, 10*time.Second, 4)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	digits := []byte("28100102")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Identify(ctx, digits, 24); err != nil {
			b.Fatal(err)
		}
	}
}
