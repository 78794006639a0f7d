package admin_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/admin"
)

// TestReadyzDraining: SetDraining turns /readyz 503 "draining" at once,
// and back; /livez stays ok (the process is alive while it drains).
func TestReadyzDraining(t *testing.T) {
	a := admin.New(admin.Config{Gatherer: prometheus.NewRegistry(), Version: "test"})
	get := func(path string) (int, string) {
		var ctx fasthttp.RequestCtx
		ctx.Request.SetRequestURI(path)
		a.Serve(&ctx)
		return ctx.Response.StatusCode(), string(ctx.Response.Body())
	}
	if code, body := get("/readyz"); code != 200 || body != "ok\n" {
		t.Fatalf("/readyz before the drain: %d %q", code, body)
	}
	a.SetDraining(true)
	if code, body := get("/readyz"); code != fasthttp.StatusServiceUnavailable || body != "draining\n" {
		t.Fatalf("/readyz draining: %d %q", code, body)
	}
	if code, body := get("/livez"); code != 200 || body != "ok\n" {
		t.Fatalf("/livez draining: %d %q", code, body)
	}
	a.SetDraining(false)
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("/readyz after the drain was called off: %d", code)
	}
}

// TestDNSRebindingRefused: on a loopback listener, a request naming the
// listener by a host name (what a web page's DNS rebinding sends) is
// refused before any endpoint answers, reads and /admin/reload alike;
// by address or as localhost it is served.
func TestDNSRebindingRefused(t *testing.T) {
	auth, err := admin.NewAuth("", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	node := &reloadCounter{}
	a := admin.New(admin.Config{Gatherer: prometheus.NewRegistry(), Version: "test", Node: node, Auth: auth})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: a.Serve}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	send := func(method, path, host string) int {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", method, path, host)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		method, path, host string
		want               int
	}{
		{"GET", "/admin/wallets", "rebind.example:" + port, 403},
		{"GET", "/metrics", "rebind.example", 403},
		{"GET", "/debug/pprof/", "ATTACKER.example.:" + port, 403},
		{"POST", "/admin/reload", "rebind.example:" + port, 403},
		{"GET", "/admin/wallets", "127.0.0.1:" + port, 200},
		{"GET", "/metrics", "localhost:" + port, 200},
		{"GET", "/livez", "[::1]:" + port, 200},
		{"GET", "/livez", "admin.localhost:" + port, 200},
		{"GET", "/livez", "LOCALHOST.:" + port, 200},
		{"GET", "/livez", "[::1]", 200},
		{"GET", "/livez", "localhost.rebind.example:" + port, 403},
		{"GET", "/livez", "rebind.example.localhost.example", 403},
		{"POST", "/admin/reload", "127.0.0.1:" + port, 200},
	} {
		if got := send(tc.method, tc.path, tc.host); got != tc.want {
			t.Errorf("%s %s with Host %s: %d, want %d", tc.method, tc.path, tc.host, got, tc.want)
		}
	}
	if n := node.reloads.Load(); n != 1 {
		t.Errorf("%d reloads, want 1 (the one by address)", n)
	}
}

// reloadCounter is an admin.Node that counts reloads.
type reloadCounter struct{ reloads atomic.Int64 }

func (n *reloadCounter) JournalDown() string          { return "" }
func (n *reloadCounter) Reload(context.Context) error { n.reloads.Add(1); return nil }
func (n *reloadCounter) Stats() any                   { return map[string]int{} }
func (n *reloadCounter) Wallets() any                 { return map[string]int{} }
