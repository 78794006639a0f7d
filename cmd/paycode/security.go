package main

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/sign"
)

// keysConfig is the `keys:` section of the serve config: paycode's own
// key, the lane clients and their policies, TLS.
type keysConfig struct {
	// PrivateKeyFile (or PrivateKey inline): paycode's key, PKCS#8 or
	// PKCS#1, base64 or PEM. It signs lane answers, notifications and
	// requests to rsa256 wallets.
	PrivateKeyFile string `yaml:"privateKeyFile"`
	PrivateKey     string `yaml:"privateKey"`
	KeyVersion     string `yaml:"keyVersion"`
	// Window is how far request-time may be from now (2m).
	Window          time.Duration `yaml:"window"`
	MaxInFlight     int           `yaml:"maxInFlight"`
	FollowUpReserve int           `yaml:"followUpReserve"`
	// Admission by queueing delay (httpapi.Security's PayDelay fields).
	PayDelayTarget   time.Duration `yaml:"payDelayTarget"`
	PayDelayInterval time.Duration `yaml:"payDelayInterval"`
	// ImageBodyBudget: image body bytes being read or held, all lane
	// connections together (httpapi.Security's).
	ImageBodyBudget int64 `yaml:"imageBodyBudget"`
	// DefaultPolicy applies to client ids not listed: "" refuses them
	// (ACCESS_DENIED), "none" trusts them.
	DefaultPolicy string         `yaml:"defaultPolicy"`
	Clients       []clientConfig `yaml:"clients"`
	// AllowNone permits policy none on a non-loopback listener.
	AllowNone bool `yaml:"allowNone"`
	// TLS for the lane listener (flags -tls-cert, -tls-key, -client-ca win).
	TLSCert  string `yaml:"tlsCert"`
	TLSKey   string `yaml:"tlsKey"`
	ClientCA string `yaml:"clientCA"`
}

// clientConfig is one lane client (merchant).
type clientConfig struct {
	ClientID string `yaml:"clientId"`
	Policy   string `yaml:"policy"` // rsa256 (default) or none
	// The merchant's public key(s), SPKI base64 or PEM: PublicKey or
	// PublicKeyFile is keyVersion 1; PublicKeys adds versions.
	PublicKey     string            `yaml:"publicKey"`
	PublicKeyFile string            `yaml:"publicKeyFile"`
	PublicKeys    map[string]string `yaml:"publicKeys"`
	// TLSNames: client-certificate names allowed to use this client id.
	TLSNames []string `yaml:"tlsNames"`
}

// authConfigured reports whether the keys section configures lane
// authentication: paycode's key, a default policy or clients. A keys
// section with only TLS and limits keeps every client id trusted, as
// without one (the -tls-cert flags alone never turned authentication on).
func (kc *keysConfig) authConfigured() bool {
	return kc.PrivateKey != "" || kc.PrivateKeyFile != "" || kc.KeyVersion != "" || kc.DefaultPolicy != "" || len(kc.Clients) > 0
}

// security builds the lane's Security, TLS config and paycode's signer
// from the keys section (buildSecurity). Without authentication settings
// the Security trusts every client id under the section's limits, or is
// nil without a section: stack's default.
func (c *serveConfig) security() (*httpapi.Security, *tls.Config, *sign.Signer, error) {
	if c.Keys == nil {
		return buildSecurity(keysConfig{}, secFlags{}, c.Listen, false)
	}
	kc := *c.Keys
	sec, tc, signer, err := buildSecurity(kc, secFlags{}, c.Listen, kc.authConfigured())
	if err != nil || sec != nil {
		return sec, tc, signer, err
	}
	sec = &httpapi.Security{Default: &httpapi.Client{Policy: httpapi.PolicyNone}, Window: kc.Window,
		MaxInFlight: kc.MaxInFlight, FollowUpReserve: kc.FollowUpReserve,
		PayDelayTarget: kc.PayDelayTarget, PayDelayInterval: kc.PayDelayInterval,
		ImageBodyBudget: kc.ImageBodyBudget}
	sec.EnsureDefaults()
	if err := sec.Validate(); err != nil {
		return nil, nil, nil, err
	}
	return sec, tc, nil, nil
}

// secFlags override keysConfig's TLS settings in buildSecurity. serve's
// flags (-tls-cert and the others, config.go) now set keysConfig itself,
// so serve passes none.
type secFlags struct {
	tlsCert, tlsKey, clientCA string
	allowNone                 bool
}

// buildSecurity turns the keys section and flags into the lane's
// Security, TLS config and paycode's signer (nil, nil, nil: the embedded
// default, every client id trusted). It refuses policy none on a
// non-loopback listen address unless allowed.
func buildSecurity(kc keysConfig, f secFlags, listen string, configured bool) (*httpapi.Security, *tls.Config, *sign.Signer, error) {
	if f.tlsCert == "" {
		f.tlsCert = kc.TLSCert
	}
	if f.tlsKey == "" {
		f.tlsKey = kc.TLSKey
	}
	if f.clientCA == "" {
		f.clientCA = kc.ClientCA
	}
	f.allowNone = f.allowNone || kc.AllowNone
	tc, err := tlsConfig(f)
	if err != nil {
		return nil, nil, nil, err
	}
	var sec *httpapi.Security
	var signer *sign.Signer
	if configured {
		sec = &httpapi.Security{Window: kc.Window, MaxInFlight: kc.MaxInFlight,
			FollowUpReserve: kc.FollowUpReserve, Clients: map[string]*httpapi.Client{},
			PayDelayTarget: kc.PayDelayTarget, PayDelayInterval: kc.PayDelayInterval,
			ImageBodyBudget: kc.ImageBodyBudget}
		if kc.PrivateKey != "" || kc.PrivateKeyFile != "" {
			var k *rsa.PrivateKey
			if kc.PrivateKey != "" {
				k, err = sign.ParsePrivateKey([]byte(kc.PrivateKey))
			} else {
				k, err = sign.LoadPrivateKey(kc.PrivateKeyFile)
			}
			if err != nil {
				return nil, nil, nil, fmt.Errorf("keys: paycode's private key: %w", err)
			}
			if signer, err = sign.NewSigner(k, kc.KeyVersion); err != nil {
				return nil, nil, nil, err
			}
			sec.Signer = signer
		}
		switch kc.DefaultPolicy {
		case "":
		case "none":
			sec.Default = &httpapi.Client{Policy: httpapi.PolicyNone}
		default:
			return nil, nil, nil, fmt.Errorf("keys: defaultPolicy %q: only none, or empty to refuse unlisted client ids", kc.DefaultPolicy)
		}
		for _, c := range kc.Clients {
			cl, err := c.client()
			if err != nil {
				return nil, nil, nil, fmt.Errorf("keys: client %q: %w", c.ClientID, err)
			}
			if _, dup := sec.Clients[c.ClientID]; dup {
				return nil, nil, nil, fmt.Errorf("keys: client %q is listed twice", c.ClientID)
			}
			sec.Clients[c.ClientID] = cl
		}
		sec.EnsureDefaults()
		if err := sec.Validate(); err != nil {
			return nil, nil, nil, err
		}
	}
	none := sec == nil || sec.AllowsNone()
	if none && !f.allowNone && !isLoopback(listen) {
		return nil, nil, nil, fmt.Errorf("lane listener %s is not loopback and some client ids are trusted without signatures (policy none): configure keys (rsa256 clients) or pass -allow-none", listen)
	}
	return sec, tc, signer, nil
}

func (c clientConfig) client() (*httpapi.Client, error) {
	if c.ClientID == "" {
		return nil, errors.New("clientId is required")
	}
	cl := &httpapi.Client{Policy: httpapi.Policy(c.Policy), TLSNames: c.TLSNames}
	if cl.Policy == "" {
		cl.Policy = httpapi.PolicyRSA256
	}
	keys := map[string]*rsa.PublicKey{}
	add := func(ver, text, file string) error {
		var k *rsa.PublicKey
		var err error
		if file != "" {
			k, err = sign.LoadPublicKey(file)
		} else {
			k, err = sign.ParsePublicKey([]byte(text))
		}
		if err != nil {
			return fmt.Errorf("public key %s: %w", ver, err)
		}
		keys[ver] = k
		return nil
	}
	if c.PublicKey != "" || c.PublicKeyFile != "" {
		if err := add(sign.DefaultKeyVersion, c.PublicKey, c.PublicKeyFile); err != nil {
			return nil, err
		}
	}
	for v, text := range c.PublicKeys {
		if err := add(v, text, ""); err != nil {
			return nil, err
		}
	}
	if len(keys) > 0 {
		v, err := sign.NewVerifier(keys)
		if err != nil {
			return nil, err
		}
		cl.Verifier = v
	}
	return cl, nil
}

func tlsConfig(f secFlags) (*tls.Config, error) {
	if f.tlsCert == "" && f.tlsKey == "" {
		if f.clientCA != "" {
			return nil, errors.New("-client-ca needs -tls-cert and -tls-key")
		}
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
	if err != nil {
		// crypto/tls's error starts "tls: " and says what is wrong, not
		// with which files.
		return nil, fmt.Errorf("certificate %s and key %s: %w", f.tlsCert, f.tlsKey, err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if f.clientCA != "" {
		pem, err := os.ReadFile(f.clientCA)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: %s holds no PEM certificate", f.clientCA)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// isLoopback reports whether a listen address binds loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
