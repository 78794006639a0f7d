package journal

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/paycode/paycode/codec"
)

// TestKeyFilterPastCapacity: a journal whose key filter Open sized for
// 1,000 index keys (filterKeys) takes claims for 0.5 to 32 times that many
// keys while it runs, then again after a reopen: the share of absent keys
// the filter answers "maybe" for (each a Pebble Get) stays within
// filterFP, and every stored request and code key is in it. Before the
// filter grew online, 2 times its size gave 15.3 % and 8 times 98.0 %.
func TestKeyFilterPastCapacity(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pays  int // two index keys each
		parts int // parts the filter has after them, at least
	}{
		{"half", 250, 1},
		{"twice", 1000, 2},
		{"8x", 4000, 3},
		{"32x", 16000, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			opts := Options{FS: vfs.NewMem(), Logger: slog.New(slog.DiscardHandler), filterKeys: 1000}
			j, err := Open("/j", opts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.pays {
				p := sharedPayment(fmt.Sprintf("p%07d", i), fmt.Sprintf("r%07d", i), codec.StatusProcessing, 1)
				p.CodeHash[1], p.CodeHash[2] = byte(i), byte(i>>8)
				if ex, err := j.ClaimPayment(ctx, p); err != nil || ex != nil {
					t.Fatalf("claim %d: %v %v", i, ex, err)
				}
			}
			if _, _, parts := j.filter.stats(); parts < tc.parts {
				t.Errorf("%d parts after %d keys, want at least %d", parts, 2*tc.pays, tc.parts)
			}
			checkFilter(t, j, "ran")
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if j, err = Open("/j", opts); err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			checkFilter(t, j, "reopened")
		})
	}
}

// checkFilter fails t if a stored request or code key is not in j's
// filter, or if more than filterFP of 50,000 absent keys are "maybe".
func checkFilter(t *testing.T, j *Pebble, when string) {
	t.Helper()
	for _, prefix := range []string{prefixPayReq, prefixCodeHash} {
		it, err := j.db.NewIter(prefixBounds(prefix))
		if err != nil {
			t.Fatal(err)
		}
		for it.First(); it.Valid(); it.Next() {
			if !j.filter.mayHave(it.Key()) {
				t.Errorf("%s: stored index key %q is not in the filter", when, it.Key())
			}
		}
		_ = it.Close()
	}
	const n = 50000
	maybe := 0
	var k []byte
	for i := range n {
		k = appendReqKey(k[:0], prefixPayReq, "C1", fmt.Sprintf("absent%07d", i))
		if j.filter.mayHave(k) {
			maybe++
		}
	}
	keys, size, parts := j.filter.stats()
	rate := float64(maybe) / n
	t.Logf("%s: %.2f %% of absent keys pass the filter (%d keys, %d parts, %d bytes)", when, 100*rate, keys, parts, size)
	if rate > filterFP {
		t.Errorf("%s: %.2f %% of absent keys pass the filter, want at most %.2f %% (%d keys, %d parts, %d bytes)",
			when, 100*rate, 100*filterFP, keys, parts, size)
	}
}

// TestKeyFilterConcurrent: claims on many lanes test and add keys while
// others look keys up, and the filter grows meanwhile (first part sized
// for 64 keys): a key that was added is never reported absent, whether
// its own goroutine or another asks, during the growth or after (-race).
func TestKeyFilterConcurrent(t *testing.T) {
	var kf keyFilter
	kf.reset(64, DefaultKeyFilterMemory, slog.New(slog.DiscardHandler))
	const writers, per = 8, 3000
	key := func(g, i int) []byte { return appendReqKey(nil, prefixPayReq, "C1", fmt.Sprintf("g%d-%06d", g, i)) }
	var added [writers]atomic.Int64 // keys 0..added-1 of writer g are in
	var wg sync.WaitGroup
	var fail atomic.Value
	for g := range writers {
		wg.Go(func() {
			for i := range per {
				k := key(g, i)
				if i%3 == 0 {
					kf.add(k)
				} else {
					kf.testAndAdd(k)
				}
				added[g].Store(int64(i + 1))
				if !kf.mayHave(k) {
					fail.Store(fmt.Sprintf("writer %d: its key %d is absent right after the add", g, i))
				}
			}
		})
		wg.Go(func() { // a reader of another writer's keys
			r := rand.New(rand.NewPCG(uint64(g), 1))
			other := (g + 1) % writers
			for range per {
				n := added[other].Load()
				if n == 0 {
					continue
				}
				i := int(r.Int64N(n))
				if !kf.mayHave(key(other, i)) {
					fail.Store(fmt.Sprintf("reader %d: writer %d's key %d is absent", g, other, i))
				}
			}
		})
	}
	wg.Wait()
	if f := fail.Load(); f != nil {
		t.Fatal(f)
	}
	for g := range writers {
		for i := range per {
			if !kf.mayHave(key(g, i)) {
				t.Fatalf("writer %d's key %d is absent after all adds", g, i)
			}
		}
	}
	keys, _, parts := kf.stats()
	if parts < 6 || keys > writers*per {
		t.Errorf("%d keys in %d parts, want at most %d keys in six parts or more", keys, parts, writers*per)
	}
}

// TestKeyFilterBudget: the parts together stay within the memory budget;
// once it is spent the newest part takes every further key (its rate
// climbs, nothing is lost), and it is logged once. A budget smaller than
// the store at Open gives one part of the budget's size.
func TestKeyFilterBudget(t *testing.T) {
	for _, tc := range []struct {
		name     string
		capacity uint
		budget   uint64
		keys     int
	}{
		{"grows-then-stops", 100, 4 << 10, 20000},
		{"open-over-budget", 1 << 20, 2 << 10, 5000},
		{"within", 100, 1 << 20, 5000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			var kf keyFilter
			kf.reset(tc.capacity, tc.budget, slog.New(slog.NewTextHandler(&logs, nil)))
			key := func(i int) []byte { return appendReqKey(nil, prefixPayReq, "C1", fmt.Sprintf("k%07d", i)) }
			for i := range tc.keys {
				kf.testAndAdd(key(i))
			}
			for i := range tc.keys {
				if !kf.mayHave(key(i)) {
					t.Fatalf("key %d is absent", i)
				}
			}
			_, size, _ := kf.stats()
			if size > tc.budget {
				t.Errorf("filter takes %d bytes, budget %d", size, tc.budget)
			}
			warned := bytes.Count(logs.Bytes(), []byte("level=WARN"))
			if over := kf.full; warned != map[bool]int{false: 0, true: 1}[over] {
				t.Errorf("budget spent %v, %d warnings logged, want one if spent:\n%s", over, warned, logs.String())
			}
			if tc.name != "within" && !kf.full {
				t.Errorf("budget not spent after %d keys in %d bytes", tc.keys, size)
			}
		})
	}
}

// TestKeyFilterZero: a filter that was never sized answers "maybe" for
// every key (a lookup then asks Pebble): never a false negative.
func TestKeyFilterZero(t *testing.T) {
	var kf keyFilter
	if !kf.mayHave([]byte("q/x")) || !kf.testAndAdd([]byte("q/x")) {
		t.Fatal("an empty key filter rules a key out")
	}
	var nilFilter *keyFilter
	nilFilter.add([]byte("q/x")) // Append's writes with the filter left to the caller
}
