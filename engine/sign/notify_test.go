package sign_test

import (
	"context"
	"net"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/notify"
	"github.com/paycode/paycode/engine/sign/signtest"
)

// TestSignedNotification: notify.Config.Sign = Signer.SignPOST gives a
// notifyPayment the merchant verifies with paycode's public key over
// POST <notify path>\n<client-id>.<request-time>.<body> (spec §4.5).
func TestSignedNotification(t *testing.T) {
	v := signtest.Paycode.Verifier("1")
	verified := make(chan error, 1)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		h := &ctx.Request.Header
		verified <- v.VerifyHeader(h.Peek("signature"), ctx.Method(), ctx.URI().PathOriginal(), h.Peek("client-id"), h.Peek("request-time"), ctx.PostBody())
		ctx.SetBodyString(`{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}`)
	}}
	go srv.Serve(ln)
	defer srv.Shutdown()
	n, err := notify.New(notify.Config{AllowHTTP: true, Allow: []string{"127.0.0.1"}, Sign: signtest.Paycode.Signer("1").SignPOST})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"notifyType":"PAYMENT_RESULT","result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentRequestId":"r1"}`)
	if err := n.Notify(context.Background(), "SANDBOX_5Y1", "http://"+ln.Addr().String()+"/antom/payNotify", body); err != nil {
		t.Fatal(err)
	}
	if err := <-verified; err != nil {
		t.Fatalf("the merchant cannot verify the notification: %v", err)
	}
}
