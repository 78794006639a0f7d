package httpapi_test

import (
	"errors"
	"testing"

	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/sign/signtest"
)

// TestSetSecurityWhileServing: a second SetSecurity swaps the clients
// while serving; changes that need a
// restart, and invalid ones, are refused and the old security stays.
func TestSetSecurityWhileServing(t *testing.T) {
	e := newSignedE2E(t, signedOpts{})
	const newID = "SANDBOX_ADDED"
	added := e.lane(newID)
	added.key = signtest.Other.Private
	if r := added.send("pay", payBody("reload-1", e.testCode("281001", 1, 1), 100)).mustVerify(t, "pay"); r.Result.Code != "ACCESS_DENIED" {
		t.Fatalf("unknown client before the reload: %s", r.raw)
	}
	// A request of the known merchant, sent once before the reload.
	m := e.lane(merchantID)
	body := payBody("reload-2", e.testCode("281001", 2, 1), 100)
	if r := m.send("pay", body).mustVerify(t, "pay"); r.Result.Code != "SUCCESS" {
		t.Fatalf("merchant: %s", r.raw)
	}

	sec := func() httpapi.Security {
		return httpapi.Security{
			Clients: map[string]*httpapi.Client{
				merchantID: {Policy: httpapi.PolicyRSA256, Verifier: signtest.Merchant.Verifier("1")},
				trustedID:  {Policy: httpapi.PolicyNone},
				newID:      {Policy: httpapi.PolicyRSA256, Verifier: signtest.Other.Verifier("1")},
			},
			Signer: signtest.Paycode.Signer("1"), // the same key, parsed again as a reload does
		}
	}
	if err := e.st.API.SetSecurity(sec()); err != nil {
		t.Fatal(err)
	}
	if r := added.send("pay", payBody("reload-3", e.testCode("281001", 3, 1), 100)).mustVerify(t, "pay"); r.Result.Code != "SUCCESS" {
		t.Fatalf("added client after the reload: %s", r.raw)
	}
	// The same signed request again (the manual clock stands still, so
	// the signature is the same): the idempotent answer across the reload.
	if r := m.send("pay", body).mustVerify(t, "replay"); r.Result.Code != "SUCCESS" {
		t.Fatalf("a replay across the reload: %s", r.raw)
	}

	// Refused: another signing key, other limits, an invalid config.
	s := sec()
	s.Signer = signtest.Other.Signer("1")
	if err := e.st.API.SetSecurity(s); !errors.Is(err, httpapi.ErrSecurityRestart) {
		t.Errorf("new signing key: %v", err)
	}
	s = sec()
	s.MaxInFlight = 10
	if err := e.st.API.SetSecurity(s); !errors.Is(err, httpapi.ErrSecurityRestart) {
		t.Errorf("new MaxInFlight: %v", err)
	}
	s = sec()
	s.ImageBodyBudget = 1 << 20
	if err := e.st.API.SetSecurity(s); !errors.Is(err, httpapi.ErrSecurityRestart) {
		t.Errorf("new ImageBodyBudget: %v", err)
	}
	s = sec()
	s.Clients[newID] = &httpapi.Client{Policy: httpapi.PolicyRSA256}
	if err := e.st.API.SetSecurity(s); err == nil || errors.Is(err, httpapi.ErrSecurityRestart) {
		t.Errorf("client without a key: %v", err)
	}
	if r := added.send("pay", payBody("reload-4", e.testCode("281001", 4, 1), 100)).mustVerify(t, "pay"); r.Result.Code != "SUCCESS" {
		t.Fatalf("added client after refused reloads: %s", r.raw)
	}
}
