package settle_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/settle"
)

func row(id string, typ settle.Type, v int64, line int) settle.Row {
	r := settle.Row{TransactionID: id, Type: typ, Status: codec.StatusSuccess, Time: at,
		Amount: codec.Amount{Value: v, Currency: hkd}, Line: line}
	if typ != settle.TypePayment {
		r.OriginalID = "p1"
	}
	return r
}

func kinds(ms []settle.Mismatch) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Kind.String() + " " + m.TransactionID
	}
	return out
}

// TestReconcile: each kind of difference is reported once, in a fixed
// order, and nothing is reported for agreeing rows.
func TestReconcile(t *testing.T) {
	base := []settle.Row{
		row("p1", settle.TypePayment, 1000, 2), row("p1", settle.TypeCancel, 1000, 3),
		row("p2", settle.TypePayment, 500, 4), row("r1", settle.TypeRefund, 200, 5),
	}
	mod := func(f func([]settle.Row) []settle.Row) []settle.Row { return f(slices.Clone(base)) }
	cases := []struct {
		name          string
		ours, theirs  []settle.Row
		want          []string
		wantFirstLine string
	}{
		{"same", base, base, nil, ""},
		{"both empty", nil, nil, nil, ""},
		{"same rows in another order", base, mod(func(r []settle.Row) []settle.Row { slices.Reverse(r); return r }), nil, ""},
		{"missing theirs", base, mod(func(r []settle.Row) []settle.Row { return r[1:] }),
			[]string{"MISSING_THEIRS p1"}, "MISSING_THEIRS transactionId=p1 type=PAYMENT status=SUCCESS amount=1000 HKD ours:2"},
		{"missing ours", mod(func(r []settle.Row) []settle.Row { return r[:3] }), base,
			[]string{"MISSING_OURS r1"}, "MISSING_OURS transactionId=r1 type=REFUND status=SUCCESS amount=200 HKD original=p1 theirs:5"},
		{"amount", base, mod(func(r []settle.Row) []settle.Row { r[2].Amount.Value = 501; return r }),
			[]string{"AMOUNT_DIFFERS p2"}, "AMOUNT_DIFFERS transactionId=p2 type=PAYMENT ours=500 theirs=501 ours:4 theirs:4"},
		{"currency", base, mod(func(r []settle.Row) []settle.Row { r[3].Amount.Currency = jpy; return r }),
			[]string{"CURRENCY_DIFFERS r1"}, "CURRENCY_DIFFERS transactionId=r1 type=REFUND ours=HKD theirs=JPY ours:5 theirs:5"},
		{"status", base, mod(func(r []settle.Row) []settle.Row { r[2].Status = codec.StatusFail; return r }),
			[]string{"STATUS_DIFFERS p2"}, "STATUS_DIFFERS transactionId=p2 type=PAYMENT ours=SUCCESS theirs=FAIL ours:4 theirs:4"},
		{"type", base, mod(func(r []settle.Row) []settle.Row { r[1].Type = settle.TypeRefund; return r }),
			[]string{"TYPE_DIFFERS p1"}, "TYPE_DIFFERS transactionId=p1 ours=CANCEL theirs=REFUND ours:3 theirs:3"},
		{"original", base, mod(func(r []settle.Row) []settle.Row { r[3].OriginalID = "p2"; return r }),
			[]string{"ORIGINAL_DIFFERS r1"}, "ORIGINAL_DIFFERS transactionId=r1 type=REFUND ours=p1 theirs=p2 ours:5 theirs:5"},
		{"listed twice on one side", base, mod(func(r []settle.Row) []settle.Row { return append(r, r[2]) }),
			[]string{"MISSING_OURS p2"}, ""},
		{"type and amount of one row: both", base, mod(func(r []settle.Row) []settle.Row {
			r[3].Type, r[3].Amount.Value = settle.TypeCancel, 1
			return r
		}), []string{"TYPE_DIFFERS r1", "AMOUNT_DIFFERS r1"}, ""},
		{"several, ordered by id then type then kind", base, mod(func(r []settle.Row) []settle.Row {
			r[0].Amount.Value, r[1].Status = 1, codec.StatusProcessing
			r = append(r, row("a0", settle.TypePayment, 1, 9))
			return r[1:]
		}), []string{"MISSING_OURS a0", "MISSING_THEIRS p1", "STATUS_DIFFERS p1"}, ""},
	}
	for _, c := range cases {
		ms := settle.Reconcile(c.ours, c.theirs)
		if got := kinds(ms); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
			continue
		}
		if c.wantFirstLine != "" && ms[0].String() != c.wantFirstLine {
			t.Errorf("%s: %q\n want %q", c.name, ms[0].String(), c.wantFirstLine)
		}
		// Swapping the sides swaps the missing kinds and nothing else.
		back := kinds(settle.Reconcile(c.theirs, c.ours))
		for i, k := range c.want {
			k = strings.Replace(k, "MISSING_OURS", "MISSING_X", 1)
			k = strings.Replace(k, "MISSING_THEIRS", "MISSING_OURS", 1)
			c.want[i] = strings.Replace(k, "MISSING_X", "MISSING_THEIRS", 1)
		}
		if !slices.Equal(back, c.want) {
			t.Errorf("%s swapped: %q, want %q", c.name, back, c.want)
		}
	}
}

// TestSummary counts rows, matches and mismatches by kind.
func TestSummary(t *testing.T) {
	ours := []settle.Row{row("p1", settle.TypePayment, 1, 2), row("p2", settle.TypePayment, 2, 3), row("p3", settle.TypePayment, 3, 4)}
	theirs := []settle.Row{row("p1", settle.TypePayment, 1, 2), row("p2", settle.TypePayment, 5, 3), row("p4", settle.TypePayment, 3, 4)}
	ms := settle.Reconcile(ours, theirs)
	got := settle.Summarize(ours, theirs, ms).String()
	want := "ours 3 rows, theirs 3 rows, matched 1, mismatches 3 (MISSING_OURS 1, MISSING_THEIRS 1, AMOUNT_DIFFERS 1)"
	if got != want {
		t.Errorf("%q\nwant %q", got, want)
	}
	if got := settle.Summarize(ours, ours, nil).String(); got != "ours 3 rows, theirs 3 rows, matched 3, mismatches 0" {
		t.Errorf("%q", got)
	}
}
