package load

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// Viewer reads paycode's view of a payment by paymentRequestId.
// Implementations are safe for concurrent use.
type Viewer interface {
	View(ctx context.Context, clientID, requestID string) (View, error)
}

// HTTPViewer asks a paycode's lane API (inquiryPayment).
type HTTPViewer struct {
	BaseURL string
	Client  *fasthttp.Client // a default client when nil
	Timeout time.Duration    // per request; 10 s when 0
	once    sync.Once
}

var _ Viewer = (*HTTPViewer)(nil)

// View implements Viewer.
func (h *HTTPViewer) View(ctx context.Context, clientID, requestID string) (View, error) {
	h.once.Do(func() {
		if h.Client == nil {
			h.Client = &fasthttp.Client{MaxConnsPerHost: 64}
		}
		if h.Timeout == 0 {
			h.Timeout = 10 * time.Second
		}
	})
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(strings.TrimRight(h.BaseURL, "/") + APIPath + "inquiryPayment")
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json; charset=UTF-8")
	req.Header.Set(httpapi.HeaderClientID, clientID)
	req.SetBodyString(`{"paymentRequestId":"` + requestID + `"}`)
	if err := h.Client.DoTimeout(req, resp, h.Timeout); err != nil {
		return View{}, fmt.Errorf("load: inquiry %s: %w", requestID, err)
	}
	return ParseInquiry(resp.Body())
}

// ParseInquiry reads an inquiryPayment answer.
func ParseInquiry(b []byte) (View, error) {
	var p fastjson.Parser
	v, err := p.ParseBytes(b)
	if err != nil {
		return View{}, errors.New("load: inquiry answer is not JSON")
	}
	switch rc := string(v.GetStringBytes("result", "resultCode")); rc {
	case "SUCCESS":
	case "ORDER_NOT_EXIST":
		return View{}, nil
	default:
		return View{}, fmt.Errorf("load: inquiry answered %s", rc)
	}
	out := View{
		Found:     true,
		PaymentID: string(v.GetStringBytes("paymentId")),
		Status:    string(v.GetStringBytes("paymentStatus")),
	}
	out.Amount, _ = codec.ParseAmountValue(v.GetStringBytes("paymentAmount", "value"))
	for _, t := range v.GetArray("transactions") {
		if string(t.GetStringBytes("transactionType")) == "REFUND" && string(t.GetStringBytes("transactionStatus")) == "SUCCESS" {
			a, _ := codec.ParseAmountValue(t.GetStringBytes("transactionAmount", "value"))
			out.Refunded += a
		}
	}
	return out, nil
}

// RoutedViewer reads each payment from the paycode its lane talked to:
// Viewers[i] answers for the lanes of Targeter's BaseURLs[i].
type RoutedViewer struct {
	Targeter *Targeter
	Viewers  []Viewer
}

var _ Viewer = (*RoutedViewer)(nil)

// View implements Viewer. An id that is not one of the run's goes to the
// first viewer.
func (r *RoutedViewer) View(ctx context.Context, clientID, requestID string) (View, error) {
	i := 0
	if rest, ok := strings.CutPrefix(requestID, r.Targeter.RequestIDPrefix()); ok {
		if n, err := strconv.ParseUint(rest, 10, 64); err == nil {
			i = r.Targeter.TargetOf(n)
		}
	}
	return r.Viewers[i%len(r.Viewers)].View(ctx, clientID, requestID)
}

// EngineViewer reads an in-process engine directly (embedded mode): no
// HTTP, so checking a long run takes seconds.
type EngineViewer struct{ Engine *engine.Engine }

var _ Viewer = EngineViewer{}

// View implements Viewer.
func (e EngineViewer) View(ctx context.Context, clientID, requestID string) (View, error) {
	var pv codec.PaymentView
	if e.Engine.Inquire(ctx, []byte(clientID), &codec.IDRequest{PaymentRequestID: []byte(requestID)}, &pv) != codec.Success {
		return View{}, nil
	}
	v := View{Found: true, PaymentID: pv.PaymentID, Status: pv.Status.String(), Amount: pv.Amount.Value}
	for _, t := range pv.Transactions {
		if t.Type == codec.TxnRefund && t.Status == codec.StatusSuccess {
			v.Refunded += t.Amount.Value
		}
	}
	return v, nil
}

// FetchViews reads the views of ids with conc requests at a time; a
// failed read is retried once, then returned as the error.
func FetchViews(ctx context.Context, v Viewer, clientID string, ids []string, conc int) ([]View, error) {
	out := make([]View, len(ids))
	if conc < 1 {
		conc = 1
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				view, err := v.View(ctx, clientID, ids[i])
				if err != nil {
					view, err = v.View(ctx, clientID, ids[i])
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
				out[i] = view
			}
		}()
	}
	for i := range ids {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return out, first
}

// LedgerSource returns the wallets' ledgers.
type LedgerSource func(ctx context.Context) ([]mppsim.Ledger, error)

// SimLedgers reads an in-process Sim's ledgers.
func SimLedgers(s *mppsim.Sim) LedgerSource {
	return func(context.Context) ([]mppsim.Ledger, error) {
		var out []mppsim.Ledger
		for _, n := range s.Names() {
			out = append(out, s.Ledger(n))
		}
		return out, nil
	}
}

// HTTPLedgers fetches ledgers from simulated wallets' base URLs (GET
// /sim/ledger), e.g. those `paycode sim` prints.
func HTTPLedgers(urls []string, timeout time.Duration) LedgerSource {
	return func(context.Context) ([]mppsim.Ledger, error) {
		var out []mppsim.Ledger
		for _, u := range urls {
			l, err := mppsim.FetchLedger(strings.TrimRight(u, "/"), timeout)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", u, err)
			}
			out = append(out, l)
		}
		return out, nil
	}
}
