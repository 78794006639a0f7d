package load_test

import (
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/loadtest/load"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// A consistent run: paycode and the wallets agree on every payment.
func consistent() ([]load.Expect, []load.View, []mppsim.Ledger) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	exps := []load.Expect{
		{RequestID: "r0", Amount: 100, AnsweredID: "P0"},
		{RequestID: "r1", Amount: 200, AnsweredID: "P1"},
		{RequestID: "r2", Amount: 300, AnsweredID: "P2"},
		{RequestID: "r3", Amount: 400, AnsweredID: "P3", ReplayID: "P3"},
		{RequestID: "r4", Amount: 500, MustNotExist: true},
		{RequestID: "r5", Amount: 600}, // no answer reached the lane, nothing recorded
	}
	views := []load.View{
		{Found: true, PaymentID: "P0", Status: "SUCCESS", Amount: 100},
		{Found: true, PaymentID: "P1", Status: "FAIL", Amount: 200},
		{Found: true, PaymentID: "P2", Status: "CANCELLED", Amount: 300},
		{Found: true, PaymentID: "P3", Status: "SUCCESS", Amount: 400, Refunded: 200},
		{},
		{},
	}
	ledgers := []mppsim.Ledger{
		{Wallet: "w1", Payments: map[string]mppsim.Entry{
			"P0": {PaymentRequestID: "P0", State: mppsim.StateSuccess, Charged: 100, Created: t0},
			"P1": {PaymentRequestID: "P1", State: mppsim.StateFail, Created: t0},
		}},
		{Wallet: "w2", Payments: map[string]mppsim.Entry{
			"P2":  {PaymentRequestID: "P2", State: mppsim.StateReversed, Charged: 300, Created: t0},
			"P3":  {PaymentRequestID: "P3", State: mppsim.StateSuccess, Charged: 400, Refunded: 200, Created: t0},
			"OLD": {PaymentRequestID: "OLD", State: mppsim.StateSuccess, Charged: 9, Created: t0.Add(-time.Hour)},
		}},
	}
	return exps, views, ledgers
}

func TestCheckAgrees(t *testing.T) {
	exps, views, ledgers := consistent()
	c := load.Check(exps, views, ledgers, load.SinceFilter(time.Date(2026, 11, 26, 11, 59, 0, 0, time.UTC)))
	if !c.OK() || c.Found != 4 || c.Success != 2 || c.Failed != 1 || c.Cancelled != 1 || c.Ledger != 4 {
		t.Fatalf("%s %v", c, c.Examples)
	}
	// Without the filter, the old entry is an orphan charge.
	if c := load.Check(exps, views, ledgers, nil); c.Orphans != 1 {
		t.Fatalf("orphans: %s", c)
	}
}

// TestCheckPlantedMismatches: each kind of disagreement is counted and
// fails the check.
func TestCheckPlantedMismatches(t *testing.T) {
	tests := []struct {
		name  string
		plant func(exps []load.Expect, views []load.View, ledgers []mppsim.Ledger)
		count func(c *load.CheckResult) int
		msg   string
	}{
		{"lost: paycode forgot", func(e []load.Expect, v []load.View, l []mppsim.Ledger) { v[1] = load.View{} },
			func(c *load.CheckResult) int { return c.Lost }, "no longer knows"},
		{"lost: no wallet record", func(e []load.Expect, v []load.View, l []mppsim.Ledger) { delete(l[0].Payments, "P0") },
			func(c *load.CheckResult) int { return c.Lost }, "no wallet has it"},
		{"duplicated: new id", func(e []load.Expect, v []load.View, l []mppsim.Ledger) { e[0].AnsweredID = "PX" },
			func(c *load.CheckResult) int { return c.Duplicated }, "first answered as payment PX"},
		{"duplicated: replay", func(e []load.Expect, v []load.View, l []mppsim.Ledger) { e[3].ReplayID = "P9" },
			func(c *load.CheckResult) int { return c.Duplicated }, "replay"},
		{"duplicated: invalid recorded", func(e []load.Expect, v []load.View, l []mppsim.Ledger) {
			v[4] = load.View{Found: true, PaymentID: "P4", Status: "FAIL"}
		}, func(c *load.CheckResult) int { return c.Duplicated }, "refused pay"},
		{"duplicated: two wallets", func(e []load.Expect, v []load.View, l []mppsim.Ledger) { l[1].Payments["P0"] = l[0].Payments["P0"] },
			func(c *load.CheckResult) int { return c.Duplicated }, "two wallets"},
		{"wrong amount: charged", func(e []load.Expect, v []load.View, l []mppsim.Ledger) {
			en := l[0].Payments["P0"]
			en.Charged = 101
			l[0].Payments["P0"] = en
		}, func(c *load.CheckResult) int { return c.WrongAmount }, "charged 101"},
		{"wrong amount: refunded", func(e []load.Expect, v []load.View, l []mppsim.Ledger) { v[3].Refunded = 0 },
			func(c *load.CheckResult) int { return c.WrongAmount }, "refunded 200"},
		{"wrong amount: sent", func(e []load.Expect, v []load.View, l []mppsim.Ledger) { e[1].Amount = 999 },
			func(c *load.CheckResult) int { return c.WrongAmount }, "sent 999"},
		{"wrong state: wallet not charged", func(e []load.Expect, v []load.View, l []mppsim.Ledger) {
			en := l[0].Payments["P0"]
			en.State = mppsim.StateClosed
			l[0].Payments["P0"] = en
		}, func(c *load.CheckResult) int { return c.WrongState }, "wallet w1 CLOSED"},
		{"wrong state: money held after cancel", func(e []load.Expect, v []load.View, l []mppsim.Ledger) {
			en := l[1].Payments["P2"]
			en.State = mppsim.StateSuccess
			l[1].Payments["P2"] = en
		}, func(c *load.CheckResult) int { return c.WrongState }, "holds 300"},
		{"unsettled", func(e []load.Expect, v []load.View, l []mppsim.Ledger) { v[1].Status = "PROCESSING" },
			func(c *load.CheckResult) int { return c.Unsettled }, "still PROCESSING"},
		{"orphan charge", func(e []load.Expect, v []load.View, l []mppsim.Ledger) {
			l[0].Payments["P7"] = mppsim.Entry{State: mppsim.StateSuccess, Charged: 5, Created: time.Date(2026, 11, 26, 12, 0, 1, 0, time.UTC)}
		}, func(c *load.CheckResult) int { return c.Orphans }, "no request of the run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exps, views, ledgers := consistent()
			tt.plant(exps, views, ledgers)
			c := load.Check(exps, views, ledgers, load.SinceFilter(time.Date(2026, 11, 26, 11, 59, 0, 0, time.UTC)))
			if c.OK() || tt.count(c) != 1 || c.Mismatches() != 1 {
				t.Fatalf("%s (examples %q)", c, c.Examples)
			}
			if !strings.Contains(strings.Join(c.Examples, "\n"), tt.msg) || !strings.Contains(c.String(), "1 MISMATCHES") {
				t.Fatalf("examples %q lack %q", c.Examples, tt.msg)
			}
		})
	}
}
