package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/admin"
	"github.com/paycode/paycode/engine/mpp"
	"github.com/paycode/paycode/engine/server"
)

// TestStatusBreakerOpens: a wallet answering 503 trips its breaker after
// mpp.DefaultBreakerConsecutive pays; the next pay is not sent (the wallet
// sees nothing), the engine queues its close at once, and that cancel
// fails fast too, staying queued for later; /metrics and /status.json
// show the breaker open and the backlog.
func TestStatusBreakerOpens(t *testing.T) {
	var hits atomic.Int64
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wallet := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		hits.Add(1)
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
	}}
	go wallet.Serve(wl)
	t.Cleanup(func() { wallet.Shutdown() })

	st, err := server.Start(server.Config{NoDecoder: true, Logger: slog.New(slog.DiscardHandler),
		Wallets: []server.WalletConfig{{Name: "mpp-281001", URL: "http://" + wl.Addr().String(), Timeout: 2 * time.Second}}},
		server.ManualFollowUps())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	adminURL := serveAdmin(t, st)

	n := time.Now().UnixNano() % 1e12
	for i := range mpp.DefaultBreakerConsecutive {
		got := lanePay(t, st.URL(), fmt.Sprintf("b-%d-%d", n, i), fmt.Sprintf("281001%016d00", n+int64(i)))
		if strings.Contains(got, `"resultStatus":"S"`) {
			t.Fatalf("pay %d against a failing wallet: %s", i, got)
		}
	}
	if s := st.Wallets["mpp-281001"].BreakerState(); s != mpp.BreakerOpen {
		t.Fatalf("breaker %v after %d failures, want open", s, mpp.DefaultBreakerConsecutive)
	}
	before := hits.Load()
	got := lanePay(t, st.URL(), fmt.Sprintf("b-%d-open", n), fmt.Sprintf("281001%016d00", n+100))
	// Not sent, so nothing can be charged: FAIL at once.
	if !strings.Contains(got, `"resultCode":"PROCESS_FAIL","resultStatus":"F"`) {
		t.Fatalf("pay with the breaker open: %s, want PROCESS_FAIL (F)", got)
	}
	// The follow-ups of the earlier pays (their outcome is unknown) are
	// refused by the open breaker too, and stay queued for a later try.
	st.Engine.ProcessDue(context.Background())
	if hits.Load() != before {
		t.Fatal("the wallet got a call although its breaker was open")
	}
	_, body := get(t, adminURL+"/metrics")
	_, vals := scrape(t, body)
	if v := vals[`paycode_wallet_breaker_state{wallet="mpp-281001"}`]; v != "2" {
		t.Errorf("breaker_state gauge %q, want 2", v)
	}
	if v := vals[`paycode_wallet_errors_total{kind="breaker_open",op="pay",wallet="mpp-281001"}`]; v != "1" {
		t.Errorf("breaker_open errors %q, want 1", v)
	}
	if code, body := get(t, adminURL+"/readyz"); code != 503 || !strings.Contains(body, "no wallet reachable") {
		t.Errorf("/readyz with the only wallet's breaker open: %d %q, want 503", code, body)
	}
	if v := vals[`paycode_wallet_errors_total{kind="http",op="pay",wallet="mpp-281001"}`]; v != fmt.Sprint(mpp.DefaultBreakerConsecutive) {
		t.Errorf("http errors %q, want %d", v, mpp.DefaultBreakerConsecutive)
	}
	_, body = get(t, adminURL+"/status.json")
	var s admin.Snapshot
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Wallets) == 0 || s.Wallets[0].Name != "mpp-281001" || s.Wallets[0].Breaker != "open" {
		t.Fatalf("status wallets %+v, want mpp-281001 open", s.Wallets)
	}
	if s.FollowUps < mpp.DefaultBreakerConsecutive {
		t.Fatalf("follow-up backlog %d, want at least %d", s.FollowUps, mpp.DefaultBreakerConsecutive)
	}
	t.Logf("pay with the breaker open: %s", got)
}
