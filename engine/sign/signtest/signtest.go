// Package signtest holds fixed RSA-2048 key pairs for tests, so no test
// spends a second generating keys. They are public: never configure them
// outside tests.
//
// Three parties: Merchant (a lane signing requests), Paycode (paycode's
// own key: responses, notifications, requests to wallets) and Wallet (a
// wallet's key); Other is an unrelated key for negative tests.
package signtest

import (
	"crypto/rsa"
	"embed"
	"strings"

	"github.com/paycode/paycode/engine/sign"
)

//go:embed testdata
var files embed.FS

// Pair is one key pair in the SDKs' text forms and parsed.
type Pair struct {
	PrivateBase64 string // PKCS#8, base64
	PublicBase64  string // SPKI, base64
	Private       *rsa.PrivateKey
	Public        *rsa.PublicKey
}

func load(name string) Pair {
	priv, err := files.ReadFile("testdata/" + name + ".key")
	if err != nil {
		panic(err)
	}
	pub, err := files.ReadFile("testdata/" + name + ".pub")
	if err != nil {
		panic(err)
	}
	p := Pair{PrivateBase64: strings.TrimSpace(string(priv)), PublicBase64: strings.TrimSpace(string(pub))}
	if p.Private, err = sign.ParsePrivateKey(priv); err != nil {
		panic(err)
	}
	if p.Public, err = sign.ParsePublicKey(pub); err != nil {
		panic(err)
	}
	return p
}

// The fixed pairs.
var (
	Merchant = load("merchant")
	Paycode  = load("paycode")
	Wallet   = load("wallet")
	Other    = load("other")
)

// Signer returns a Signer over p's private key naming keyVersion.
func (p Pair) Signer(keyVersion string) *sign.Signer {
	s, err := sign.NewSigner(p.Private, keyVersion)
	if err != nil {
		panic(err)
	}
	return s
}

// Verifier returns a Verifier of p's public key as keyVersion.
func (p Pair) Verifier(keyVersion string) *sign.Verifier {
	if keyVersion == "" {
		keyVersion = sign.DefaultKeyVersion
	}
	v, err := sign.NewVerifier(map[string]*rsa.PublicKey{keyVersion: p.Public})
	if err != nil {
		panic(err)
	}
	return v
}
