package admin_test

import (
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
