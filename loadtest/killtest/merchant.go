package killtest

import (
	"encoding/json"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Merchant is the merchant's notification endpoint: it refuses the first
// FailFirst(paymentId) deliveries of each payment (HTTP 500 or a FAIL
// result, alternately), acknowledges the rest, and can be stopped and
// restarted on the same address between cycles.
type Merchant struct {
	Addr string

	mu         sync.Mutex
	srv        *http.Server
	deliveries map[string][]Delivery // by paymentId, in arrival order
	attempts   map[string]int
	total      int
	refused    int
	down       bool // Stop: refuse every delivery
}

// Delivery is one notifyPayment the merchant received.
type Delivery struct {
	Status, Code string // result.resultStatus / resultCode: the payment's outcome
	RequestID    string
	ClientID     string
	Acked        bool
	At           time.Time
}

// FailFirst is how many deliveries of a payment the merchant refuses
// before it acknowledges one: 0, 1 or 2, fixed by the paymentId.
func FailFirst(paymentID string) int {
	h := fnv.New32a()
	h.Write([]byte(paymentID))
	return int(h.Sum32() % 3)
}

// StartMerchant listens on a free loopback port.
func StartMerchant() (*Merchant, error) {
	m := &Merchant{deliveries: map[string][]Delivery{}, attempts: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m.Addr = ln.Addr().String()
	m.serve(ln)
	return m, nil
}

// URL is the notify URL lanes put in pays.
func (m *Merchant) URL() string { return "http://" + m.Addr + "/notify" }

func (m *Merchant) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(m.handle), ReadHeaderTimeout: 5 * time.Second}
	m.mu.Lock()
	m.srv = srv
	m.mu.Unlock()
	go srv.Serve(ln)
}

// Stop takes the endpoint down: deliveries fail (the connection is
// closed without an answer). The listener stays open: giving the port up
// would let the kernel hand it out as an ephemeral port to any process,
// and Restart could then not bind it again.
func (m *Merchant) Stop() {
	m.mu.Lock()
	m.down = true
	m.mu.Unlock()
}

// Restart brings the endpoint back up on the same address.
func (m *Merchant) Restart() error {
	m.mu.Lock()
	m.down = false
	m.mu.Unlock()
	return nil
}

// Close shuts the endpoint for good.
func (m *Merchant) Close() {
	m.mu.Lock()
	srv := m.srv
	m.srv = nil
	m.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

type notifyBody struct {
	NotifyType string `json:"notifyType"`
	Result     struct {
		Code   string `json:"resultCode"`
		Status string `json:"resultStatus"`
	} `json:"result"`
	PaymentRequestID string `json:"paymentRequestId"`
	PaymentID        string `json:"paymentId"`
}

func (m *Merchant) handle(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	down := m.down
	m.mu.Unlock()
	if down {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return
	}
	var n notifyBody
	if err := json.Unmarshal(b, &n); err != nil || n.PaymentID == "" {
		http.Error(w, "bad notification", http.StatusBadRequest)
		return
	}
	m.mu.Lock()
	m.total++
	m.attempts[n.PaymentID]++
	k := m.attempts[n.PaymentID]
	ack := k > FailFirst(n.PaymentID)
	if !ack {
		m.refused++
	}
	m.deliveries[n.PaymentID] = append(m.deliveries[n.PaymentID], Delivery{
		Status: n.Result.Status, Code: n.Result.Code, RequestID: n.PaymentRequestID,
		ClientID: r.Header.Get("client-id"), Acked: ack, At: time.Now(),
	})
	m.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case ack:
		io.WriteString(w, `{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}`)
	case k%2 == 1:
		http.Error(w, `{"result":{"resultCode":"UNKNOWN_EXCEPTION","resultStatus":"U"}}`, http.StatusInternalServerError)
	default:
		io.WriteString(w, `{"result":{"resultCode":"PROCESS_FAIL","resultStatus":"F","resultMessage":"try again"}}`)
	}
}

// Deliveries returns a copy of what arrived for paymentID.
func (m *Merchant) Deliveries(paymentID string) []Delivery {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Delivery(nil), m.deliveries[paymentID]...)
}

// Counts returns the deliveries received, refused, and the payments
// notified.
func (m *Merchant) Counts() (total, refused, payments int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.total, m.refused, len(m.deliveries)
}

// LastAcked is the last acknowledged delivery of paymentID.
func (m *Merchant) LastAcked(paymentID string) (Delivery, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ds := m.deliveries[paymentID]
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Acked {
			return ds[i], true
		}
	}
	return Delivery{}, false
}
