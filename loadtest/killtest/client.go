package killtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Client talks to one paycode run's lane API.
type Client struct {
	base string
	hc   *http.Client
	tr   *http.Transport
}

// NewClient returns a lane client for base (http://127.0.0.1:PORT). Each
// request is bounded by timeout.
func NewClient(base string, timeout time.Duration) *Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &Client{base: base, tr: tr, hc: &http.Client{Transport: tr, Timeout: timeout}}
}

// Close drops idle connections.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

type wireAnswer struct {
	Result struct {
		Code   string `json:"resultCode"`
		Status string `json:"resultStatus"`
	} `json:"result"`
	PaymentID        string `json:"paymentId"`
	PaymentRequestID string `json:"paymentRequestId"`
	PaymentStatus    string `json:"paymentStatus"`
	RefundID         string `json:"refundId"`
	RefundStatus     string `json:"refundStatus"`
}

// Post sends one lane API call. It returns a nil Answer and no error when
// there was no answer (connection refused or reset, timeout: unknown),
// and an error when an answer arrived but breaks the contract (HTTP
// status other than 200, no result).
func (c *Client) Post(ctx context.Context, api, clientID, body string) (*Answer, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/ams/api/v1/payments/"+api, bytes.NewReader([]byte(body)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("client-id", clientID)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil // cut off mid-answer: unknown
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", api, resp.StatusCode)
	}
	var w wireAnswer
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("%s: answer is not JSON (%d bytes)", api, len(b))
	}
	if w.Result.Code == "" || w.Result.Status == "" {
		return nil, fmt.Errorf("%s: answer without a result", api)
	}
	return &Answer{
		Status: w.Result.Status, Code: w.Result.Code, PaymentID: w.PaymentID, PaymentStatus: w.PaymentStatus,
		RefundID: w.RefundID, RefundStatus: w.RefundStatus, RequestID: w.PaymentRequestID,
	}, nil
}

// PayBody is a pay request body (as engine/httpapi's tests send), with a
// paymentNotifyUrl when notifyURL is not empty.
func PayBody(reqID, code string, amount int64, notifyURL string) string {
	notify := ""
	if notifyURL != "" {
		notify = fmt.Sprintf(`,"paymentNotifyUrl":%q`, notifyURL)
	}
	return fmt.Sprintf(`{"productCode":"IN_STORE_PAYMENT","paymentRequestId":%q,"order":{"orderDescription":"kill test","orderAmount":{"currency":"HKD","value":"%d"},"merchant":{"referenceMerchantId":"M0001","merchantMCC":"5814","merchantName":"Kill Test Cafe","store":{"referenceStoreId":"S01","storeName":"Central","storeMCC":"5814"}},"env":{"storeTerminalId":"LANE-01","storeTerminalRequestTime":"2026-11-26T10:40:00+08:00"}},"paymentAmount":{"currency":"HKD","value":"%d"},"paymentMethod":{"paymentMethodType":"CONNECT_WALLET","paymentMethodId":%q},"paymentFactor":{"inStorePaymentScenario":"PaymentCode"}%s}`,
		reqID, amount, amount, code, notify)
}

// RefundBody is a refund request body.
func RefundBody(refundReqID, paymentID string, amount int64) string {
	return fmt.Sprintf(`{"refundRequestId":%q,"paymentId":%q,"refundAmount":{"currency":"HKD","value":"%d"}}`, refundReqID, paymentID, amount)
}
