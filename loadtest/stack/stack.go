// Package stack runs a paycode node (engine/server) together with the
// simulated wallets it pays through (loadtest/mppsim), in one process
// over real loopback HTTP: the load tool's embedded mode, the demo, and
// end-to-end tests. The node is the production assembly; this package
// only adds the simulated wallets and closes them after the node.
package stack

import (
	"crypto/rsa"
	"errors"
	"slices"
	"time"

	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/engine/sign"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// DefaultSimWallets are the embedded default's four simulated wallets, one
// per default routing prefix, each with its own latency profile so a run
// shows a fast wallet, a typical one, a slow one and a very fast one.
func DefaultSimWallets() []mppsim.WalletConfig {
	return []mppsim.WalletConfig{
		{Name: "mpp-281001", Brand: "SimPay One", Latency: mppsim.Latency{Min: 5 * time.Millisecond, Median: 20 * time.Millisecond, P99: 80 * time.Millisecond, Max: time.Second}},
		{Name: "mpp-281003", Brand: "SimPay Three", Latency: mppsim.Latency{Min: 10 * time.Millisecond, Median: 50 * time.Millisecond, P99: 250 * time.Millisecond, Max: 2 * time.Second}},
		{Name: "mpp-281010", Brand: "SimPay Ten", Latency: mppsim.Latency{Min: 30 * time.Millisecond, Median: 120 * time.Millisecond, P99: 900 * time.Millisecond, Max: 4 * time.Second}},
		{Name: "mpp-281011", Brand: "SimPay Eleven", Latency: mppsim.Latency{Min: 2 * time.Millisecond, Median: 8 * time.Millisecond, P99: 30 * time.Millisecond, Max: 500 * time.Millisecond}},
	}
}

// Config is a node and its simulated wallets.
type Config struct {
	// Node is the node's configuration. When its Wallets are empty, the
	// simulated wallets of Sim are started and become its wallets.
	Node server.Config
	// Sim configures the simulated wallets (DefaultSimWallets when its
	// Wallets are empty).
	Sim mppsim.Config
	// SimSigning runs the simulated wallets signed: they verify paycode's
	// requests (Node.WalletSigner's public key) and sign their answers
	// with SimWalletKey, and the connectors sign and verify. Without it
	// the simulated wallets run the cheap mode (no signatures).
	SimSigning   bool
	SimWalletKey *rsa.PrivateKey
	// Options are the node's test options (server.ManualFollowUps).
	Options []server.Option
}

// Stack is a running node and its simulated wallets.
type Stack struct {
	*server.Node
	Sim *mppsim.Sim // nil when the node pays through external wallets
}

// Start starts the simulated wallets (unless cfg.Node names wallets) and
// the node.
func Start(cfg Config) (*Stack, error) {
	s := &Stack{}
	nc := cfg.Node
	if len(nc.Wallets) == 0 {
		wallets, sim, err := StartSim(cfg)
		if err != nil {
			return nil, err
		}
		s.Sim, nc.Wallets = sim, wallets
	}
	n, err := server.Start(nc, cfg.Options...)
	if err != nil {
		if s.Sim != nil {
			s.Sim.Close()
		}
		return nil, err
	}
	s.Node = n
	return s, nil
}

// StartSim starts cfg.Sim's simulated wallets (signed with SimSigning)
// and returns them as the node's wallets, marked Simulated.
func StartSim(cfg Config) ([]server.WalletConfig, *mppsim.Sim, error) {
	sc := cfg.Sim
	if len(sc.Wallets) == 0 {
		sc.Wallets = DefaultSimWallets()
	}
	var simPub string
	if cfg.SimSigning {
		var err error
		if simPub, err = signSim(&sc, cfg); err != nil {
			return nil, nil, err
		}
	}
	sim, err := mppsim.Start(sc)
	if err != nil {
		return nil, nil, err
	}
	var wallets []server.WalletConfig
	for _, n := range sim.Names() {
		wc := server.WalletConfig{Name: n, URL: sim.URL(n), Simulated: true}
		if cfg.SimSigning {
			wc.Signing, wc.PublicKey = "rsa256", simPub
		}
		wallets = append(wallets, wc)
	}
	return wallets, sim, nil
}

// Close closes the node, then the simulated wallets.
func (s *Stack) Close() error {
	var errs []error
	if s.Node != nil {
		errs = append(errs, s.Node.Close())
	}
	if s.Sim != nil {
		errs = append(errs, s.Sim.Close())
	}
	return errors.Join(errs...)
}

// signSim makes the simulated wallets verify paycode's requests and sign
// their answers; it returns their public key (SPKI base64).
func signSim(sc *mppsim.Config, cfg Config) (string, error) {
	if cfg.Node.WalletSigner == nil || cfg.SimWalletKey == nil {
		return "", errors.New("stack: SimSigning needs Node.WalletSigner and SimWalletKey")
	}
	simSigner, err := sign.NewSigner(cfg.SimWalletKey, "")
	if err != nil {
		return "", err
	}
	pv, err := sign.NewVerifier(map[string]*rsa.PublicKey{sign.DefaultKeyVersion: cfg.Node.WalletSigner.Public()})
	if err != nil {
		return "", err
	}
	f, err := sign.Formats(cfg.SimWalletKey)
	if err != nil {
		return "", err
	}
	ws := slices.Clone(sc.Wallets)
	for i := range ws {
		ws[i].Verifier, ws[i].Signer = pv, simSigner
	}
	sc.Wallets = ws
	return f.PublicSPKIBase64, nil
}
