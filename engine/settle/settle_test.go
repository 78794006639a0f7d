package settle_test

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zone names without the system database

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/engine/settle"
)

var (
	hkd = codec.MustCurrency("HKD")
	jpy = codec.MustCurrency("JPY")
	// day is 2026-11-26 in UTC; at is a time inside it.
	day    = settle.Day{Year: 2026, Month: time.November, Day: 26}
	at     = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	before = at.Add(-24 * time.Hour)
	after  = at.Add(24 * time.Hour)
)

func pay(id string, st codec.PaymentStatus, paid, cancelled time.Time) *engine.PaymentRecord {
	return &engine.PaymentRecord{
		PaymentID: id, ClientID: "LANE-1", RequestID: "req-" + id, Amount: codec.Amount{Value: 1250, Currency: hkd},
		MethodType: "CONNECT_WALLET", Wallet: "mpp-281001", Status: st, PaidAt: paid, CancelledAt: cancelled,
		Created: paid,
	}
}

func refund(id, pid string, st codec.PaymentStatus, done time.Time, v int64) *engine.RefundRecord {
	return &engine.RefundRecord{
		RefundID: id, ClientID: "LANE-1", RequestID: "rreq-" + id, PaymentID: pid,
		Amount: codec.Amount{Value: v, Currency: hkd}, Status: st, DoneAt: done,
	}
}

const header = "customerId,acquirerReferenceNo,transactionId,originalTransactionId,transactionRequestId,transactionType,transactionStatus,transactionTime,transactionAmountValue,transactionCurrency,paymentMethodType,pspName,productCode\n"

// TestRows: which journal records give which rows, per the package rules.
func TestRows(t *testing.T) {
	zero := time.Time{}
	cases := []struct {
		name    string
		pays    []*engine.PaymentRecord
		refunds []*engine.RefundRecord
		want    string // rows, without header and <END>
	}{
		{"paid today", []*engine.PaymentRecord{pay("p1", codec.StatusSuccess, at, zero)}, nil,
			"LANE-1,,p1,,req-p1,PAYMENT,SUCCESS,2026-11-26T09:30:00Z,1250,HKD,CONNECT_WALLET,mpp-281001,IN_STORE_PAYMENT\n"},
		{"paid yesterday, paid tomorrow", []*engine.PaymentRecord{
			pay("p1", codec.StatusSuccess, before, zero), pay("p2", codec.StatusSuccess, after, zero)}, nil, ""},
		{"failed and processing are not settled", []*engine.PaymentRecord{
			pay("p1", codec.StatusFail, zero, zero), pay("p2", codec.StatusProcessing, zero, zero)}, nil, ""},
		{"cancelled before any charge moved no money", []*engine.PaymentRecord{
			pay("p1", codec.StatusCancelled, zero, at)}, nil, ""},
		{"paid and reversed the same day", []*engine.PaymentRecord{
			pay("p1", codec.StatusCancelled, at, at.Add(time.Minute))}, nil,
			"LANE-1,,p1,,req-p1,PAYMENT,SUCCESS,2026-11-26T09:30:00Z,1250,HKD,CONNECT_WALLET,mpp-281001,IN_STORE_PAYMENT\n" +
				"LANE-1,,p1,p1,req-p1,CANCEL,SUCCESS,2026-11-26T09:31:00Z,1250,HKD,CONNECT_WALLET,mpp-281001,IN_STORE_PAYMENT\n"},
		{"paid yesterday, reversed today", []*engine.PaymentRecord{
			pay("p1", codec.StatusCancelled, before, at)}, nil,
			"LANE-1,,p1,p1,req-p1,CANCEL,SUCCESS,2026-11-26T09:30:00Z,1250,HKD,CONNECT_WALLET,mpp-281001,IN_STORE_PAYMENT\n"},
		{"refunds: success listed, failed and processing not", []*engine.PaymentRecord{
			pay("p1", codec.StatusSuccess, before, zero)}, []*engine.RefundRecord{
			refund("r1", "p1", codec.StatusSuccess, at, 250), refund("r2", "p1", codec.StatusFail, zero, 99),
			refund("r3", "p1", codec.StatusProcessing, zero, 98), refund("r4", "p1", codec.StatusSuccess, after, 97)},
			"LANE-1,,r1,p1,rreq-r1,REFUND,SUCCESS,2026-11-26T09:30:00Z,250,HKD,CONNECT_WALLET,mpp-281001,IN_STORE_PAYMENT\n"},
		{"refund of a compacted payment", nil, []*engine.RefundRecord{refund("r1", "p0", codec.StatusSuccess, at, 250)},
			"LANE-1,,r1,p0,rreq-r1,REFUND,SUCCESS,2026-11-26T09:30:00Z,250,HKD,,,IN_STORE_PAYMENT\n"},
		{"day bounds: midnight in, next midnight out", []*engine.PaymentRecord{
			pay("p1", codec.StatusSuccess, day.Start(), zero), pay("p2", codec.StatusSuccess, day.End(), zero),
			pay("p3", codec.StatusSuccess, day.End().Add(-time.Nanosecond), zero)}, nil,
			"LANE-1,,p1,,req-p1,PAYMENT,SUCCESS,2026-11-26T00:00:00Z,1250,HKD,CONNECT_WALLET,mpp-281001,IN_STORE_PAYMENT\n" +
				"LANE-1,,p3,,req-p3,PAYMENT,SUCCESS,2026-11-26T23:59:59Z,1250,HKD,CONNECT_WALLET,mpp-281001,IN_STORE_PAYMENT\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := settle.WriteFile(&b, nil, settle.Rows(day, c.pays, c.refunds)); err != nil {
				t.Fatal(err)
			}
			if want := header + c.want + "<END>\n"; b.String() != want {
				t.Errorf("file:\n%s\nwant:\n%s", b.String(), want)
			}
		})
	}
}

// TestRowsTimeZone: the day is cut at midnight in its zone, and times are
// written with its offset.
func TestRowsTimeZone(t *testing.T) {
	hk, err := settle.LoadLocation("+08:00")
	if err != nil {
		t.Fatal(err)
	}
	d, err := settle.ParseDay("2026-11-27", hk)
	if err != nil {
		t.Fatal(err)
	}
	p := pay("p1", codec.StatusSuccess, time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC), time.Time{}) // 01:00 on the 27th in HK
	q := pay("p2", codec.StatusSuccess, time.Date(2026, 11, 26, 15, 59, 59, 0, time.UTC), time.Time{})
	var b bytes.Buffer
	if err := settle.WriteFile(&b, hk, settle.Rows(d, []*engine.PaymentRecord{p, q}, nil)); err != nil {
		t.Fatal(err)
	}
	want := header + "LANE-1,,p1,,req-p1,PAYMENT,SUCCESS,2026-11-27T01:00:00+08:00,1250,HKD,CONNECT_WALLET,mpp-281001,IN_STORE_PAYMENT\n<END>\n"
	if b.String() != want {
		t.Errorf("file:\n%s\nwant:\n%s", b.String(), want)
	}
	ny, err := settle.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := settle.ParseDay("2026-11-01", ny); d.End().Sub(d.Start()) != 25*time.Hour {
		t.Errorf("the day summer time ends lasts %v", d.End().Sub(d.Start()))
	}
	for _, name := range []string{"UTC", "", "Asia/Hong_Kong", "-05:30", "+0800"} {
		if _, err := settle.LoadLocation(name); err != nil {
			t.Errorf("LoadLocation(%q): %v", name, err)
		}
	}
	for _, name := range []string{"+8", "Mars/Olympus", "+25:00"} {
		if _, err := settle.LoadLocation(name); err == nil {
			t.Errorf("LoadLocation(%q) accepted", name)
		}
	}
}

// TestWriteDeterministic: the same records in any order give the same
// bytes, and the file reads back as the rows written.
func TestWriteDeterministic(t *testing.T) {
	var pays []*engine.PaymentRecord
	var refunds []*engine.RefundRecord
	for i := range 50 {
		id := "p" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		p := pay(id, codec.StatusSuccess, at.Add(time.Duration(i%7)*time.Second), time.Time{})
		if i%5 == 0 {
			p.Status, p.CancelledAt = codec.StatusCancelled, at.Add(time.Hour)
		}
		if i%3 == 0 {
			p.Amount = codec.Amount{Value: int64(i), Currency: jpy}
		}
		pays = append(pays, p)
		if i%4 == 1 {
			refunds = append(refunds, refund("r"+id, id, codec.StatusSuccess, at.Add(2*time.Hour), 1))
		}
	}
	var first []byte
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 5 {
		rng.Shuffle(len(pays), func(i, j int) { pays[i], pays[j] = pays[j], pays[i] })
		rng.Shuffle(len(refunds), func(i, j int) { refunds[i], refunds[j] = refunds[j], refunds[i] })
		var b bytes.Buffer
		if err := settle.WriteFile(&b, nil, settle.Rows(day, pays, refunds)); err != nil {
			t.Fatal(err)
		}
		if round == 0 {
			first = b.Bytes()
			continue
		}
		if !bytes.Equal(first, b.Bytes()) {
			t.Fatalf("round %d wrote other bytes", round)
		}
	}
	rows, err := settle.Parse(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	want := settle.Rows(day, pays, refunds)
	if len(rows) != len(want) || len(rows) != 50+10+13 {
		t.Fatalf("read %d rows, built %d", len(rows), len(want))
	}
	for i := range rows {
		if rows[i].Line != i+2 {
			t.Errorf("row %d: line %d", i, rows[i].Line)
		}
		rows[i].Line = 0
		if !rows[i].Time.Equal(want[i].Time) {
			t.Errorf("row %d: time %v, want %v", i, rows[i].Time, want[i].Time)
		}
		rows[i].Time = want[i].Time
		if rows[i] != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, rows[i], want[i])
		}
	}
	if ms := settle.Reconcile(rows, want); len(ms) != 0 {
		t.Errorf("a file does not reconcile with its own rows: %v", ms)
	}
}

// TestFromJournal: the rows come from a real (Pebble) journal's latest
// versions.
func TestFromJournal(t *testing.T) {
	j, err := journal.Open(t.TempDir(), journal.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	p := pay("p1", codec.StatusProcessing, time.Time{}, time.Time{})
	p.Created, p.Updated, p.Version = at, at, 1
	if err := j.Append(ctx, &engine.Batch{Payments: []*engine.PaymentRecord{p}}, true); err != nil {
		t.Fatal(err)
	}
	p2 := *p
	p2.Status, p2.PaidAt, p2.Version = codec.StatusSuccess, at, 2
	r := refund("r1", "p1", codec.StatusSuccess, at.Add(time.Hour), 300)
	r.Created, r.Updated, r.Version = at, at, 1
	failed := pay("p2", codec.StatusFail, time.Time{}, time.Time{})
	failed.Created, failed.Updated, failed.Version = at, at, 1
	if err := j.Append(ctx, &engine.Batch{Payments: []*engine.PaymentRecord{&p2, failed}, Refunds: []*engine.RefundRecord{r}}, true); err != nil {
		t.Fatal(err)
	}
	rows, err := settle.FromJournal(ctx, j, day)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := settle.WriteFile(&b, nil, rows); err != nil {
		t.Fatal(err)
	}
	want := header +
		"LANE-1,,p1,,req-p1,PAYMENT,SUCCESS,2026-11-26T09:30:00Z,1250,HKD,CONNECT_WALLET,mpp-281001,IN_STORE_PAYMENT\n" +
		"LANE-1,,r1,p1,rreq-r1,REFUND,SUCCESS,2026-11-26T10:30:00Z,300,HKD,CONNECT_WALLET,mpp-281001,IN_STORE_PAYMENT\n<END>\n"
	if b.String() != want {
		t.Errorf("file:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestWriterRefuses: rows that could not be read back are refused.
func TestWriterRefuses(t *testing.T) {
	good := settle.Row{TransactionID: "p1", Type: settle.TypePayment, Status: codec.StatusSuccess, Time: at,
		Amount: codec.Amount{Value: 1, Currency: hkd}}
	cases := map[string]func(*settle.Row){
		"no id":         func(r *settle.Row) { r.TransactionID = "" },
		"no type":       func(r *settle.Row) { r.Type = 0 },
		"no status":     func(r *settle.Row) { r.Status = 0 },
		"no time":       func(r *settle.Row) { r.Time = time.Time{} },
		"no currency":   func(r *settle.Row) { r.Amount.Currency = 0 },
		"negative":      func(r *settle.Row) { r.Amount.Value = -1 },
		"line break":    func(r *settle.Row) { r.CustomerID = "a\nb" },
		"carriage ret.": func(r *settle.Row) { r.PSPName = "a\rb" },
		"bad UTF-8":     func(r *settle.Row) { r.MethodType = "\xff" },
	}
	for name, mut := range cases {
		r := good
		mut(&r)
		var b bytes.Buffer
		w := settle.NewWriter(&b, nil)
		if err := w.Write(&r); err == nil {
			t.Errorf("%s: written", name)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("%s: close: %v", name, err)
		}
		if b.String() != header+"<END>\n" {
			t.Errorf("%s: refused row left %q", name, b.String())
		}
	}
	var b bytes.Buffer
	w := settle.NewWriter(&b, nil)
	r := good
	r.CustomerID = "tab\there, \"quoted\", comma"
	if err := w.Write(&r); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := settle.Parse(&b)
	if err != nil || len(rows) != 1 || rows[0].CustomerID != r.CustomerID {
		t.Errorf("quoted field: %v %+v", err, rows)
	}
}

// TestEmptyDay: a day without transactions is a header and <END>.
func TestEmptyDay(t *testing.T) {
	var b bytes.Buffer
	if err := settle.WriteFile(&b, nil, nil); err != nil {
		t.Fatal(err)
	}
	if b.String() != header+"<END>\n" {
		t.Errorf("%q", b.String())
	}
	rows, err := settle.Parse(strings.NewReader(b.String()))
	if err != nil || len(rows) != 0 {
		t.Errorf("%v %v", rows, err)
	}
}
