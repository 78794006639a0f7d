package killtest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/paycode/paycode/loadtest/mppsim"
)

// forEach runs fn over items with n goroutines.
func forEach[T any](items []T, n int, fn func(T)) {
	ch := make(chan T)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				fn(it)
			}
		}()
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
	wg.Wait()
}

// ReplayUnanswered sends every request that never got a definitive
// answer again, with its own request id, until each has one or rounds run
// out (paycode is up and not being killed by now).
func (d *Driver) ReplayUnanswered(ctx context.Context, c *Client, rounds int) {
	for range rounds {
		pays, refunds := d.M.Unanswered()
		if len(pays) == 0 && len(refunds) == 0 {
			return
		}
		forEach(pays, 8, func(p *PayReq) { d.sendPay(ctx, c, p) })
		forEach(refunds, 8, func(r *RefundReq) { d.sendRefund(ctx, c, r) })
		if ctx.Err() != nil {
			return
		}
	}
}

// inquire asks paycode about pid under client.
func (d *Driver) inquire(ctx context.Context, c *Client, client, pid string) (PaymentView, bool) {
	a := d.post(ctx, c, "inquiryPayment", client, fmt.Sprintf(`{"paymentId":%q}`, pid))
	if a == nil {
		return PaymentView{}, false
	}
	if a.Code != "SUCCESS" {
		return PaymentView{}, a.Code == "ORDER_NOT_EXIST"
	}
	return PaymentView{Found: true, Status: a.PaymentStatus, ReqID: a.RequestID, Client: client}, true
}

// WaitFinal polls paycode (inquiryPayment by paymentId, inquiryRefund by
// refundRequestId) until every payment and refund lanes know of is final,
// or until the deadline. It returns the last views and how long it took.
func (d *Driver) WaitFinal(ctx context.Context, c *Client, deadline time.Duration) (map[string]PaymentView, map[string]RefundView, time.Duration) {
	start := time.Now()
	type pq struct{ client, pid string }
	var qs []pq
	for _, p := range d.M.Pays() {
		for pid := range p.PIDs {
			qs = append(qs, pq{p.Client, pid})
		}
	}
	refs := d.M.Refunds()
	pays := make(map[string]PaymentView, len(qs))
	rvs := make(map[string]RefundView, len(refs))
	var mu sync.Mutex
	for {
		var pend []pq
		forEach(qs, 8, func(q pq) {
			v, ok := d.inquire(ctx, c, q.client, q.pid)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				pays[q.pid] = v
			}
			if !ok || (v.Found && !final(v.Status)) {
				pend = append(pend, q)
			}
		})
		var rpend []*RefundReq
		forEach(refs, 8, func(r *RefundReq) {
			a := d.post(ctx, c, "inquiryRefund", r.Client, fmt.Sprintf(`{"refundRequestId":%q}`, r.ReqID))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case a == nil:
				rpend = append(rpend, r)
			case a.Code == "SUCCESS":
				v := RefundView{Found: true, Status: a.RefundStatus, RefundID: a.RefundID}
				rvs[r.ReqID] = v
				if !final(v.Status) {
					rpend = append(rpend, r)
				}
			default:
				rvs[r.ReqID] = RefundView{}
			}
		})
		qs, refs = pend, rpend
		if (len(qs) == 0 && len(refs) == 0) || time.Since(start) > deadline || ctx.Err() != nil {
			return pays, rvs, time.Since(start)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Resolve asks paycode about ledger entries no lane answer named (trying
// every client), adding them to views and linking them to their request
// in the model.
func (d *Driver) Resolve(ctx context.Context, c *Client, ledgers []mppsim.Ledger, views map[string]PaymentView) {
	byReq := map[string]*PayReq{}
	for _, p := range d.M.Pays() {
		byReq[p.ReqID] = p
	}
	for _, l := range ledgers {
		for pid := range l.Payments {
			if _, ok := views[pid]; ok {
				continue
			}
			views[pid] = PaymentView{}
			for _, client := range d.Clients {
				if v, ok := d.inquire(ctx, c, client, pid); ok && v.Found {
					views[pid] = v
					if p := byReq[v.ReqID]; p != nil {
						d.M.Link(p, pid)
					}
					break
				}
			}
		}
	}
}

// FetchLedgers reads every wallet's ledger.
func FetchLedgers(wallets []Wallet) ([]mppsim.Ledger, error) {
	var out []mppsim.Ledger
	for _, w := range wallets {
		l, err := mppsim.FetchLedger(w.URL, 30*time.Second)
		if err != nil {
			return nil, fmt.Errorf("wallet %s: %w", w.Name, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// WaitNotified waits until the merchant's last acknowledged notification
// of every final notification payment agrees with paycode, or the
// deadline passes. It returns how many still disagree.
func WaitNotified(m *Merchant, pays []*PayReq, views map[string]PaymentView, deadline time.Duration) int {
	start := time.Now()
	for {
		pending := 0
		for _, p := range pays {
			pid := p.PID()
			v := views[pid]
			if !p.Notify || pid == "" || !v.Found || !final(v.Status) {
				continue
			}
			last, ok := m.LastAcked(pid)
			if !ok || (last.Status == "S") != (v.Status == "SUCCESS") {
				pending++
			}
		}
		if pending == 0 || time.Since(start) > deadline {
			return pending
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ProbeSuccesses asks paycode, right after a restart, about every payment
// a lane saw succeed (and never cancelled), and records each one paycode
// does not answer SUCCESS: an outcome the lane was told but the journal
// lost. It returns how many it asked and how many newly regressed.
func (d *Driver) ProbeSuccesses(ctx context.Context, c *Client, cycle int) (asked, regressed int) {
	reqs, pids := d.M.Successes()
	idx := make([]int, len(reqs))
	for i := range idx {
		idx[i] = i
	}
	var mu sync.Mutex
	forEach(idx, 8, func(i int) {
		v, ok := d.inquire(ctx, c, reqs[i].Client, pids[i])
		if !ok || (v.Found && v.Status == "SUCCESS") {
			return
		}
		if d.M.Regressed(pids[i], fmt.Sprintf("cycle %d: %s: a lane saw SUCCESS for %s; right after the restart paycode answers %s (found %v)",
			cycle, describe(reqs[i]), pids[i], v.Status, v.Found)) {
			mu.Lock()
			regressed++
			mu.Unlock()
		}
	})
	return len(reqs), regressed
}

// cancelUntilFinal sends p's cancel (by request id) through c until an
// answer other than U or none, or until bound passes, as a lane that
// voids a sale does; it returns how many U answers it got. The answers
// are recorded in the model.
func (d *Driver) cancelUntilFinal(ctx context.Context, c *Client, p *PayReq, bound time.Duration) (unknown int, last string) {
	deadline := time.Now().Add(bound)
	for ctx.Err() == nil {
		d.M.MarkCancel(p)
		a := d.post(ctx, c, "cancel", p.Client, fmt.Sprintf(`{"paymentRequestId":%q}`, p.ReqID))
		d.M.RecordCancel(p, a)
		if a != nil {
			last = a.Code
		}
		if a != nil && a.Status != "U" {
			return unknown, last
		}
		unknown++
		if !time.Now().Before(deadline) {
			return unknown, last
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	return unknown, last
}
