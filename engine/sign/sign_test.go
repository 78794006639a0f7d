package sign_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/engine/sign"
	"github.com/paycode/paycode/engine/sign/signtest"
)

const body = `{"productCode":"IN_STORE_PAYMENT","paymentRequestId":"lane7-20240701-000042","paymentAmount":{"currency":"HKD","value":"5600"},"note":"\u003ctag\u003e"}`

// sdkHeader signs the way the Go SDK does (tools.GenSign): the content as a
// string, SHA256withRSA, StdEncoding base64, url.QueryEscape.
func sdkHeader(t testing.TB, key *rsa.PrivateKey, method, path, clientID, reqTime, body, keyVersion string) string {
	content := method + " " + path + "\n" + clientID + "." + reqTime + "." + body
	d := sha256.Sum256([]byte(content))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return "algorithm=RSA256,keyVersion=" + keyVersion + ",signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
}

func TestAppendContentByteExact(t *testing.T) {
	got := string(sign.AppendContent(nil, []byte("POST"), []byte("/ams/api/v1/payments/pay"), []byte("SANDBOX_5YEXAMPLE00001"), []byte("1719801600123"), []byte(`{"a":1}`)))
	want := "POST /ams/api/v1/payments/pay\nSANDBOX_5YEXAMPLE00001.1719801600123.{\"a\":1}"
	if got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestSDKVectorsVerify(t *testing.T) {
	v := signtest.Merchant.Verifier("1")
	cases := []struct{ name, path, time, header string }{
		{"go/java epoch ms", "/ams/api/v1/payments/pay", "1719801600123", ""},
		{"python iso", "/ams/api/v1/payments/pay", "2024-07-01T10:40:00+08:00", ""},
		{"sandbox path", "/ams/sandbox/api/v1/payments/pay", "1719801600123", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := sdkHeader(t, signtest.Merchant.Private, "POST", c.path, "SANDBOX_5YEXAMPLE00001", c.time, body, "1")
			if err := v.VerifyHeader([]byte(h), []byte("POST"), []byte(c.path), []byte("SANDBOX_5YEXAMPLE00001"), []byte(c.time), []byte(body)); err != nil {
				t.Fatal(err)
			}
			// The docs' spaced form parses too.
			spaced := strings.ReplaceAll(h, ",", ", ")
			if err := v.VerifyHeader([]byte(spaced), []byte("POST"), []byte(c.path), []byte("SANDBOX_5YEXAMPLE00001"), []byte(c.time), []byte(body)); err != nil {
				t.Fatal("spaced:", err)
			}
		})
	}
}

func TestSignerMatchesSDK(t *testing.T) {
	s := signtest.Paycode.Signer("1")
	got, err := s.AppendHeader(nil, []byte("POST"), []byte("/ams/api/v1/payments/pay"), []byte("C1"), []byte("2024-07-01T10:40:01+08:00"), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := sdkHeader(t, signtest.Paycode.Private, "POST", "/ams/api/v1/payments/pay", "C1", "2024-07-01T10:40:01+08:00", body, "1")
	if string(got) != want { // PKCS#1 v1.5 is deterministic
		t.Fatalf("got %s\nwant %s", got, want)
	}
	// The Java SDK: split on ',', third item, split on '=', exactly two parts.
	items := strings.Split(string(got), ",")
	if len(items) != 3 || len(strings.Split(items[2], "=")) != 2 {
		t.Fatalf("java split: %q", items)
	}
	// The Go SDK: everything after the first "signature=".
	enc := string(got)[strings.Index(string(got), "signature=")+len("signature="):]
	raw, _ := url.QueryUnescape(enc)
	sig, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256(sign.AppendContent(nil, []byte("POST"), []byte("/ams/api/v1/payments/pay"), []byte("C1"), []byte("2024-07-01T10:40:01+08:00"), []byte(body)))
	if err := rsa.VerifyPKCS1v15(signtest.Paycode.Public, crypto.SHA256, d[:], sig); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyNegative(t *testing.T) {
	const path, cid, tm = "/ams/api/v1/payments/pay", "C1", "1719801600123"
	good := sdkHeader(t, signtest.Merchant.Private, "POST", path, cid, tm, body, "1")
	enc := good[strings.Index(good, "signature=")+len("signature="):]
	v := signtest.Merchant.Verifier("1")
	cases := []struct {
		name                          string
		header, path, cid, time, body string
		want                          error
	}{
		{"tampered body", good, path, cid, tm, body + " ", sign.ErrBadSignature},
		{"tampered path", good, "/ams/api/v1/payments/refund", cid, tm, body, sign.ErrBadSignature},
		{"sandbox vs prod path", good, "/ams/sandbox/api/v1/payments/pay", cid, tm, body, sign.ErrBadSignature},
		{"tampered client", good, path, "C2", tm, body, sign.ErrBadSignature},
		{"tampered time", good, path, cid, "1719801600124", body, sign.ErrBadSignature},
		{"wrong key version", strings.Replace(good, "keyVersion=1", "keyVersion=2", 1), path, cid, tm, body, sign.ErrKeyNotFound},
		{"other algorithm", strings.Replace(good, "RSA256", "RSA", 1), path, cid, tm, body, sign.ErrAlgorithm},
		{"lower-case algorithm", strings.Replace(good, "RSA256", "rsa256", 1), path, cid, tm, body, sign.ErrAlgorithm},
		{"no algorithm", strings.Replace(good, "algorithm=RSA256,", "", 1), path, cid, tm, body, sign.ErrAlgorithm},
		{"truncated", good[:len(good)-10], path, cid, tm, body, sign.ErrEncoding},
		{"truncated to a block", "algorithm=RSA256,keyVersion=1,signature=" + enc[:40], path, cid, tm, body, sign.ErrBadSignature},
		{"not base64", "algorithm=RSA256,keyVersion=1,signature=!!!!" + enc[4:], path, cid, tm, body, sign.ErrEncoding},
		{"bad escape", "algorithm=RSA256,keyVersion=1,signature=%zz" + enc[3:], path, cid, tm, body, sign.ErrEncoding},
		{"empty", "", path, cid, tm, body, sign.ErrNoSignature},
		{"no signature item", "algorithm=RSA256,keyVersion=1", path, cid, tm, body, sign.ErrMalformed},
		{"twice", good + ",signature=" + enc, path, cid, tm, body, sign.ErrMalformed},
		{"other key", sdkHeader(t, signtest.Other.Private, "POST", path, cid, tm, body, "1"), path, cid, tm, body, sign.ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := v.VerifyHeader([]byte(c.header), []byte("POST"), []byte(c.path), []byte(c.cid), []byte(c.time), []byte(c.body))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestParseSignatureHeader(t *testing.T) {
	var h sign.Header
	if err := sign.ParseSignatureHeader([]byte(" algorithm=RSA256 , signature=abc%3D "), &h); err != nil {
		t.Fatal(err)
	}
	if string(h.Algorithm) != "RSA256" || string(h.KeyVersion) != "1" || string(h.Signature) != "abc%3D" {
		t.Fatalf("%q %q %q", h.Algorithm, h.KeyVersion, h.Signature)
	}
	if err := sign.ParseSignatureHeader([]byte("algorithm"), &h); !errors.Is(err, sign.ErrMalformed) {
		t.Fatal(err)
	}
	if err := sign.ParseSignatureHeader([]byte(strings.Repeat("a", 2000)), &h); !errors.Is(err, sign.ErrMalformed) {
		t.Fatal(err)
	}
}

func TestKeyFormats(t *testing.T) {
	f, err := sign.Formats(signtest.Merchant.Private)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{"p8 b64": f.PrivatePKCS8Base64, "p8 pem": f.PrivatePKCS8PEM, "p1 pem": f.PrivatePKCS1PEM, "p1 b64": f.PrivatePKCS1Base64} {
		k, err := sign.ParsePrivateKey([]byte(s))
		if err != nil || !k.Equal(signtest.Merchant.Private) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A base64 key pasted over several lines.
	wrapped := f.PublicSPKIBase64[:64] + "\n" + f.PublicSPKIBase64[64:]
	for name, s := range map[string]string{"spki b64": f.PublicSPKIBase64, "spki pem": f.PublicSPKIPEM, "wrapped": wrapped} {
		k, err := sign.ParsePublicKey([]byte(s))
		if err != nil || !k.Equal(signtest.Merchant.Public) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := sign.ParsePublicKey([]byte("not a key")); err == nil {
		t.Fatal("garbage accepted")
	}
	if _, err := sign.ParsePrivateKey([]byte(f.PublicSPKIBase64)); err == nil {
		t.Fatal("public key accepted as private")
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2024, 7, 1, 2, 40, 0, 0, time.UTC)
	for _, s := range []string{"1719801600000", "2024-07-01T10:40:00+08:00", "2024-07-01T02:40:00Z", "2024-07-01T10:40:00.000+08:00", "2024-07-01T10:40:00+0800", "2024-07-01T02:40:00"} {
		got, err := sign.ParseTime([]byte(s))
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	for _, s := range []string{"", "abc", "2024-07-01", "17198016000001234567", "2024-07-01 10:40:00"} {
		if _, err := sign.ParseTime([]byte(s)); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	now := want
	if err := sign.CheckTime(now.Add(-2*time.Minute), now, sign.DefaultWindow); err != nil {
		t.Error(err)
	}
	if err := sign.CheckTime(now.Add(-2*time.Minute-time.Millisecond), now, sign.DefaultWindow); !errors.Is(err, sign.ErrStale) {
		t.Error(err)
	}
	if err := sign.CheckTime(now.Add(2*time.Minute+time.Millisecond), now, sign.DefaultWindow); !errors.Is(err, sign.ErrFuture) {
		t.Error(err)
	}
}
