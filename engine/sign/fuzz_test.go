package sign_test

import (
	"bytes"
	"testing"

	"github.com/paycode/paycode/engine/sign"
)

// FuzzParseSignatureHeader: never panics, and what it accepts has a
// non-empty signature inside the input, and decoding stays bounded.
func FuzzParseSignatureHeader(f *testing.F) {
	for _, s := range []string{
		"algorithm=RSA256,keyVersion=1,signature=Yk9x%2Bq%3D%3D",
		"algorithm=RSA256, keyVersion=1, signature=abc",
		"signature=",
		",,,,",
		"algorithm=RSA256,keyVersion=1,signature=a=b=c",
		"algorithm=RSA256,signature=%",
		"a=b,signature=%2",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		var h sign.Header
		if err := sign.ParseSignatureHeader(v, &h); err != nil {
			return
		}
		if len(h.Signature) == 0 || !bytes.Contains(v, h.Signature) {
			t.Fatalf("signature %q not from input", h.Signature)
		}
		out, err := sign.DecodeSignature(nil, h.Signature)
		if err == nil && len(out) > len(h.Signature) {
			t.Fatal("decoded longer than input")
		}
		// Round trip what decodes.
		if err == nil {
			var h2 sign.Header
			enc := sign.AppendSignatureHeader(nil, "1", out)
			if err := sign.ParseSignatureHeader(enc, &h2); err != nil {
				t.Fatal(err)
			}
			back, err := sign.DecodeSignature(nil, h2.Signature)
			if err != nil || !bytes.Equal(back, out) {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}
