package settle_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/settle"
)

// benchRows is a day of n transactions: payments, every tenth reversed,
// every fifth refunded.
func benchRows(n int) []settle.Row {
	rows := make([]settle.Row, 0, n+n/5+n/10)
	for i := range n {
		id := "2026031410000000" + strconv.Itoa(1e8+i)
		r := settle.Row{CustomerID: "LANE-1", TransactionID: id, RequestID: "req-" + id, Type: settle.TypePayment,
			Status: codec.StatusSuccess, Time: at.Add(time.Duration(i) * time.Millisecond),
			Amount: codec.Amount{Value: int64(100 + i%5000), Currency: hkd}, MethodType: "CONNECT_WALLET",
			PSPName: "mpp-281001", ProductCode: settle.ProductCode}
		rows = append(rows, r)
		if i%10 == 0 {
			c := r
			c.Type, c.OriginalID = settle.TypeCancel, id
			rows = append(rows, c)
		} else if i%5 == 1 {
			f := r
			f.Type, f.OriginalID, f.TransactionID, f.Amount.Value = settle.TypeRefund, id, "rf"+id, 50
			rows = append(rows, f)
		}
	}
	return rows
}

// BenchmarkWriteParse: write then read back a day of 100 000 payments
// (130 000 rows).
func BenchmarkWriteParse(b *testing.B) {
	rows := benchRows(100_000)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := settle.WriteFile(&buf, nil, rows); err != nil {
			b.Fatal(err)
		}
		got, err := settle.Parse(bytes.NewReader(buf.Bytes()))
		if err != nil || len(got) != len(rows) {
			b.Fatal(err, len(got))
		}
	}
	b.ReportMetric(float64(len(rows)), "rows/op")
	b.SetBytes(int64(buf.Len()))
}

// BenchmarkReconcile: reconcile two files of 130 000 rows that
// differ in 100 places.
func BenchmarkReconcile(b *testing.B) {
	ours := benchRows(100_000)
	theirs := benchRows(100_000)
	for i := 0; i < 100; i++ {
		theirs[i*1000].Amount.Value++
	}
	b.ReportAllocs()
	for b.Loop() {
		if ms := settle.Reconcile(ours, theirs); len(ms) != 100 {
			b.Fatal(len(ms))
		}
	}
	b.ReportMetric(float64(len(ours)), "rows/op")
}
