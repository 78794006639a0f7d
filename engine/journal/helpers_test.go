package journal_test

import (
	"context"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal/journaltest"
)

// testJournal is what both implementations offer.
type testJournal interface {
	engine.Journal
	CodeKey() []byte
}

var t0 = time.Date(2026, 11, 26, 9, 30, 0, 123456789, time.UTC)

// payment returns a fully populated payment record.
func payment(id string, status codec.PaymentStatus, updated time.Time, version uint64) *engine.PaymentRecord {
	p := &engine.PaymentRecord{
		PaymentID:  id,
		ClientID:   "SANDBOX_5YBZ1C2ZT2VS05247",
		RequestID:  "req-" + id,
		CodeMasked: "2810**********1234",
		Amount:     codec.Amount{Value: 12345, Currency: codec.MustCurrency("HKD")},
		MethodType: "CONNECT_WALLET",
		Scenario:   "OfflineMPM",
		Settlement: codec.MustCurrency("USD"),
		Wallet:     "ALIPAY_HK",
		NotifyURL:  "https://merchant.example/notify?id=" + id,
		Created:    t0,
		Deadline:   t0.Add(2 * time.Minute),
		Status:     status,
		Result:     codec.PaymentInProcess,
		Message:    "payment in process",
		CustomerID: "2088102000000001",
		Brand:      "AlipayHK",
		CloseAs:    codec.StatusNone,
		Updated:    updated,
		Version:    version,
	}
	for i := range p.CodeHash {
		p.CodeHash[i] = byte(i * 7)
	}
	if status == codec.StatusSuccess {
		p.Result = codec.Success
		p.Message = "success"
		p.PaidAt = updated
	}
	return p
}

func refund(id, paymentID string, status codec.PaymentStatus, updated time.Time) *engine.RefundRecord {
	r := &engine.RefundRecord{
		RefundID:  id,
		ClientID:  "SANDBOX_5YBZ1C2ZT2VS05247",
		RequestID: "rreq-" + id,
		PaymentID: paymentID,
		Amount:    codec.Amount{Value: 100, Currency: codec.MustCurrency("HKD")},
		Reason:    "customer changed mind",
		Created:   t0,
		Status:    status,
		Result:    codec.RefundInProcess,
		Updated:   updated,
		Version:   1,
	}
	if status == codec.StatusSuccess {
		r.Result = codec.Success
		r.DoneAt = updated
	}
	return r
}

func notification(paymentID string, attempts int) *engine.NotificationRecord {
	return &engine.NotificationRecord{
		PaymentID: paymentID,
		URL:       "https://merchant.example/notify",
		Body:      []byte(`{"paymentId":"` + paymentID + `","result":{"resultCode":"SUCCESS"}}`),
		Attempts:  attempts,
		Due:       t0.Add(time.Duration(attempts) * time.Minute),
	}
}

// loaded and load are journaltest's, under the names these tests use.
type loaded = journaltest.Loaded

func load(t testing.TB, j engine.Journal) loaded {
	t.Helper()
	return journaltest.Load(t, j)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func mustEqual(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func appendOK(t testing.TB, j engine.Journal, b *engine.Batch) {
	t.Helper()
	if err := j.Append(context.Background(), b, true); err != nil {
		t.Fatalf("Append: %v", err)
	}
}
