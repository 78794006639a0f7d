package notify_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/notify"
)

func serve(t testing.TB, h fasthttp.RequestHandler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fasthttp.Server{Handler: h}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown() })
	return "http://" + ln.Addr().String()
}

const ack = `{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}`

func TestNotify(t *testing.T) {
	var gotPath, gotClient, gotSig string
	var gotBody []byte
	ok := serve(t, func(ctx *fasthttp.RequestCtx) {
		gotPath = string(ctx.Path())
		gotClient = string(ctx.Request.Header.Peek("client-id"))
		gotSig = string(ctx.Request.Header.Peek("signature"))
		gotBody = append([]byte(nil), ctx.PostBody()...)
		ctx.SetBodyString(ack)
	})
	n, err := notify.New(notify.Config{AllowHTTP: true, Allow: []string{"127.0.0.1"}, Sign: func(path, clientID, rt string, body []byte) (string, error) {
		return "algorithm=RSA256,keyVersion=1,signature=" + path, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), "C1", ok+"/payNotify", []byte(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	if gotPath != "/payNotify" || gotClient != "C1" || string(gotBody) != `{"x":1}` || gotSig != "algorithm=RSA256,keyVersion=1,signature=/payNotify" {
		t.Fatalf("path %q client %q body %q sig %q", gotPath, gotClient, gotBody, gotSig)
	}
	tests := []struct {
		name string
		h    fasthttp.RequestHandler
	}{
		{"500", func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(500); ctx.SetBodyString(ack) }},
		{"not json", func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") }},
		{"failure result", func(ctx *fasthttp.RequestCtx) {
			ctx.SetBodyString(`{"result":{"resultCode":"PROCESS_FAIL","resultStatus":"F"}}`)
		}},
	}
	for _, tt := range tests {
		url := serve(t, tt.h)
		if err := n.Notify(context.Background(), "C1", url+"/n", nil); !errors.Is(err, notify.ErrNotAcknowledged) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if err := n.Notify(context.Background(), "C1", "ftp://x/y", nil); !errors.Is(err, notify.ErrBadURL) {
		t.Errorf("bad url: %v", err)
	}
	if err := n.Notify(context.Background(), "C1", "http://127.0.0.1:1/closed", nil); err == nil {
		t.Error("closed port: no error")
	}
}
