package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paycode/paycode/engine/sign"
	"github.com/paycode/paycode/engine/sign/signtest"
)

func TestKeysCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "merchant")
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"keys", "-out", out}, &stdout, &stderr); rc != 0 {
		t.Fatalf("rc %d: %s", rc, stderr.String())
	}
	priv, err := sign.LoadPrivateKey(out + ".key")
	if err != nil {
		t.Fatal(err)
	}
	p1, err := sign.LoadPrivateKey(out + ".pkcs1.pem")
	if err != nil || !p1.Equal(priv) {
		t.Fatalf("pkcs1: %v", err)
	}
	pub, err := sign.LoadPublicKey(out + ".pub")
	if err != nil || !pub.Equal(&priv.PublicKey) {
		t.Fatalf("pub: %v", err)
	}
	if fi, _ := os.Stat(out + ".key"); fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v", fi.Mode())
	}
	if b, _ := os.ReadFile(out + ".key"); bytes.Contains(b, []byte("BEGIN")) {
		t.Fatal("the SDKs' private key is bare base64")
	}
	if !strings.Contains(stdout.String(), strings.TrimSpace(string(must(os.ReadFile(out+".pub"))))) {
		t.Fatal("the public key is not printed")
	}
	// Never overwrite.
	if rc := run([]string{"keys", "-out", out}, &stdout, &stderr); rc == 0 {
		t.Fatal("overwrote an existing key")
	}
	// -pub prints the public key of an existing private key.
	stdout.Reset()
	if rc := run([]string{"keys", "-pub", out + ".key"}, &stdout, &stderr); rc != 0 || strings.TrimSpace(stdout.String()) != strings.TrimSpace(string(must(os.ReadFile(out+".pub")))) {
		t.Fatalf("-pub: %d %q", rc, stdout.String())
	}
	if rc := run([]string{"keys", "-bits", "1024"}, &stdout, &stderr); rc == 0 {
		t.Fatal("1024-bit key generated")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestBuildSecurity(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "paycode.key")
	os.WriteFile(keyFile, []byte(signtest.Paycode.PrivateBase64), 0o600)
	cfgFile := filepath.Join(dir, "paycode.yaml")
	os.WriteFile(cfgFile, []byte(`
keys:
  privateKeyFile: `+keyFile+`
  window: 1m
  clients:
    - clientId: SANDBOX_5Y1
      publicKey: `+signtest.Merchant.PublicBase64+`
      publicKeys: {"2": "`+signtest.Other.PublicBase64+`"}
    - clientId: LANE-TRUSTED
      policy: none
`), 0o600)
	fc, err := loadServeConfig(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	sec, tc, signer, err := buildSecurity(*fc.Keys, secFlags{}, "127.0.0.1:8080", true)
	if err != nil {
		t.Fatal(err)
	}
	if tc != nil || signer == nil || sec.Signer != signer || len(sec.Clients) != 2 || sec.Default != nil || sec.Window.Minutes() != 1 {
		t.Fatalf("%+v", sec)
	}
	if sec.Clients["SANDBOX_5Y1"].Policy != "rsa256" || sec.Clients["SANDBOX_5Y1"].Verifier == nil {
		t.Fatalf("client default policy: %+v", sec.Clients["SANDBOX_5Y1"])
	}
	// A trusted (none) client on a public address is refused unless allowed.
	if _, _, _, err := buildSecurity(*fc.Keys, secFlags{}, "0.0.0.0:8080", true); err == nil {
		t.Fatal("policy none on 0.0.0.0 accepted")
	}
	if _, _, _, err := buildSecurity(*fc.Keys, secFlags{allowNone: true}, "0.0.0.0:8080", true); err != nil {
		t.Fatal(err)
	}
	// No keys section: the embedded default, loopback only.
	if sec, _, _, err := buildSecurity(keysConfig{}, secFlags{}, "127.0.0.1:8080", false); err != nil || sec != nil {
		t.Fatal(sec, err)
	}
	if _, _, _, err := buildSecurity(keysConfig{}, secFlags{}, "10.0.0.5:8080", false); err == nil {
		t.Fatal("unsigned lanes on a LAN address accepted")
	}
	// Only rsa256 clients: any address.
	kc := *fc.Keys
	kc.Clients = kc.Clients[:1]
	if _, _, _, err := buildSecurity(kc, secFlags{}, "[::]:8443", true); err != nil {
		t.Fatal(err)
	}
	// An rsa256 client without a key, or without paycode's key, is refused.
	kc.Clients = []clientConfig{{ClientID: "X"}}
	if _, _, _, err := buildSecurity(kc, secFlags{}, "127.0.0.1:1", true); err == nil {
		t.Fatal("rsa256 client without a key accepted")
	}
	kc = *fc.Keys
	kc.PrivateKeyFile = ""
	if _, _, _, err := buildSecurity(kc, secFlags{}, "127.0.0.1:1", true); err == nil {
		t.Fatal("rsa256 clients without paycode's key accepted")
	}
	if _, _, _, err := buildSecurity(keysConfig{}, secFlags{clientCA: "ca.pem"}, "127.0.0.1:1", false); err == nil {
		t.Fatal("-client-ca without a certificate accepted")
	}
}

func TestServeRefusesUnsignedPublicListener(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"serve", "-memory", "-listen", "0.0.0.0:0", "-admin", ""}, &stdout, &stderr); rc != 2 || !strings.Contains(stderr.String(), "allow-none") {
		t.Fatalf("rc %d: %s", rc, stderr.String())
	}
}
