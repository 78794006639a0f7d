package sign_test

import (
	"testing"

	"github.com/paycode/paycode/engine/sign"
	"github.com/paycode/paycode/engine/sign/signtest"
)

var (
	bMethod = []byte("POST")
	bPath   = []byte("/ams/api/v1/payments/pay")
	bCID    = []byte("SANDBOX_5YEXAMPLE00001")
	bTime   = []byte("1719801600123")
	bBody   = []byte(body)
)

// BenchmarkSign is one RSA-2048 response signature: the signing ceiling is
// cores ÷ its ns/op.
func BenchmarkSign(b *testing.B) {
	s := signtest.Paycode.Signer("1")
	dst := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = s.AppendHeader(dst[:0], bMethod, bPath, bCID, bTime, bBody); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h, _ := signtest.Merchant.Signer("1").AppendHeader(nil, bMethod, bPath, bCID, bTime, bBody)
	v := signtest.Merchant.Verifier("1")
	b.ReportAllocs()
	for b.Loop() {
		if err := v.VerifyHeader(h, bMethod, bPath, bCID, bTime, bBody); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSignatureHeader(b *testing.B) {
	h, _ := signtest.Merchant.Signer("1").AppendHeader(nil, bMethod, bPath, bCID, bTime, bBody)
	var hd sign.Header
	b.ReportAllocs()
	for b.Loop() {
		if err := sign.ParseSignatureHeader(h, &hd); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAndSign is the signature cost of one signed lane request:
// verify the request, sign the answer.
func BenchmarkVerifyAndSign(b *testing.B) {
	h, _ := signtest.Merchant.Signer("1").AppendHeader(nil, bMethod, bPath, bCID, bTime, bBody)
	v := signtest.Merchant.Verifier("1")
	s := signtest.Paycode.Signer("1")
	dst := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		if err := v.VerifyHeader(h, bMethod, bPath, bCID, bTime, bBody); err != nil {
			b.Fatal(err)
		}
		var err error
		if dst, err = s.AppendHeader(dst[:0], bMethod, bPath, bCID, bTime, bBody); err != nil {
			b.Fatal(err)
		}
	}
}
