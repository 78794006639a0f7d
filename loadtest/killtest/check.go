package killtest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// PaymentView is paycode's final word on one paymentId (inquiryPayment).
type PaymentView struct {
	Found  bool
	Status string // paymentStatus: SUCCESS, FAIL, CANCELLED, PROCESSING
	ReqID  string // its paymentRequestId
	Client string
}

// RefundView is paycode's final word on one refundRequestId.
type RefundView struct {
	Found    bool
	Status   string // refundStatus
	RefundID string
}

// Evidence is everything the final check compares.
type Evidence struct {
	Pays    []*PayReq
	Refunds []*RefundReq
	Ledgers []mppsim.Ledger
	// Payments is paycode's answer for every paymentId a lane saw or a
	// ledger holds.
	Payments map[string]PaymentView
	// RefundViews is paycode's answer for every refundRequestId sent.
	RefundViews map[string]RefundView
	// Notified returns the merchant's deliveries of a payment (nil: no
	// notification check).
	Notified  func(paymentID string) []Delivery
	Anomalies []string
}

// Violation kinds.
const (
	KindLost      = "lost"      // money or a success the lane was promised is gone
	KindDuplicate = "duplicate" // a request dispatched or charged twice
	KindSingleUse = "single-use"
	KindNotFinal  = "not-final"
	KindAgree     = "disagree" // paycode and the wallet (or the lane) disagree
	KindRefund    = "refund"
	KindNotify    = "notify"
	KindProtocol  = "protocol"
	// KindChargedAfterVoid: a wallet holds money for a request a lane's
	// cancel was answered SUCCESS for (before or after its pay arrived).
	KindChargedAfterVoid = "charged-after-void"
)

// Violation is one broken promise, described with masked codes only.
type Violation struct {
	Kind   string
	Detail string
}

// Report is the check's result.
type Report struct {
	Violations []Violation
	Payments   int // paymentIds paycode knows
	Requests   int // paymentRequestIds sent
	Charged    int // ledger entries holding money at the end
	Successes  int // payments SUCCESS in paycode
	Refunds    int // refunds SUCCESS in paycode
	Notified   int // notification payments checked
	// Voided: requests whose cancel was answered SUCCESS while no answer
	// had carried a paymentId; VoidRefused: of them, pays refused
	// without a payment.
	Voided, VoidRefused int
}

// Count returns how many violations are of kind.
func (r *Report) Count(kind string) int {
	n := 0
	for _, v := range r.Violations {
		if v.Kind == kind {
			n++
		}
	}
	return n
}

func (r *Report) add(kind, format string, args ...any) {
	r.Violations = append(r.Violations, Violation{Kind: kind, Detail: fmt.Sprintf(format, args...)})
}

// String lists the violations, grouped by kind, at most limit per kind.
func (r *Report) String(limit int) string {
	byKind := map[string][]string{}
	for _, v := range r.Violations {
		byKind[v.Kind] = append(byKind[v.Kind], v.Detail)
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var b strings.Builder
	for _, k := range kinds {
		ds := byKind[k]
		fmt.Fprintf(&b, "%s: %d\n", k, len(ds))
		for i, d := range ds {
			if i == limit {
				fmt.Fprintf(&b, "  … %d more\n", len(ds)-limit)
				break
			}
			fmt.Fprintf(&b, "  %s\n", d)
		}
	}
	return b.String()
}

func final(status string) bool {
	return status == "SUCCESS" || status == "FAIL" || status == "CANCELLED"
}

func describe(p *PayReq) string {
	return fmt.Sprintf("request %s (client %s, code %s, amount %d)", p.ReqID, p.Client, codec.Mask(p.Code), p.Amount)
}

// Check compares paycode, the lanes' record and the ledgers.
func Check(ev *Evidence) Report {
	var rep Report
	byReq := make(map[string]*PayReq, len(ev.Pays))
	for _, p := range ev.Pays {
		byReq[p.ReqID] = p
	}
	rep.Requests = len(ev.Pays)
	for _, v := range ev.Payments {
		if v.Found {
			rep.Payments++
			if v.Status == "SUCCESS" {
				rep.Successes++
			}
		}
	}

	// Refunds: paycode's view against what lanes saw.
	refunded := map[string]int64{} // paymentId → paycode's successful refunds
	for _, r := range ev.Refunds {
		v := ev.RefundViews[r.ReqID]
		switch {
		case !v.Found && r.SawSuccess:
			rep.add(KindLost, "refund %s of payment %s: the lane saw SUCCESS, paycode does not know it", r.ReqID, r.PaymentID)
		case !v.Found && !r.Answered:
			rep.add(KindNotFinal, "refund %s of payment %s: never answered, even after the final restart", r.ReqID, r.PaymentID)
		case !v.Found:
		case !final(v.Status):
			rep.add(KindNotFinal, "refund %s of payment %s is still %s", r.ReqID, r.PaymentID, v.Status)
		case r.SawSuccess && v.Status != "SUCCESS":
			rep.add(KindLost, "refund %s of payment %s: the lane saw SUCCESS, paycode now says %s", r.ReqID, r.PaymentID, v.Status)
		case r.SawFail && v.Status == "SUCCESS":
			rep.add(KindAgree, "refund %s of payment %s: the lane saw it fail, paycode now says SUCCESS", r.ReqID, r.PaymentID)
		}
		if v.Found && v.Status == "SUCCESS" {
			refunded[r.PaymentID] += r.Amount
			rep.Refunds++
		}
	}

	// Ledgers: every entry against paycode.
	entries := map[string]mppsim.Entry{} // by paymentId
	perReq := map[string][]string{}      // paymentRequestId → ledger paymentIds
	perCode := map[string][]string{}     // code → ledger paymentIds
	for _, l := range ev.Ledgers {
		ids := make([]string, 0, len(l.Payments))
		for id := range l.Payments {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, pid := range ids {
			e := l.Payments[pid]
			entries[pid] = e
			if e.Held() > 0 {
				rep.Charged++
			}
			if e.Refunded > e.Charged {
				rep.add(KindRefund, "wallet %s payment %s: refunded %d of a charge of %d", l.Wallet, pid, e.Refunded, e.Charged)
			}
			v := ev.Payments[pid]
			p := byReq[v.ReqID]
			if !v.Found || p == nil {
				kind := KindAgree
				if e.Held() > 0 {
					kind = KindLost
				}
				rep.add(kind, "wallet %s holds %d (state %s, code %s) for payment %s that paycode does not know: dispatched without a durable intent?",
					l.Wallet, e.Held(), e.State, e.CodeMasked, pid)
				continue
			}
			perReq[p.ReqID] = append(perReq[p.ReqID], pid)
			perCode[p.Code] = append(perCode[p.Code], pid)
			if p.CancelOK && e.Held() > 0 {
				rep.add(KindChargedAfterVoid, "%s: a cancel was answered SUCCESS, yet wallet %s holds %d for %s (paycode says %s)",
					describe(p), l.Wallet, e.Held(), pid, v.Status)
			}
			switch v.Status {
			case "SUCCESS":
				if e.State != mppsim.StateSuccess || e.Charged != p.Amount {
					rep.add(KindAgree, "%s: paycode says SUCCESS for %s, wallet %s has it %s with %d charged",
						describe(p), pid, l.Wallet, e.State, e.Charged)
				}
			case "FAIL", "CANCELLED":
				if e.Held() > 0 {
					rep.add(KindLost, "%s: wallet %s holds %d for %s, paycode says %s",
						describe(p), l.Wallet, e.Held(), pid, v.Status)
				}
			}
			if e.Refunded != refunded[pid] {
				rep.add(KindRefund, "%s: wallet %s refunded %d of %s, paycode's successful refunds sum to %d",
					describe(p), l.Wallet, e.Refunded, pid, refunded[pid])
			}
		}
	}
	for req, pids := range perReq {
		if len(pids) > 1 {
			rep.add(KindDuplicate, "%s reached the wallets as %d payments: %v", describe(byReq[req]), len(pids), pids)
		}
	}
	for code, pids := range perCode {
		if len(pids) > 1 {
			charged := 0
			for _, pid := range pids {
				if entries[pid].Charged > 0 {
					charged++
				}
			}
			kind := KindSingleUse
			if charged > 1 {
				kind = KindDuplicate
			}
			rep.add(kind, "code %s reached the wallets %d times (%d charged): %v", codec.Mask(code), len(pids), charged, pids)
		}
	}

	// Requests: every answer a lane saw still holds.
	for _, p := range ev.Pays {
		if len(p.PIDs) > 1 {
			ids := make([]string, 0, len(p.PIDs))
			for id := range p.PIDs {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			rep.add(KindDuplicate, "%s was answered with %d paymentIds: %v", describe(p), len(ids), ids)
		}
		if p.ReuseOf != "" && len(p.PIDs) > 0 {
			rep.add(KindSingleUse, "%s reuses the code of %s yet was dispatched as %s", describe(p), p.ReuseOf, p.PID())
		}
		pid := p.PID()
		if p.CancelOK && pid == "" {
			rep.Voided++
			if p.NoPayment {
				rep.VoidRefused++
			}
		}
		if pid == "" {
			if !p.NoPayment {
				rep.add(KindNotFinal, "%s: never answered with a payment, even after the final restart (last answer %q)", describe(p), p.LastAnswer)
			}
			continue
		}
		if p.NoPayment && p.ReuseOf == "" {
			rep.add(KindAgree, "%s: answered F without a payment, yet later dispatched as %s", describe(p), pid)
		}
		v := ev.Payments[pid]
		if !v.Found {
			rep.add(KindLost, "%s: paycode forgot payment %s (lanes had seen it, last answer %s)", describe(p), pid, p.LastAnswer)
			continue
		}
		if !final(v.Status) {
			rep.add(KindNotFinal, "%s: payment %s is still %s", describe(p), pid, v.Status)
		}
		if v.ReqID != p.ReqID {
			rep.add(KindAgree, "%s: payment %s belongs to request %s in paycode", describe(p), pid, v.ReqID)
		}
		if p.SawSuccess && v.Status != "SUCCESS" && !(v.Status == "CANCELLED" && p.CancelSent) {
			rep.add(KindLost, "%s: a lane saw SUCCESS for %s, paycode now says %s (no cancel sent: %v)", describe(p), pid, v.Status, !p.CancelSent)
		}
		if p.SawFail && v.Status != "FAIL" {
			rep.add(KindAgree, "%s: a lane saw it fail (%s), paycode now says %s for %s", describe(p), p.SawFailAs, v.Status, pid)
		}
		if p.SawCancelled && v.Status != "CANCELLED" {
			rep.add(KindAgree, "%s: a lane saw it cancelled, paycode now says %s for %s", describe(p), v.Status, pid)
		}
		if p.CancelOK && v.Status == "SUCCESS" {
			rep.add(KindAgree, "%s: a cancel answered SUCCESS, paycode now says SUCCESS for %s", describe(p), pid)
		}
		// Notifications: the merchant's last acknowledged one is the final
		// state, and none claimed a success that never was.
		if ev.Notified == nil || !p.Notify || !final(v.Status) {
			continue
		}
		rep.Notified++
		ds := ev.Notified(pid)
		var last *Delivery
		for i := range ds {
			d := &ds[i]
			if d.Status == "S" && entries[pid].Charged == 0 {
				rep.add(KindNotify, "%s: merchant was told SUCCESS for %s, which no wallet charged", describe(p), pid)
			}
			if d.RequestID != p.ReqID || d.ClientID != p.Client {
				rep.add(KindNotify, "%s: a notification of %s names request %s, client %s", describe(p), pid, d.RequestID, d.ClientID)
			}
			if d.Acked {
				last = d
			}
		}
		switch {
		case last == nil:
			rep.add(KindNotify, "%s: payment %s is %s but the merchant acknowledged no notification (%d refused)", describe(p), pid, v.Status, len(ds))
		case (last.Status == "S") != (v.Status == "SUCCESS"):
			rep.add(KindNotify, "%s: payment %s is %s but the merchant's last acknowledged notification says %s/%s",
				describe(p), pid, v.Status, last.Status, last.Code)
		}
	}
	for _, a := range ev.Anomalies {
		rep.add(KindProtocol, "%s", a)
	}
	return rep
}
