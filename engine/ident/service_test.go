package ident_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/ident"
)

func TestServiceHandler(t *testing.T) {
	tb := ident.DefaultTable()
	tests := []struct {
		name   string
		method string
		uri    string
		nilTab bool
		status int
		body   string
	}{
		{"route", "GET", "/v1/identify?prefix=28100102&length=24", false, 200, `{"wallet":"mpp-281001","ttlSeconds":300}`},
		{"route, 6-digit prefix", "GET", "/v1/identify?length=24&prefix=281011", false, 200, `{"wallet":"mpp-281011","ttlSeconds":300}`},
		{"legacy", "GET", "/v1/identify?prefix=28936122&length=19", false, 200, `{"wallet":"mpp-281001","ttlSeconds":300}`},
		{"no rule", "GET", "/v1/identify?prefix=28100202&length=24", false, 404, `{"wallet":"","ttlSeconds":30}`},
		{"no rule for the length", "GET", "/v1/identify?prefix=28100102&length=20", false, 404, `{"wallet":"","ttlSeconds":30}`},
		{"HEAD", "HEAD", "/v1/identify?prefix=28100102&length=24", false, 200, ``},
		{"prefix too long", "GET", "/v1/identify?prefix=281001020&length=24", false, 400, `{"error":"prefix must be 1 to 8 digits"}`},
		{"prefix missing", "GET", "/v1/identify?length=24", false, 400, `{"error":"prefix must be 1 to 8 digits"}`},
		{"prefix not digits", "GET", "/v1/identify?prefix=2810x1&length=24", false, 400, `{"error":"prefix must be 1 to 8 digits"}`},
		{"length missing", "GET", "/v1/identify?prefix=281001", false, 400, `{"error":"length must be within 16..32"}`},
		{"length 33", "GET", "/v1/identify?prefix=281001&length=33", false, 400, `{"error":"length must be within 16..32"}`},
		{"length not a number", "GET", "/v1/identify?prefix=281001&length=x", false, 400, `{"error":"length must be within 16..32"}`},
		{"POST", "POST", "/v1/identify?prefix=281001&length=24", false, 405, `{"error":"method not allowed"}`},
		{"other path", "GET", "/v1/identity?prefix=281001&length=24", false, 404, `{"error":"no such endpoint"}`},
		{"no table", "GET", "/v1/identify?prefix=281001&length=24", true, 503, `{"error":"no routing table"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := func() *ident.Table { return tb }
			if tt.nilTab {
				table = func() *ident.Table { return nil }
			}
			var latencyCalls int
			h := ident.NewServiceHandler(table, func() time.Duration { latencyCalls++; return 0 })
			var rc fasthttp.RequestCtx
			rc.Request.Header.SetMethod(tt.method)
			rc.Request.SetRequestURI(tt.uri)
			h(&rc)
			body := string(rc.Response.Body())
			if tt.method == "HEAD" {
				body = "" // fasthttp drops a HEAD body on the wire
			}
			if got := rc.Response.StatusCode(); got != tt.status || body != tt.body {
				t.Errorf("%s %s = %d %s; want %d %s", tt.method, tt.uri, got, body, tt.status, tt.body)
			}
			if ct := string(rc.Response.Header.ContentType()); ct != ident.ContentType {
				t.Errorf("Content-Type = %q", ct)
			}
			wantLatency := 0
			if tt.status == 200 || (tt.status == 404 && tt.body[2] == 'w') {
				wantLatency = 1
			}
			if latencyCalls != wantLatency {
				t.Errorf("latency called %d times, want %d", latencyCalls, wantLatency)
			}
		})
	}
}

func TestServiceClientAnswers(t *testing.T) {
	t.Parallel() // each has its own hub; a hub shutdown takes ~100ms
	tests := []struct {
		name   string
		status int
		body   string
		want   ident.Answer
		err    bool // want ErrIdentifyUnavailable
	}{
		{"route", 200, `{"wallet":"mpp-281001","ttlSeconds":300}`, ident.Answer{Wallet: "mpp-281001", TTL: 300 * time.Second}, false},
		{"route without ttl", 200, `{"wallet":"mpp-281001"}`, ident.Answer{Wallet: "mpp-281001"}, false},
		{"route, bad ttl ignored", 200, `{"wallet":"w","ttlSeconds":"soon"}`, ident.Answer{Wallet: "w"}, false},
		{"route, negative ttl ignored", 200, `{"wallet":"w","ttlSeconds":-5}`, ident.Answer{Wallet: "w"}, false},
		{"route, huge ttl capped", 200, `{"wallet":"w","ttlSeconds":9999999999999}`, ident.Answer{Wallet: "w", TTL: 24 * time.Hour}, false},
		{"no rule", 404, `{"wallet":"","ttlSeconds":30}`, ident.Answer{TTL: 30 * time.Second}, false},
		{"no rule without ttl", 404, `{"wallet":""}`, ident.Answer{}, false},
		{"plain 404: wrong URL", 404, `404 Page not found`, ident.Answer{}, true},
		{"JSON 404 without wallet", 404, `{"error":"no such endpoint"}`, ident.Answer{}, true},
		{"404 with a wallet", 404, `{"wallet":"w"}`, ident.Answer{}, true},
		{"200 with empty wallet", 200, `{"wallet":""}`, ident.Answer{}, true},
		{"200 with a bad wallet", 200, `{"wallet":"a\"b"}`, ident.Answer{}, true},
		{"200 wallet not a string", 200, `{"wallet":7}`, ident.Answer{}, true},
		{"200 not JSON", 200, `mpp-281001`, ident.Answer{}, true},
		{"200 JSON array", 200, `["mpp-281001"]`, ident.Answer{}, true},
		{"500", 500, `{"wallet":"mpp-281001"}`, ident.Answer{}, true},
		{"503", 503, `{"error":"no routing table"}`, ident.Answer{}, true},
		{"400", 400, `{"error":"prefix"}`, ident.Answer{}, true},
	}
	// One server for all cases (a fasthttp shutdown takes ~100ms): the
	// subtests run in order and each sets the reply first.
	var (
		mu     sync.Mutex
		status int
		body   string
		gotURI string
	)
	url := serve(t, func(rc *fasthttp.RequestCtx) {
		mu.Lock()
		defer mu.Unlock()
		gotURI = string(rc.RequestURI())
		rc.SetStatusCode(status)
		rc.SetBodyString(body)
	})
	c, err := ident.NewServiceClient(url, time.Second, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			status, body, gotURI = tt.status, tt.body, ""
			mu.Unlock()
			ans, err := c.Identify(ctx, []byte("28100102"), 24)
			if tt.err {
				if !errors.Is(err, engine.ErrIdentifyUnavailable) {
					t.Fatalf("err = %v, want ErrIdentifyUnavailable", err)
				}
			} else if err != nil || ans != tt.want {
				t.Fatalf("Identify = %+v, %v; want %+v", ans, err, tt.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if gotURI != "/v1/identify?prefix=28100102&length=24" {
				t.Errorf("request URI = %q", gotURI)
			}
		})
	}
}

func TestServiceClientBasePath(t *testing.T) {
	t.Parallel() // each has its own hub; a hub shutdown takes ~100ms
	var gotPath string
	url := serve(t, func(rc *fasthttp.RequestCtx) {
		gotPath = string(rc.Path())
		rc.SetStatusCode(404)
		rc.SetBodyString(`{"wallet":""}`)
	})
	c, err := ident.NewServiceClient(url+"/hub/", time.Second, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Identify(ctx, []byte("28100102"), 24); err != nil {
		t.Fatal(err)
	}
	if gotPath != "/hub/v1/identify" {
		t.Errorf("path = %q", gotPath)
	}
}

func TestNewServiceClientErrors(t *testing.T) {
	for _, u := range []string{
		"", "127.0.0.1:9300", "ftp://hub", "http://", "http://user:secret@hub", "http://hub/?q=1", "http://hub/#f", "http://[::1",
	} {
		if _, err := ident.NewServiceClient(u, time.Second, 1); err == nil {
			t.Errorf("NewServiceClient(%q) succeeded", u)
		} else if u == "http://user:secret@hub" && strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q leaks the credentials", err)
		}
	}
	if _, err := ident.NewServiceClient("http://hub", 0, 1); err == nil {
		t.Error("zero timeout accepted")
	}
	if _, err := ident.NewServiceClient("http://hub", time.Second, 0); err == nil {
		t.Error("zero connections accepted")
	}
}

// remote builds an Identifier over a ServiceClient to url.
func remote(t *testing.T, url string, cfg ident.Config) (*ident.Identifier, *manualClock) {
	t.Helper()
	clk := newManualClock()
	cfg.ServiceURL = url
	cfg.Clock = clk.Now
	id, err := ident.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { id.Close() })
	return id, clk
}

func TestRemoteConcurrentMissesOneRequest(t *testing.T) {
	t.Parallel() // each has its own hub; a hub shutdown takes ~100ms
	const n = 32
	g := newGate()
	h := startHub(t, ident.DefaultTable(), func() time.Duration { g.hold(); return 0 })
	id, _ := remote(t, h.url, ident.Config{SourceTimeout: time.Minute}) // the gate, not a timeout, ends the wait
	missTogether(t, id, g, n)
	if got := h.requests.Load(); got != 1 {
		t.Errorf("hub requests = %d, want 1", got)
	}
}

func TestRemoteTTLAndNegative(t *testing.T) {
	t.Parallel() // each has its own hub; a hub shutdown takes ~100ms
	h := startHub(t, ident.DefaultTable(), nil)
	id, clk := remote(t, h.url, ident.Config{TTL: 5 * time.Minute, NegativeTTL: 30 * time.Second, RefreshAhead: -1})
	ask := func(want string, wantErr error, wantRequests int64) {
		t.Helper()
		c := code281001
		if want == "" {
			c = code281002
		}
		w, err := id.Identify(ctx, &c)
		if w != want || !errors.Is(err, wantErr) || (err == nil) != (wantErr == nil) {
			t.Fatalf("Identify = %q, %v; want %q, %v", w, err, want, wantErr)
		}
		if got := h.requests.Load(); got != wantRequests {
			t.Fatalf("hub requests = %d, want %d", got, wantRequests)
		}
	}
	ask("mpp-281001", nil, 1)
	ask("mpp-281001", nil, 1)
	ask("", engine.ErrNoIssuer, 2)
	ask("", engine.ErrNoIssuer, 2) // negative cached
	clk.Advance(30 * time.Second)
	ask("", engine.ErrNoIssuer, 3) // negative TTL over
	ask("mpp-281001", nil, 3)
	clk.Advance(4*time.Minute + 30*time.Second)
	ask("mpp-281001", nil, 4) // TTL over
	ask("mpp-281001", nil, 4)
}

func TestRemoteReloadDropsCache(t *testing.T) {
	t.Parallel() // each has its own hub; a hub shutdown takes ~100ms
	h := startHub(t, ident.DefaultTable(), nil)
	id, _ := remote(t, h.url, ident.Config{})
	id.Identify(ctx, &code281001)
	h.table.Store(mustTable(t, ident.Rule{Prefix: "281001", Wallet: "moved", Lengths: []int{24}}))
	if w, _ := id.Identify(ctx, &code281001); w != "mpp-281001" {
		t.Fatalf("before Reload = %q, want the cached answer", w)
	}
	if err := id.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if w, _ := id.Identify(ctx, &code281001); w != "moved" {
		t.Errorf("after Reload = %q, want moved", w)
	}
	if got := h.requests.Load(); got != 2 {
		t.Errorf("hub requests = %d, want 2", got)
	}
}

func TestRemoteReloadRacingMiss(t *testing.T) {
	t.Parallel() // each has its own hub; a hub shutdown takes ~100ms
	g := newGate()
	h := startHub(t, mustTable(t, ident.Rule{Prefix: "281001", Wallet: "old", Lengths: []int{24}}),
		func() time.Duration { g.hold(); return 0 })
	id, _ := remote(t, h.url, ident.Config{SourceTimeout: time.Minute})
	before := make(chan string, 1)
	go func() {
		w, _ := id.Identify(ctx, &code281001)
		before <- w
	}()
	<-g.entered // the hub decided "old"; the reply is held
	h.table.Store(mustTable(t, ident.Rule{Prefix: "281001", Wallet: "new", Lengths: []int{24}}))
	if err := id.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	g.release <- struct{}{}
	if w := <-before; w != "old" {
		t.Fatalf("in-flight answer = %q, want old", w)
	}
	g2 := make(chan struct{})
	go func() { // serve the next request without holding it
		for {
			select {
			case <-g.entered:
				g.release <- struct{}{}
			case <-g2:
				return
			}
		}
	}()
	defer close(g2)
	for range 2 {
		if w, _ := id.Identify(ctx, &code281001); w != "new" {
			t.Fatalf("after the race = %q, want new: the stale answer was cached", w)
		}
	}
	if got := h.requests.Load(); got != 2 {
		t.Errorf("hub requests = %d, want 2", got)
	}
}

func TestRemoteDown(t *testing.T) {
	t.Parallel() // each has its own hub; a hub shutdown takes ~100ms
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	id, _ := remote(t, url, ident.Config{})
	for i := range 2 {
		_, err := id.Identify(ctx, &code281001)
		if !errors.Is(err, engine.ErrIdentifyUnavailable) {
			t.Fatalf("call %d: err = %v, want ErrIdentifyUnavailable", i, err)
		}
		assertNoCode(t, err, code281001)
	}
	if st := id.Stats(); st.SourceCalls != 2 || st.SourceErrors != 2 {
		t.Errorf("stats = %+v, want 2 source calls, both failed: failures are not cached", st)
	}
}

func TestRemoteTimeout(t *testing.T) {
	t.Parallel() // each has its own hub; a hub shutdown takes ~100ms
	stop := make(chan struct{})
	h := startHub(t, ident.DefaultTable(), func() time.Duration { <-stop; return 0 })
	t.Cleanup(func() { close(stop) }) // runs before the hub shuts down
	id, _ := remote(t, h.url, ident.Config{SourceTimeout: 50 * time.Millisecond})
	for i := range 2 {
		if _, err := id.Identify(ctx, &code281001); !errors.Is(err, engine.ErrIdentifyUnavailable) {
			t.Fatalf("call %d: err = %v, want ErrIdentifyUnavailable", i, err)
		}
	}
	if st := id.Stats(); st.SourceCalls != 2 {
		t.Errorf("source calls = %d, want 2: a timeout is not cached", st.SourceCalls)
	}
}

func TestRemoteCallerDeadline(t *testing.T) {
	t.Parallel() // each has its own hub; a hub shutdown takes ~100ms
	g := newGate()
	h := startHub(t, ident.DefaultTable(), func() time.Duration { g.hold(); return 0 })
	id, _ := remote(t, h.url, ident.Config{SourceTimeout: time.Minute})
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := id.Identify(cctx, &code281001)
		done <- err
	}()
	<-g.entered
	cancel()
	if err := <-done; !errors.Is(err, engine.ErrIdentifyUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	g.release <- struct{}{}
	id.WaitBackground()
	if w, err := id.Identify(ctx, &code281001); w != "mpp-281001" || err != nil {
		t.Errorf("after the abandoned flight = %q, %v", w, err)
	}
	if got := h.requests.Load(); got != 1 {
		t.Errorf("hub requests = %d, want 1", got)
	}
}
