package load

import (
	"fmt"
	"strings"
	"time"

	"github.com/paycode/paycode/loadtest/mppsim"
)

// View is paycode's view of one payment, from inquiryPayment or the
// engine.
type View struct {
	Found     bool
	PaymentID string
	Status    string // SUCCESS, FAIL, CANCELLED or PROCESSING
	Amount    int64
	Refunded  int64 // sum of successful refunds
}

// Expect is what the load tool knows of one paymentRequestId it sent.
type Expect struct {
	RequestID string
	Amount    int64
	// MustNotExist: a pay with an invalid code; paycode must have recorded
	// nothing.
	MustNotExist bool
	// AnsweredID is the paymentId the first answer carried ("" if none);
	// ReplayID the one a replay's answer carried.
	AnsweredID string
	ReplayID   string
}

// CheckResult counts the ways paycode and the wallets disagree. Any
// mismatch fails a run.
type CheckResult struct {
	Payments  int `json:"payments"` // paymentRequestIds checked
	Found     int `json:"found"`
	Success   int `json:"success"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
	Ledger    int `json:"ledger_entries"` // wallet entries of this run
	// Lost: paycode answered with a paymentId but no longer knows the
	// payment, or says SUCCESS with no wallet record of it.
	Lost int `json:"lost"`
	// Duplicated: one paymentRequestId with two paymentIds, one paymentId
	// in two places, or a refused (invalid) pay that got recorded.
	Duplicated int `json:"duplicated"`
	// WrongAmount: charged or refunded amounts differ.
	WrongAmount int `json:"wrong_amount"`
	// WrongState: paycode SUCCESS and the wallet not, or paycode FAIL /
	// CANCELLED while the wallet still holds the money.
	WrongState int `json:"wrong_state"`
	// Unsettled: still PROCESSING after the drain.
	Unsettled int `json:"unsettled"`
	// Orphans: wallet entries of this run holding money that no payment
	// paycode knows of maps to.
	Orphans  int      `json:"orphans"`
	Examples []string `json:"examples,omitempty"`
}

// maxExamples bounds the messages kept.
const maxExamples = 10

// Mismatches is the number of problems found.
func (c *CheckResult) Mismatches() int {
	return c.Lost + c.Duplicated + c.WrongAmount + c.WrongState + c.Unsettled + c.Orphans
}

// OK reports whether paycode and the wallets agree on everything.
func (c *CheckResult) OK() bool { return c.Mismatches() == 0 }

func (c *CheckResult) String() string {
	v := "OK"
	if !c.OK() {
		v = fmt.Sprintf("%d MISMATCHES", c.Mismatches())
	}
	return fmt.Sprintf("%s: %d payments checked (%d found: %d success, %d failed, %d cancelled), %d ledger entries; lost %d, duplicated %d, wrong amount %d, wrong state %d, unsettled %d, orphan charges %d",
		v, c.Payments, c.Found, c.Success, c.Failed, c.Cancelled, c.Ledger, c.Lost, c.Duplicated, c.WrongAmount, c.WrongState, c.Unsettled, c.Orphans)
}

func (c *CheckResult) example(format string, args ...any) {
	if len(c.Examples) < maxExamples {
		c.Examples = append(c.Examples, fmt.Sprintf(format, args...))
	}
}

// LedgerFilter says which ledger entries belong to the run (orphans are
// looked for among those only); nil means all.
type LedgerFilter func(e *mppsim.Entry) bool

// RunFilter keeps the entries of the run whose paymentRequestIds start
// with prefix (Targeter.RequestIDPrefix): the load tool writes the
// paymentRequestId into each pay's order description, which the
// simulated wallets keep. Other runs' entries, before, after or at the
// same time against the same wallets, are not this run's orphans.
func RunFilter(prefix string) LedgerFilter {
	return func(e *mppsim.Entry) bool { return strings.Contains(e.Order, prefix) }
}

// SinceFilter keeps entries created at or after t (the wallets' clock).
func SinceFilter(t time.Time) LedgerFilter {
	return func(e *mppsim.Entry) bool { return !e.Created.Before(t) }
}

// Check compares paycode's views (views[i] is exps[i]'s) with the
// wallets' ledgers.
func Check(exps []Expect, views []View, ledgers []mppsim.Ledger, mine LedgerFilter) *CheckResult {
	c := &CheckResult{Payments: len(exps)}
	type placed struct {
		e      mppsim.Entry
		wallet string
		used   bool
	}
	byID := map[string]*placed{}
	for _, l := range ledgers {
		for id, e := range l.Payments {
			if e.Tombstone {
				continue
			}
			if mine != nil && !mine(&e) {
				continue
			}
			c.Ledger++
			if prev, ok := byID[id]; ok {
				c.Duplicated++
				c.example("payment %s is in two wallets' ledgers: %s and %s", id, prev.wallet, l.Wallet)
				continue
			}
			byID[id] = &placed{e: e, wallet: l.Wallet}
		}
	}
	for i, x := range exps {
		v := views[i]
		if x.MustNotExist {
			if v.Found {
				c.Duplicated++
				c.example("%s: a refused pay (invalid code) was recorded as %s %s", x.RequestID, v.PaymentID, v.Status)
				if pl := byID[v.PaymentID]; pl != nil {
					pl.used = true
				}
			}
			continue
		}
		if !v.Found {
			if x.AnsweredID != "" {
				c.Lost++
				c.example("%s: answered with payment %s, which paycode no longer knows", x.RequestID, x.AnsweredID)
			}
			continue
		}
		c.Found++
		if x.AnsweredID != "" && x.AnsweredID != v.PaymentID {
			c.Duplicated++
			c.example("%s: first answered as payment %s, now %s", x.RequestID, x.AnsweredID, v.PaymentID)
		}
		if x.ReplayID != "" && x.ReplayID != v.PaymentID {
			c.Duplicated++
			c.example("%s: a replay was answered as payment %s, not %s", x.RequestID, x.ReplayID, v.PaymentID)
		}
		if v.Amount != x.Amount {
			c.WrongAmount++
			c.example("%s: paycode amount %d, sent %d", x.RequestID, v.Amount, x.Amount)
		}
		pl := byID[v.PaymentID]
		if pl != nil {
			if pl.used {
				c.Duplicated++
				c.example("%s: wallet entry %s already belongs to another request", x.RequestID, v.PaymentID)
			}
			pl.used = true
		}
		switch v.Status {
		case "SUCCESS":
			c.Success++
			switch {
			case pl == nil:
				c.Lost++
				c.example("%s: paycode SUCCESS (%s), no wallet has it", x.RequestID, v.PaymentID)
			case pl.e.State != mppsim.StateSuccess:
				c.WrongState++
				c.example("%s: paycode SUCCESS, wallet %s %s", x.RequestID, pl.wallet, pl.e.State)
			case pl.e.Charged != v.Amount || pl.e.Refunded != v.Refunded:
				c.WrongAmount++
				c.example("%s: paycode charged %d refunded %d, wallet %s charged %d refunded %d",
					x.RequestID, v.Amount, v.Refunded, pl.wallet, pl.e.Charged, pl.e.Refunded)
			}
		case "FAIL", "CANCELLED":
			if v.Status == "FAIL" {
				c.Failed++
			} else {
				c.Cancelled++
			}
			if pl != nil && pl.e.Held() != 0 {
				c.WrongState++
				c.example("%s: paycode %s, wallet %s holds %d (%s)", x.RequestID, v.Status, pl.wallet, pl.e.Held(), pl.e.State)
			}
		default:
			c.Unsettled++
			c.example("%s: still %s after the drain", x.RequestID, v.Status)
		}
	}
	for id, pl := range byID {
		if !pl.used && pl.e.Held() > 0 {
			c.Orphans++
			c.example("wallet %s holds %d for payment %s that no request of the run maps to", pl.wallet, pl.e.Held(), id)
		}
	}
	return c
}

// summarize one line per problem kind for failure messages.
func (c *CheckResult) failure() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(c.Lost, "lost")
	add(c.Duplicated, "duplicated")
	add(c.WrongAmount, "wrong amount")
	add(c.WrongState, "wrong state")
	add(c.Unsettled, "unsettled")
	add(c.Orphans, "orphan charges")
	return "correctness check: paycode and the wallets' ledgers disagree: " + strings.Join(parts, ", ")
}
