package killtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Driver plays checkout lanes against paycode and records everything in
// its Model.
type Driver struct {
	M         *Model
	Wallets   []Wallet
	NotifyURL string   // "" for no notifications
	Clients   []string // client-ids lanes use
	Seed      uint64

	seq     atomic.Int64
	Sent    atomic.Int64 // requests sent, all cycles
	Unknown atomic.Int64 // of them, without an answer
	// onSuccess, when set, is called by a lane right after a pay answered
	// SUCCESS (the harness kills paycode there).
	onSuccess atomic.Pointer[func()]
	codes     sync.Map // result code → *atomic.Int64: answers of every call
}

// Answers returns how many calls were answered with result code code.
func (d *Driver) Answers(code string) int64 {
	if n, ok := d.codes.Load(code); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

// OnSuccess sets (nil: clears) the hook lanes call right after a pay
// answered SUCCESS.
func (d *Driver) OnSuccess(f func()) {
	if f == nil {
		d.onSuccess.Store(nil)
		return
	}
	d.onSuccess.Store(&f)
}

// laneRand is lane's random source in a cycle: a pure function of the
// seed, so a replay makes the same choices (timing still differs).
func (d *Driver) laneRand(cycle, lane int) *rand.Rand {
	return rand.New(rand.NewPCG(d.Seed, uint64(cycle)<<20|uint64(lane)))
}

// newCode returns a fresh 24-digit test code of a random wallet with the
// given last two digits: prefix, "02", 14 digits unique in the run.
func (d *Driver) newCode(rng *rand.Rand, last2 int) string {
	w := d.Wallets[rng.IntN(len(d.Wallets))]
	n := d.seq.Add(1)
	return fmt.Sprintf("%s02%04d%010d%02d", w.Prefix, d.Seed%10000, n, last2)
}

// Last2 draws a code's last two digits, i.e. the wallet's behaviour:
// mostly immediate successes, then password payments, refusals, lost
// answers and wallet errors (see the README's test-code table).
func Last2(rng *rand.Rand) int {
	r := rng.IntN(100)
	switch {
	case r < 64:
		return rng.IntN(80) // 00–79 success
	case r < 72:
		return 80 + rng.IntN(5) // password, then success
	case r < 74:
		return 85 + rng.IntN(2) // password fails
	case r < 80:
		return 87 + rng.IntN(3) // balance
	case r < 82:
		return 90 + rng.IntN(2) // limit
	case r < 88:
		return 92 + rng.IntN(2) // charged, the answer is lost
	case r < 94:
		return 94 + rng.IntN(2) // wallet system error
	case r < 97:
		return 96 + rng.IntN(2) // invalid code
	default:
		return 98 + rng.IntN(2) // risk
	}
}

// work is a queue of requests to send again (with the same request ids)
// before lanes do anything new.
type work struct {
	mu      sync.Mutex
	pays    []*PayReq
	refunds []*RefundReq
}

func (w *work) next() (*PayReq, *RefundReq, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.pays); n > 0 {
		p := w.pays[n-1]
		w.pays = w.pays[:n-1]
		return p, nil, true
	}
	if n := len(w.refunds); n > 0 {
		r := w.refunds[n-1]
		w.refunds = w.refunds[:n-1]
		return nil, r, true
	}
	return nil, nil, false
}

// Lanes runs n lanes against c until ctx ends. They first send again
// every request that never got an answer (as real lanes retry after an
// outage), then a random mix of new pays, replays, code reuses, refunds,
// cancels and inquiries.
func (d *Driver) Lanes(ctx context.Context, c *Client, cycle, n int) {
	pays, refunds := d.M.Unanswered()
	q := &work{pays: pays, refunds: refunds}
	var wg sync.WaitGroup
	for lane := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := d.laneRand(cycle, lane)
			for ctx.Err() == nil {
				var ok bool
				if p, r, more := q.next(); more {
					if p != nil {
						ok = d.sendPay(ctx, c, p)
					} else {
						ok = d.sendRefund(ctx, c, r)
					}
				} else {
					ok = d.step(ctx, c, rng)
				}
				if !ok {
					// No answer: paycode is probably down; do not spin.
					select {
					case <-ctx.Done():
					case <-time.After(20 * time.Millisecond):
					}
				}
			}
		}()
	}
	wg.Wait()
}

// trafficBackoff is how long a lane waits after REQUEST_TRAFFIC_EXCEED_LIMIT.
const trafficBackoff = 200 * time.Millisecond

// post sends one call and counts it; a contract breach is an anomaly.
func (d *Driver) post(ctx context.Context, c *Client, api, client, body string) *Answer {
	d.Sent.Add(1)
	a, err := c.Post(ctx, api, client, body)
	if err != nil {
		d.M.Anomaly(err.Error())
	}
	if a != nil {
		n, _ := d.codes.LoadOrStore(a.Code, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		if a.Code == "REQUEST_TRAFFIC_EXCEED_LIMIT" {
			// Told to back off (paycode refuses pays it cannot record):
			// a lane waits before its next request, as real ones do.
			select {
			case <-ctx.Done():
			case <-time.After(trafficBackoff):
			}
		}
	}
	if a == nil {
		d.Unknown.Add(1)
	}
	return a
}

func (d *Driver) sendPay(ctx context.Context, c *Client, p *PayReq) bool {
	notify := ""
	if p.Notify {
		notify = d.NotifyURL
	}
	a := d.post(ctx, c, "pay", p.Client, PayBody(p.ReqID, p.Code, p.Amount, notify))
	if a != nil && a.Code == "SUCCESS" && a.PaymentID != "" {
		if f := d.onSuccess.Load(); f != nil {
			(*f)()
		}
	}
	d.M.RecordPay(p, a)
	return a != nil
}

func (d *Driver) sendRefund(ctx context.Context, c *Client, r *RefundReq) bool {
	a := d.post(ctx, c, "refund", r.Client, RefundBody(r.ReqID, r.PaymentID, r.Amount))
	d.M.RecordRefund(r, a)
	return a != nil
}

// step does one random lane action; false means no answer.
func (d *Driver) step(ctx context.Context, c *Client, rng *rand.Rand) bool {
	m := d.M
	r := rng.IntN(100)
	switch {
	case r < 4: // a void: the lane's pay timed out, it cancels, the pay arrives after
		return d.voidThenPay(ctx, c, rng)
	case r < 60: // a new payment
		last2 := Last2(rng)
		p := &PayReq{
			ReqID:  fmt.Sprintf("k%d-%d", d.Seed%100000, d.seq.Add(1)),
			Client: d.Clients[rng.IntN(len(d.Clients))],
			Code:   d.newCode(rng, last2), Last2: last2,
			Amount: 100 + rng.Int64N(9900),
			Notify: d.NotifyURL != "" && rng.IntN(100) < 30,
		}
		m.AddPay(p)
		if rng.IntN(100) < 6 { // the lane sends it twice at once
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); d.sendPay(ctx, c, p) }()
			ok := d.sendPay(ctx, c, p)
			wg.Wait()
			return ok
		}
		return d.sendPay(ctx, c, p)
	case r < 70: // the same request again
		if p := m.PickPay(rng, func(*PayReq) bool { return true }); p != nil {
			return d.sendPay(ctx, c, p)
		}
	case r < 72: // a used code under a new request id: must be refused
		if old := m.PickPay(rng, func(p *PayReq) bool { return len(p.PIDs) > 0 && p.ReuseOf == "" }); old != nil {
			p := &PayReq{
				ReqID:  fmt.Sprintf("k%d-%d", d.Seed%100000, d.seq.Add(1)),
				Client: old.Client, Code: old.Code, Last2: old.Last2, Amount: old.Amount, ReuseOf: old.ReqID,
			}
			m.AddPay(p)
			return d.sendPay(ctx, c, p)
		}
	case r < 82: // refund part of a success
		var pid string
		p := m.PickPay(rng, func(p *PayReq) bool {
			if !p.SawSuccess || p.CancelSent || p.RefundSent >= p.Amount || len(p.PIDs) != 1 {
				return false
			}
			pid = p.PID()
			return true
		})
		if p != nil {
			rf := &RefundReq{
				ReqID:  fmt.Sprintf("r%d-%d", d.Seed%100000, d.seq.Add(1)),
				Client: p.Client, PaymentID: pid, PayReqID: p.ReqID,
				Amount: 1 + rng.Int64N(max(1, p.Amount*2/3)),
			}
			m.AddRefund(rf)
			return d.sendRefund(ctx, c, rf)
		}
	case r < 85: // a refund again
		if rf := m.PickRefund(rng, func(*RefundReq) bool { return true }); rf != nil {
			return d.sendRefund(ctx, c, rf)
		}
	case r < 90: // cancel, by request id or by payment id
		var pid string
		p := m.PickPay(rng, func(p *PayReq) bool {
			if p.NoPayment {
				return false
			}
			pid = p.PID()
			return true
		})
		if p != nil {
			m.MarkCancel(p)
			body := fmt.Sprintf(`{"paymentRequestId":%q}`, p.ReqID)
			if pid != "" && rng.IntN(2) == 0 {
				body = fmt.Sprintf(`{"paymentId":%q}`, pid)
			}
			a := d.post(ctx, c, "cancel", p.Client, body)
			m.RecordCancel(p, a)
			return a != nil
		}
	default: // inquiry
		if p := m.PickPay(rng, func(p *PayReq) bool { return !p.NoPayment }); p != nil {
			a := d.post(ctx, c, "inquiryPayment", p.Client, fmt.Sprintf(`{"paymentRequestId":%q}`, p.ReqID))
			m.RecordInquiry(p, a)
			return a != nil
		}
	}
	return true
}

// voidThenPay plays a lane whose pay timed out on the network: it voids
// the sale with a cancel of the paymentRequestId, and the delayed pay
// reaches paycode after the cancel (or, one time in three, at the same
// moment). A cancel answered SUCCESS means no charge may survive for the
// request (the check's "charged after void").
func (d *Driver) voidThenPay(ctx context.Context, c *Client, rng *rand.Rand) bool {
	last2 := Last2(rng)
	p := &PayReq{
		ReqID:  fmt.Sprintf("k%d-%d", d.Seed%100000, d.seq.Add(1)),
		Client: d.Clients[rng.IntN(len(d.Clients))],
		Code:   d.newCode(rng, last2), Last2: last2,
		Amount: 100 + rng.Int64N(9900),
		Notify: d.NotifyURL != "" && rng.IntN(100) < 30,
	}
	d.M.AddPay(p)
	cancel := func() bool {
		d.M.MarkCancel(p)
		a := d.post(ctx, c, "cancel", p.Client, fmt.Sprintf(`{"paymentRequestId":%q}`, p.ReqID))
		d.M.RecordCancel(p, a)
		return a != nil
	}
	if rng.IntN(3) == 0 {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); d.sendPay(ctx, c, p) }()
		ok := cancel()
		wg.Wait()
		return ok
	}
	if !cancel() {
		return false
	}
	return d.sendPay(ctx, c, p)
}
