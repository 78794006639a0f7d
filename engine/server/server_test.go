package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/engine/server"
)

// wallet serves a wallet that answers every pay with S, on loopback.
func wallet(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"result":{"resultStatus":"S","resultCode":"SUCCESS","resultMessage":"ok"},"paymentId":"w1","paymentTime":"2026-12-06T10:00:00Z","paymentAmount":{"currency":"HKD","value":"100"}}`)
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestStartAdminShutdown: a node with an admin listener serves
// /admin/wallets and /admin/stats as JSON (wallet URLs carry no
// credentials: the wallet client refuses user-info), not the command line (/debug/pprof/cmdline: flags may carry
// a DSN or a token), drains on Shutdown (/readyz 503 is observable
// through the node being closed), and closes its journal.
func TestStartAdminShutdown(t *testing.T) {
	url := wallet(t)
	j := journal.NewMem()
	n, err := server.Start(server.Config{
		Admin:   "127.0.0.1:0",
		Wallets: []server.WalletConfig{{Name: "mpp-281001", URL: url}, {Name: "other", URL: "http://127.0.0.1:1", Simulated: true}},
		Journal: j, NoDecoder: true, Logger: slog.New(slog.DiscardHandler), Version: "test-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	admin := n.AdminURL()
	if admin == "" {
		t.Fatal("no admin URL")
	}
	code, body := get(t, admin+"/admin/wallets")
	if code != 200 {
		t.Fatalf("/admin/wallets: %d %s", code, body)
	}
	var ws server.Wallets
	if err := json.Unmarshal(body, &ws); err != nil {
		t.Fatalf("/admin/wallets is not JSON: %v: %s", err, body)
	}
	if len(ws.Wallets) != 2 {
		t.Fatalf("wallets: %s", body)
	}
	w0, w1 := ws.Wallets[0], ws.Wallets[1]
	if w0.Name != "mpp-281001" || w0.URL != url || w0.Simulated || strings.Join(w0.Prefixes, ",") != "281001,28" {
		t.Errorf("first wallet: %+v", w0)
	}
	if w1.Name != "other" || !w1.Simulated || len(w1.Prefixes) != 0 {
		t.Errorf("second wallet: %+v", w1)
	}
	if code, body := get(t, admin+"/debug/pprof/cmdline"); code != 404 {
		t.Errorf("/debug/pprof/cmdline: %d %s, want 404 (the command line may carry secrets)", code, body)
	}
	if code, _ := get(t, admin+"/debug/pprof/"); code != 200 {
		t.Errorf("/debug/pprof/: %d, want 200", code)
	}
	if !strings.Contains(string(body), `"prefixes":[]`) {
		t.Errorf("a wallet without prefixes should list [], not null: %s", body)
	}

	code, body = get(t, admin+"/admin/stats")
	var st map[string]any
	if code != 200 || json.Unmarshal(body, &st) != nil {
		t.Fatalf("/admin/stats: %d %s", code, body)
	}
	if _, ok := st["ident"].(map[string]any); !ok {
		t.Errorf("/admin/stats ident is not an object: %s", body)
	}
	if _, body = get(t, admin+"/version"); string(body) != "test-1\n" {
		t.Errorf("/version: %q", body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(admin + "/livez"); err == nil {
		t.Error("admin listener still open after Shutdown")
	}
	if _, err := net.DialTimeout("tcp", n.Addr, time.Second); err == nil {
		t.Error("lane listener still open after Shutdown")
	}
}

// TestPebbleShutdownLogs: a node on Pebble (one node) stops without
// saying it released leases to other nodes, and its stop line gives the
// drain time as a duration.
func TestPebbleShutdownLogs(t *testing.T) {
	var logs strings.Builder
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	j, key, err := server.OpenJournal(context.Background(), server.JournalConfig{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	n, err := server.Start(server.Config{Wallets: []server.WalletConfig{{Name: "mpp-281001", URL: wallet(t)}},
		Journal: j, CodeKey: key, NoDecoder: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "leases released") {
		t.Errorf("a single node logged a lease release:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"stopped","drained_in":"`) {
		t.Errorf("no stop line with a duration:\n%s", logs.String())
	}
}

// TestStartNoWallets: a node needs wallets.
func TestStartNoWallets(t *testing.T) {
	if _, err := server.Start(server.Config{NoDecoder: true}); err == nil || !strings.Contains(err.Error(), "no wallets") {
		t.Fatalf("err = %v", err)
	}
}

// TestOpenJournalLocked: a second open of a Pebble data directory names
// the directory and says another paycode holds it.
func TestOpenJournalLocked(t *testing.T) {
	dir := t.TempDir()
	j, _, err := server.OpenJournal(context.Background(), server.JournalConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	_, _, err = server.OpenJournal(context.Background(), server.JournalConfig{Dir: dir})
	if err == nil {
		t.Fatal("second open succeeded")
	}
	if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "held by another paycode") {
		t.Errorf("error does not name the directory and its holder: %v", err)
	}
}

func TestBuildString(t *testing.T) {
	for _, c := range []struct {
		b    server.Build
		want string
	}{
		{server.Build{Version: "devel"}, "devel"},
		{server.Build{Version: "v1.2.3", GoVersion: "go1.26.0"}, "v1.2.3 go1.26.0"},
		{server.Build{Version: "devel", Revision: "0123456789abcdef", GoVersion: "go1.26.0"}, "devel+0123456789ab go1.26.0"},
		{server.Build{Version: "devel", Revision: "0123456789abcdef", Modified: true}, "devel+0123456789ab-modified"},
	} {
		if got := c.b.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.b, got, c.want)
		}
	}
}
