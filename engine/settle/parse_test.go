package settle_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/settle"
)

const (
	row1 = "LANE-1,,p1,,req-p1,PAYMENT,SUCCESS,2026-11-26T09:30:00Z,1250,HKD,CONNECT_WALLET,mpp-281001,IN_STORE_PAYMENT\n"
	row2 = "LANE-1,,r1,p1,rreq-r1,REFUND,SUCCESS,2026-11-26T10:30:00+08:00,250,HKD,CONNECT_WALLET,mpp-281001,IN_STORE_PAYMENT\n"
)

// TestParse: valid variants read as the same rows.
func TestParse(t *testing.T) {
	cases := map[string]string{
		"plain":           header + row1 + row2 + "<END>\n",
		"CRLF":            strings.ReplaceAll(header+row1+row2+"<END>\n", "\n", "\r\n"),
		"no final break":  header + row1 + row2 + "<END>",
		"byte-order mark": "\xef\xbb\xbf" + header + row1 + row2 + "<END>\n",
		"blank lines":     header + "\n" + row1 + "\n" + row2 + "<END>\n\n",
		"quoted fields":   header + strings.Replace(row1, "LANE-1", `"LANE-1"`, 1) + row2 + `"<END>"` + "\n",
		"columns reordered, unknown ones, optional ones absent": "feeAmountValue,transactionCurrency,transactionAmountValue,transactionTime,transactionStatus,transactionType,originalTransactionId,transactionId\n" +
			"3,HKD,1250,2026-11-26T09:30:00Z,SUCCESS,PAYMENT,,p1\n1,HKD,250,2026-11-26T10:30:00+08:00,SUCCESS,REFUND,p1,r1\n<END>\n",
	}
	for name, in := range cases {
		rows, err := settle.Parse(strings.NewReader(in))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(rows) != 2 {
			t.Errorf("%s: %d rows", name, len(rows))
			continue
		}
		r, f := rows[0], rows[1]
		if r.TransactionID != "p1" || r.Type != settle.TypePayment || r.Status != codec.StatusSuccess ||
			r.Amount != (codec.Amount{Value: 1250, Currency: hkd}) || !r.Time.Equal(at) {
			t.Errorf("%s: row 1 %+v", name, r)
		}
		if f.TransactionID != "r1" || f.OriginalID != "p1" || f.Type != settle.TypeRefund || f.Amount.Value != 250 ||
			f.Time.UTC().Hour() != 2 {
			t.Errorf("%s: row 2 %+v", name, f)
		}
		if strings.HasPrefix(name, "columns") {
			if r.CustomerID != "" || r.PSPName != "" {
				t.Errorf("%s: absent columns read as %+v", name, r)
			}
		} else if r.CustomerID != "LANE-1" || r.PSPName != "mpp-281001" || r.RequestID != "req-p1" || r.ProductCode != "IN_STORE_PAYMENT" {
			t.Errorf("%s: row 1 %+v", name, r)
		}
	}
}

// TestParseErrors: each malformed file names its line, column and what is
// wrong, through a *ParseError wrapping the sentinel.
func TestParseErrors(t *testing.T) {
	sub := func(old, new string) string { return header + strings.Replace(row1, old, new, 1) + "<END>\n" }
	cases := []struct {
		name   string
		in     string
		sent   error
		line   int
		column string
	}{
		{"empty", "", settle.ErrHeader, 1, ""},
		{"only <END>", "<END>\n", settle.ErrHeader, 1, ""},
		{"column twice", "transactionId," + header, settle.ErrHeader, 1, ""},
		{"required column missing", strings.Replace(header, "transactionCurrency", "currency", 1) + "<END>\n", settle.ErrHeader, 1, ""},
		{"no <END>", header + row1 + row2, settle.ErrNoEnd, 4, ""},
		{"cut mid-file", header + row1, settle.ErrNoEnd, 3, ""},
		{"header only", header, settle.ErrNoEnd, 2, ""},
		{"row after <END>", header + row1 + "<END>\n" + row2, settle.ErrAfterEnd, 4, ""},
		{"second <END>", header + "<END>\n<END>\n", settle.ErrAfterEnd, 3, ""},
		{"too few fields", header + "a,b\n<END>\n", settle.ErrFields, 2, ""},
		{"too many fields", header + strings.TrimSuffix(row1, "\n") + ",x\n<END>\n", settle.ErrFields, 2, ""},
		{"stray quote", header + `LANE"1` + row1[6:] + "<END>\n", settle.ErrSyntax, 2, ""},
		{"unterminated quote", header + `"LANE-1` + row1[6:] + "<END>\n", settle.ErrSyntax, 2, ""},
		{"empty id", sub(",p1,", ",,"), settle.ErrValue, 2, "transactionId"},
		{"unknown type", sub("PAYMENT", "CAPTURE"), settle.ErrValue, 2, "transactionType"},
		{"lower-case type", sub("PAYMENT", "payment"), settle.ErrValue, 2, "transactionType"},
		{"unknown status", sub("SUCCESS", "DONE"), settle.ErrValue, 2, "transactionStatus"},
		{"refund without payment", header + strings.Replace(row2, ",p1,", ",,", 1) + "<END>\n", settle.ErrValue, 2, "originalTransactionId"},
		{"time without offset", sub("09:30:00Z", "09:30:00"), settle.ErrValue, 2, "transactionTime"},
		{"one-digit hour", sub("T09:30:00Z", "T9:30:00Z"), settle.ErrValue, 2, "transactionTime"},
		{"year before 1970 in UTC", sub("2026-11-26T09:30:00Z", "1970-01-01T00:30:00+01:00"), settle.ErrValue, 2, "transactionTime"},
		{"date only", sub("2026-11-26T09:30:00Z", "2026-11-26"), settle.ErrValue, 2, "transactionTime"},
		{"decimal amount", sub(",1250,", ",12.50,"), settle.ErrValue, 2, "transactionAmountValue"},
		{"negative amount", sub(",1250,", ",-1250,"), settle.ErrValue, 2, "transactionAmountValue"},
		{"empty amount", sub(",1250,", ",,"), settle.ErrValue, 2, "transactionAmountValue"},
		{"amount overflow", sub(",1250,", ",99999999999999999999,"), settle.ErrValue, 2, "transactionAmountValue"},
		{"unknown currency", sub("HKD", "XYZ"), settle.ErrValue, 2, "transactionCurrency"},
		{"lower-case currency", sub("HKD", "hkd"), settle.ErrValue, 2, "transactionCurrency"},
		{"bad UTF-8", sub("LANE-1", "LANE\xff"), settle.ErrValue, 2, "customerId"},
		{"line break in a field", sub("LANE-1", "\"LANE\n1\""), settle.ErrValue, 2, "customerId"},
		{"error on a later line", header + row1 + row2 + strings.Replace(row1, "HKD", "", 1) + "<END>\n", settle.ErrValue, 4, "transactionCurrency"},
	}
	for _, c := range cases {
		rows, err := settle.Parse(strings.NewReader(c.in))
		var pe *settle.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: %v (rows %v), want a *ParseError", c.name, err, rows)
			continue
		}
		if !errors.Is(err, c.sent) || pe.Line != c.line || pe.Column != c.column {
			t.Errorf("%s: %v (line %d, column %q), want %v at line %d, column %q", c.name, err, pe.Line, pe.Column, c.sent, c.line, c.column)
		}
		if rows != nil {
			t.Errorf("%s: rows returned with the error", c.name)
		}
	}
}

// TestParseErrorHidesValues: a bad value is not echoed into the error, so
// the error can be logged whatever the file holds.
func TestParseErrorHidesValues(t *testing.T) {
	secret := "281001020123456789012300"
	in := header + strings.Replace(row1, ",1250,", ","+secret+"x,", 1) + "<END>\n"
	_, err := settle.Parse(strings.NewReader(in))
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("error %v", err)
	}
}
