package server

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/admin"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/ident"
	"github.com/paycode/paycode/engine/mpp"
	"github.com/paycode/paycode/engine/notify"
	"github.com/paycode/paycode/engine/sign"
)

// WalletConfig is one wallet paycode connects to.
type WalletConfig struct {
	Name        string        `yaml:"name"`
	URL         string        `yaml:"url"`
	MaxConns    int           `yaml:"maxConns"`
	MaxInFlight int           `yaml:"maxInFlight"`
	Timeout     time.Duration `yaml:"timeout"`
	AcquirerID  string        `yaml:"acquirerId"`
	PSPID       string        `yaml:"pspId"`
	// Signing is the wallet's policy: "rsa256" (sign requests with
	// Config.WalletSigner, verify answers with PublicKey) or "none" (the
	// default).
	Signing string `yaml:"signing"`
	// ClientID is paycode's client-id at the wallet (DefaultWalletClientID).
	ClientID string `yaml:"clientId"`
	// PublicKey is the wallet's public key (SPKI, base64 or PEM), inline
	// or read from PublicKeyFile.
	PublicKey     string `yaml:"publicKey"`
	PublicKeyFile string `yaml:"publicKeyFile"`
	// Simulated marks a wallet started beside the node by its caller (a
	// simulator serving /sim/ledger and /sim/settlement at URL); GET
	// /admin/wallets reports it. Never read from a config file.
	Simulated bool `yaml:"-"`
}

// DefaultWalletClientID is paycode's client-id towards wallets when a
// wallet's config names none.
const DefaultWalletClientID = "PAYCODE"

// DefaultAcquirerID is the acquirerId paycode sends wallets when a wallet's
// config names none.
const DefaultAcquirerID = "PAYCODE"

// Config is one node. The zero Config (plus Wallets) is a node on a free
// loopback port with the built-in routing rules, the in-memory journal and no admin
// listener.
type Config struct {
	// Listen is the lane API address; "" means 127.0.0.1:0. Ignored when
	// Listener is set.
	Listen   string
	Listener net.Listener
	// Admin is the admin listener's address; "" (and no AdminListener)
	// serves none. Admin.Handler serves the same endpoints on a listener
	// of the caller's.
	Admin         string
	AdminListener net.Listener
	// Wallets to connect to (at least one).
	Wallets []WalletConfig
	// Ident configures identification (built-in default rules when zero).
	Ident ident.Config
	// Engine configures the engine; Wallets, Identifier, Journal and
	// Logger are filled here, and a Notifier when it has none.
	Engine engine.Config
	// Journal makes the engine durable (nil: memory only, with
	// engine/journal.NewMem); CodeKey keys
	// code hashes (give the journal's so single use survives restarts).
	// The journal is recovered before the lane listener opens and closed
	// by Close, after the follow-up loop stopped; a shared journal first
	// releases this node's leases.
	Journal engine.SharedJournal
	CodeKey []byte
	Logger  *slog.Logger

	// Notify configures the notifier: timeouts, limits and where
	// notifications may go (Sign and Now are set here). The node's own
	// listeners (lane, admin) and the simulated wallets are refused
	// always.
	Notify notify.Config
	// AmountLimits are the per-currency maximum amounts of pays and
	// refunds (nil: codec.DefaultMaxAmount).
	AmountLimits *codec.AmountLimits

	// Decoder configures the image decoder behind POST /v1/decode and pay
	// by image (decode's defaults when zero); NoDecoder leaves both off.
	Decoder   decode.Config
	NoDecoder bool

	// Security is the lane API's authentication and admission. Nil trusts
	// every client id (policy none) and signs nothing: for loopback only
	// (the command refuses it on other addresses). Its Signer also signs
	// notifications to merchants.
	Security *httpapi.Security
	// TLS, when set, serves the lane API over TLS; its ClientAuth and
	// ClientCAs ask for client certificates (mTLS).
	TLS *tls.Config
	// WalletSigner is paycode's key towards wallets whose Signing is
	// rsa256 (usually the key that signs lane answers).
	WalletSigner *sign.Signer

	// AdminAuth guards the admin endpoints that change state (POST
	// /admin/reload); nil refuses them all.
	AdminAuth *admin.Auth
	// TestCodes, when set, gives the status page a fresh scannable test
	// code per outcome (only simulated wallets honour test codes).
	TestCodes admin.TestCodes

	// Version is reported by /version and paycode_build_info (default:
	// ReadBuild().String()).
	Version string
	// Reload, when set, runs after the routing rules are reloaded by
	// Node.Reload (SIGHUP, POST /admin/reload): serve reloads the lane
	// clients' keys there.
	Reload func(context.Context) error
}

// Option changes how Start runs a node in ways only tests want.
type Option func(*options)

type options struct {
	manualFollowUps bool
	noNotifier      bool
}

// ManualFollowUps leaves the follow-up loop stopped: the test drives
// follow-ups itself with Engine.ProcessDue on a manual clock.
func ManualFollowUps() Option { return func(o *options) { o.manualFollowUps = true } }

// UndeliveredNotifications builds no notifier when Config.Engine has
// none: notifications are recorded but never sent, for tests whose
// notify URLs lead nowhere.
func UndeliveredNotifications() Option { return func(o *options) { o.noNotifier = true } }

// verifier reads the wallet's public key.
func (wc WalletConfig) verifier() (*sign.Verifier, error) {
	var k *rsa.PublicKey
	var err error
	switch {
	case wc.PublicKey != "":
		k, err = sign.ParsePublicKey([]byte(wc.PublicKey))
	case wc.PublicKeyFile != "":
		k, err = sign.LoadPublicKey(wc.PublicKeyFile)
	default:
		return nil, errors.New("signing rsa256 needs the wallet's publicKey or publicKeyFile")
	}
	if err != nil {
		return nil, err
	}
	return sign.NewVerifier(map[string]*rsa.PublicKey{sign.DefaultKeyVersion: k})
}

// walletSigning applies wc's signing policy to mc.
func walletSigning(mc *mpp.Config, wc WalletConfig, signer *sign.Signer) error {
	switch wc.Signing {
	case "", "none":
		return nil
	case "rsa256":
	default:
		return fmt.Errorf("signing %q is not rsa256 or none", wc.Signing)
	}
	if signer == nil {
		return errors.New("signing rsa256 needs paycode's private key")
	}
	v, err := wc.verifier()
	if err != nil {
		return err
	}
	mc.Signer, mc.Verifier, mc.ClientID = signer, v, wc.ClientID
	if mc.ClientID == "" {
		mc.ClientID = DefaultWalletClientID
	}
	return nil
}
