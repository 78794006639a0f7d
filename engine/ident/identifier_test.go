package ident_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/ident"
)

var ctx = context.Background()

func TestIdentify(t *testing.T) {
	tests := []struct {
		name       string
		code       codec.Code
		wallet     string
		err        error // engine sentinel
		askSource  bool
		unroutable bool
	}{
		{"281001", code281001, "mpp-281001", nil, true, false},
		{"281003", code281003, "mpp-281003", nil, true, false},
		{"281010, BTI 89", code281010, "mpp-281010", nil, true, false},
		{"281011", code281011, "mpp-281011", nil, true, false},
		{"routing number nobody owns", code281002, "", engine.ErrNoIssuer, true, false},
		{"legacy 17", codeLegacy17, "mpp-281001", nil, true, false},
		{"legacy 18", codeLegacy18, "mpp-281001", nil, true, false},
		{"legacy 19 (289...)", codeLegacy19, "mpp-281001", nil, true, false},
		{"AlipayCN bucket, no rule", codeAlipayCN, "", engine.ErrNoIssuer, true, false},
		{"WeChat Pay", codeWeChat, "", engine.ErrNoIssuer, false, true},
		{"reserved length 20", codeLen20, "", engine.ErrNoIssuer, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newStub(ident.DefaultTable())
			id, _ := newIdentifier(t, ident.Config{}, src)
			for round := range 2 { // the second round is answered by the cache
				w, err := id.Identify(ctx, &tt.code)
				if w != tt.wallet || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
					t.Fatalf("round %d: Identify = %q, %v; want %q, %v", round, w, err, tt.wallet, tt.err)
				}
				assertNoCode(t, err, tt.code)
			}
			wantCalls := int64(0)
			if tt.askSource {
				wantCalls = 1
			}
			if got := src.calls.Load(); got != wantCalls {
				t.Errorf("source calls = %d, want %d", got, wantCalls)
			}
			st := id.Stats()
			switch {
			case tt.unroutable:
				if _, ok := errorAs[*ident.UnroutableError](t, id, tt.code); !ok {
					t.Error("want an UnroutableError")
				}
				if st.Unroutable != 2 || st.Misses != 0 {
					t.Errorf("stats = %+v, want 2 unroutable and no misses", st)
				}
			case tt.err != nil:
				nr, ok := errorAs[*ident.NoRuleError](t, id, tt.code)
				if !ok || nr.Prefix != string(tt.code.Prefix(8)) || nr.Length != tt.code.Len() {
					t.Errorf("NoRuleError = %+v, want prefix %s length %d", nr, tt.code.Prefix(8), tt.code.Len())
				}
				if st.Misses != 1 || st.NegativeHits < 1 || st.Hits != 0 {
					t.Errorf("stats = %+v, want 1 miss then negative hits", st)
				}
			default:
				if st.Misses != 1 || st.Hits != 1 || st.SourceCalls != 1 {
					t.Errorf("stats = %+v, want 1 miss, 1 hit, 1 source call", st)
				}
			}
		})
	}
}

// errorAs identifies c again and extracts a T from the error.
func errorAs[T error](t *testing.T, id *ident.Identifier, c codec.Code) (T, bool) {
	t.Helper()
	_, err := id.Identify(ctx, &c)
	return errors.AsType[T](err)
}

// TestCacheKeyIncludesLength: two codes sharing their first 8 digits but
// not their length may route differently, so they must not share an entry.
func TestCacheKeyIncludesLength(t *testing.T) {
	src := newStub(mustTable(t,
		ident.Rule{Prefix: "28", Wallet: "legacy", Lengths: []int{18}},
		ident.Rule{Prefix: "281001", Wallet: "mainstream", Lengths: []int{24}},
	))
	id, _ := newIdentifier(t, ident.Config{}, src)
	short := mustCode("28100102" + "0123456789")      // 18 digits
	long := mustCode("28100102" + "0123456789012345") // 24 digits
	for range 2 {
		for _, tt := range []struct {
			c    codec.Code
			want string
		}{{short, "legacy"}, {long, "mainstream"}} {
			if w, err := id.Identify(ctx, &tt.c); w != tt.want || err != nil {
				t.Errorf("Identify(%v) = %q, %v; want %q", tt.c, w, err, tt.want)
			}
		}
	}
	if got := src.calls.Load(); got != 2 {
		t.Errorf("source calls = %d, want 2 (one per key)", got)
	}
}

func TestTTL(t *testing.T) {
	src := newStub(ident.DefaultTable())
	id, clk := newIdentifier(t, ident.Config{TTL: time.Minute, NegativeTTL: 10 * time.Second, RefreshAhead: -1}, src)
	ask := func(c codec.Code, wantCalls int64) {
		t.Helper()
		id.Identify(ctx, &c)
		if got := src.calls.Load(); got != wantCalls {
			t.Fatalf("at +%v: source calls = %d, want %d", clk.Now().Sub(clk.base), got, wantCalls)
		}
	}
	ask(code281001, 1)
	ask(code281002, 2) // negative
	clk.Advance(10*time.Second - 1)
	ask(code281001, 2)
	ask(code281002, 2) // negative entry still fresh
	clk.Advance(1)
	ask(code281002, 3) // negative expired at NegativeTTL
	ask(code281001, 3) // positive still fresh
	clk.Advance(50 * time.Second)
	ask(code281001, 4) // positive expired at TTL
	ask(code281001, 4)
}

func TestTTLHintShortensOnly(t *testing.T) {
	src := &hintSource{ttl: 10 * time.Second}
	id, clk := newIdentifier(t, ident.Config{TTL: time.Minute, RefreshAhead: -1}, src)
	id.Identify(ctx, &code281001)
	clk.Advance(10 * time.Second)
	id.Identify(ctx, &code281001)
	if src.calls != 2 {
		t.Fatalf("a 10s hint under a 1m TTL: source calls = %d, want 2", src.calls)
	}
	src.ttl = time.Hour // longer than TTL: ignored
	clk.Advance(10 * time.Second)
	id.Identify(ctx, &code281001) // the 10s entry expired
	clk.Advance(time.Minute)
	id.Identify(ctx, &code281001)
	if src.calls != 4 {
		t.Errorf("a 1h hint over a 1m TTL: source calls = %d, want 4", src.calls)
	}
}

// hintSource answers every code with a wallet and a TTL hint. Not safe
// for concurrent use; its test calls Identify sequentially.
type hintSource struct {
	ttl   time.Duration
	calls int
}

func (s *hintSource) Identify(context.Context, []byte, int) (ident.Answer, error) {
	s.calls++
	return ident.Answer{Wallet: "w", TTL: s.ttl}, nil
}

func TestRefreshAhead(t *testing.T) {
	src := newStub(mustTable(t, ident.Rule{Prefix: "281001", Wallet: "old", Lengths: []int{24}}))
	g := newGate()
	id, clk := newIdentifier(t, ident.Config{TTL: 100 * time.Second, RefreshAhead: 20 * time.Second}, src)
	if w, _ := id.Identify(ctx, &code281001); w != "old" {
		t.Fatalf("first Identify = %q", w)
	}
	clk.Advance(80*time.Second - 1)
	id.Identify(ctx, &code281001)
	if src.calls.Load() != 1 || id.Stats().Refreshes != 0 {
		t.Fatalf("before the window: calls %d, stats %+v", src.calls.Load(), id.Stats())
	}

	// In the window: the hit answers from the cache while the refresh it
	// starts is held in the source.
	src.table.Store(mustTable(t, ident.Rule{Prefix: "281001", Wallet: "new", Lengths: []int{24}}))
	src.hold = g.hold
	clk.Advance(1)
	if w, err := id.Identify(ctx, &code281001); w != "old" || err != nil {
		t.Fatalf("hit in the refresh window = %q, %v; want the cached answer", w, err)
	}
	<-g.entered // the refresh is in the source
	if w, _ := id.Identify(ctx, &code281001); w != "old" {
		t.Fatalf("second hit while refreshing = %q", w)
	}
	if st := id.Stats(); st.Refreshes != 1 {
		t.Fatalf("refreshes = %d, want 1 (one refresher per entry)", st.Refreshes)
	}
	g.release <- struct{}{}
	id.WaitBackground()
	src.hold = nil

	if w, _ := id.Identify(ctx, &code281001); w != "new" {
		t.Errorf("after the refresh = %q, want new", w)
	}
	// The refreshed entry lives a full TTL from the refresh.
	clk.Advance(79 * time.Second)
	id.Identify(ctx, &code281001)
	if got := src.calls.Load(); got != 2 {
		t.Errorf("source calls = %d, want 2", got)
	}
	if st := id.Stats(); st.Misses != 1 {
		t.Errorf("misses = %d, want 1: a hot prefix never waits", st.Misses)
	}
}

func TestRefreshFailureServesUntilExpiry(t *testing.T) {
	src := newStub(ident.DefaultTable())
	id, clk := newIdentifier(t, ident.Config{TTL: 100 * time.Second, RefreshAhead: 20 * time.Second}, src)
	id.Identify(ctx, &code281001)
	src.fail(errors.New("hub down"))

	clk.Advance(80 * time.Second)
	if w, err := id.Identify(ctx, &code281001); w != "mpp-281001" || err != nil {
		t.Fatalf("hit with a failing refresh = %q, %v", w, err)
	}
	id.WaitBackground()
	// The next attempt waits RefreshAhead/4 = 5s.
	clk.Advance(5*time.Second - 1)
	id.Identify(ctx, &code281001)
	id.WaitBackground()
	if got := src.calls.Load(); got != 2 {
		t.Fatalf("source calls = %d, want 2 (no retry before 5s)", got)
	}
	clk.Advance(1)
	id.Identify(ctx, &code281001)
	id.WaitBackground()
	if got := src.calls.Load(); got != 3 {
		t.Fatalf("source calls = %d, want 3 (retry after 5s)", got)
	}
	// Past the TTL the stale route is gone and the failure shows.
	clk.Advance(15 * time.Second)
	if _, err := id.Identify(ctx, &code281001); !errors.Is(err, engine.ErrIdentifyUnavailable) {
		t.Fatalf("after expiry with the source down: err = %v", err)
	}
	src.heal()
	if w, err := id.Identify(ctx, &code281001); w != "mpp-281001" || err != nil {
		t.Errorf("after the source heals = %q, %v", w, err)
	}
}

func TestSourceErrorNotCached(t *testing.T) {
	src := newStub(ident.DefaultTable())
	src.fail(errors.New("connection refused"))
	id, _ := newIdentifier(t, ident.Config{}, src)
	for i := range 2 {
		_, err := id.Identify(ctx, &code281001)
		if !errors.Is(err, engine.ErrIdentifyUnavailable) || errors.Is(err, engine.ErrNoIssuer) {
			t.Fatalf("call %d: err = %v, want only ErrIdentifyUnavailable", i, err)
		}
		assertNoCode(t, err, code281001)
	}
	if got := src.calls.Load(); got != 2 {
		t.Errorf("source calls = %d, want 2: failures are not cached", got)
	}
	if st := id.Stats(); st.SourceErrors != 2 {
		t.Errorf("stats = %+v, want 2 source errors", st)
	}
	src.heal()
	if w, err := id.Identify(ctx, &code281001); w != "mpp-281001" || err != nil {
		t.Errorf("after healing = %q, %v", w, err)
	}
}

func TestConcurrentMissesAskOnce(t *testing.T) {
	const n = 32
	src := newStub(ident.DefaultTable())
	g := newGate()
	src.hold = g.hold
	id, _ := newIdentifier(t, ident.Config{}, src)
	missTogether(t, id, g, n)
	if got := src.calls.Load(); got != 1 {
		t.Errorf("source calls = %d, want 1", got)
	}
}

func TestCallerGivesUpFlightCompletes(t *testing.T) {
	src := newStub(ident.DefaultTable())
	g := newGate()
	src.hold = g.hold
	id, _ := newIdentifier(t, ident.Config{}, src)

	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := id.Identify(cctx, &code281001)
		done <- err
	}()
	<-g.entered
	cancel()
	err := <-done
	if !errors.Is(err, engine.ErrIdentifyUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrIdentifyUnavailable and context.Canceled", err)
	}
	g.release <- struct{}{}
	id.WaitBackground()
	src.hold = nil
	if w, err := id.Identify(ctx, &code281001); w != "mpp-281001" || err != nil {
		t.Errorf("after the flight finished = %q, %v", w, err)
	}
	if got := src.calls.Load(); got != 1 {
		t.Errorf("source calls = %d, want 1: the abandoned flight filled the cache", got)
	}
}

func TestReloadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "routing.yaml")
	write := func(doc string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`rules: [{prefix: "281001", wallet: first, lengths: [24]}]`)
	clk := newManualClock()
	id, err := ident.New(ident.Config{RulesFile: path, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	expect := func(want string) {
		t.Helper()
		if w, err := id.Identify(ctx, &code281001); w != want || err != nil {
			t.Fatalf("Identify = %q, %v; want %q", w, err, want)
		}
	}
	expect("first")
	write(`rules: [{prefix: "281001", wallet: second, lengths: [24]}]`)
	expect("first") // cached: the file is only read on Reload
	if err := id.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	expect("second")

	write(`rules: [{prefix: "281001", wallet: third, lengths: [24]}, {prefix: "281001", wallet: dup, lengths: [24]}]`)
	err = id.Reload(ctx)
	if !errors.Is(err, ident.ErrDuplicateRule) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Reload of a bad file = %v, want ErrDuplicateRule naming the file", err)
	}
	expect("second")
	clk.Advance(time.Hour) // even uncached, the old rules answer
	expect("second")
	if st := id.Stats(); st.Reloads != 1 {
		t.Errorf("reloads = %d, want 1", st.Reloads)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := id.Reload(ctx); err == nil {
		t.Error("Reload of a missing file succeeded")
	}
	expect("second")
}

// TestReloadRacingMiss: a flight that began before a Reload returns its
// answer to its callers but never leaves it in the cache, and callers after
// the Reload do not join it.
func TestReloadRacingMiss(t *testing.T) {
	src := newStub(mustTable(t, ident.Rule{Prefix: "281001", Wallet: "old", Lengths: []int{24}}))
	g := newGate()
	src.hold = g.hold
	id, _ := newIdentifier(t, ident.Config{}, src)

	type result struct {
		w   string
		err error
	}
	before, after := make(chan result, 1), make(chan result, 1)
	go func() {
		w, err := id.Identify(ctx, &code281001)
		before <- result{w, err}
	}()
	<-g.entered // the old answer is decided and in flight

	src.table.Store(mustTable(t, ident.Rule{Prefix: "281001", Wallet: "new", Lengths: []int{24}}))
	if err := id.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	go func() {
		w, err := id.Identify(ctx, &code281001)
		after <- result{w, err}
	}()
	<-g.entered // a second flight: the new caller did not join the old one

	g.release <- struct{}{}
	g.release <- struct{}{}
	if r := <-after; r.w != "new" || r.err != nil {
		t.Errorf("caller after the reload = %q, %v; want new", r.w, r.err)
	}
	if r := <-before; r.w != "old" || r.err != nil {
		t.Errorf("caller before the reload = %q, %v; want its in-flight answer", r.w, r.err)
	}
	src.hold = nil
	for range 2 {
		if w, _ := id.Identify(ctx, &code281001); w != "new" {
			t.Fatalf("cached answer after the race = %q, want new", w)
		}
	}
	if got := src.calls.Load(); got != 2 {
		t.Errorf("source calls = %d, want 2", got)
	}
}

// TestReloadStaleFlightFinishesLast orders the race the other way: the
// pre-reload flight stores after the reload; its answer must be dropped.
func TestReloadStaleFlightFinishesLast(t *testing.T) {
	src := newStub(mustTable(t, ident.Rule{Prefix: "281001", Wallet: "old", Lengths: []int{24}}))
	g := newGate()
	src.hold = g.hold
	id, _ := newIdentifier(t, ident.Config{}, src)
	done := make(chan string, 1)
	go func() {
		w, _ := id.Identify(ctx, &code281001)
		done <- w
	}()
	<-g.entered
	src.table.Store(mustTable(t, ident.Rule{Prefix: "281001", Wallet: "new", Lengths: []int{24}}))
	if err := id.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	g.release <- struct{}{}
	if w := <-done; w != "old" {
		t.Fatalf("in-flight answer = %q", w)
	}
	src.hold = nil
	if w, _ := id.Identify(ctx, &code281001); w != "new" {
		t.Errorf("after the stale flight finished = %q, want new", w)
	}
}

func TestClose(t *testing.T) {
	id, err := ident.New(ident.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if w, err := id.Identify(ctx, &code281001); w != "mpp-281001" || err != nil {
		t.Fatalf("Identify = %q, %v", w, err)
	}
	if err := id.Close(); err != nil {
		t.Fatal(err)
	}
	if err := id.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := id.Identify(ctx, &code281001); !errors.Is(err, engine.ErrIdentifyUnavailable) {
		t.Errorf("Identify after Close = %v", err)
	}
	if err := id.Reload(ctx); !errors.Is(err, engine.ErrIdentifyUnavailable) {
		t.Errorf("Reload after Close = %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := ident.New(ident.Config{RulesFile: filepath.Join(t.TempDir(), "none.yaml")}); err == nil {
		t.Error("New with a missing rules file succeeded")
	}
	if _, err := ident.New(ident.Config{TTL: -time.Second}); err == nil {
		t.Error("New with a negative TTL succeeded")
	}
	if _, err := ident.NewWithSource(ident.Config{}, nil); err == nil {
		t.Error("NewWithSource(nil) succeeded")
	}
}

// TestReloadUnderLoad runs hits and misses on several goroutines while
// reloads swap the rules back and forth: no race (under -race), every
// answer comes from one of the two tables, and once the last reload has
// returned every answer is the last table's.
func TestReloadUnderLoad(t *testing.T) {
	tables := [2]*ident.Table{
		mustTable(t, ident.Rule{Prefix: "2810", Wallet: "even", Lengths: []int{24}}, ident.Rule{Prefix: "28", Wallet: "even-legacy", Lengths: []int{17, 18, 19}}),
		mustTable(t, ident.Rule{Prefix: "2810", Wallet: "odd", Lengths: []int{24}}, ident.Rule{Prefix: "28", Wallet: "odd-legacy", Lengths: []int{17, 18, 19}}),
	}
	allowed := map[string]bool{"even": true, "odd": true, "even-legacy": true, "odd-legacy": true}
	src := newStub(tables[0])
	id, _ := newIdentifier(t, ident.Config{}, src)
	codes := []codec.Code{code281001, code281003, code281010, code281011, codeLegacy17, codeLegacy19}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := codes[i%len(codes)]
				if w, err := id.Identify(ctx, &c); err != nil || !allowed[w] {
					select {
					case errs <- w + " " + errString(err):
					default:
					}
					return
				}
			}
		}()
	}
	const reloads = 200
	for i := 1; i <= reloads; i++ {
		src.table.Store(tables[i%2])
		if err := id.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("bad answer under reload: %s", e)
	}
	for i := range codes {
		w, err := id.Identify(ctx, &codes[i])
		if err != nil || !strings.HasPrefix(w, "even") { // reloads is even: tables[0]
			t.Errorf("after the last reload: %v -> %q, %v", codes[i], w, err)
		}
	}
	if st := id.Stats(); st.Reloads != reloads {
		t.Errorf("reloads = %d, want %d", st.Reloads, reloads)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
