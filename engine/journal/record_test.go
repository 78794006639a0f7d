package journal_test

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

// encode encodes whichever field of rec is set.
func encode(dst []byte, rec *engine.Record) []byte {
	switch {
	case rec.Payment != nil:
		return journal.AppendPayment(dst, rec.Payment)
	case rec.Refund != nil:
		return journal.AppendRefund(dst, rec.Refund)
	default:
		return journal.AppendNotification(dst, rec.Notification)
	}
}

func recordCases() []struct {
	name string
	rec  engine.Record
} {
	full := payment("20261126093000010000000000000001", codec.StatusSuccess, t0.Add(time.Second), 3)
	full.CancelWanted = true
	full.Reverse = true
	full.CloseAs = codec.StatusCancelled
	full.Refunded = 12345
	full.CancelledAt = t0.Add(time.Hour)
	odd := payment("ünïcødé/\xff\x01", codec.StatusFail, time.Unix(0, 0).UTC(), math.MaxUint64)
	odd.Amount.Value = math.MinInt64
	odd.Refunded = -1
	odd.Created = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	odd.Deadline = time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)
	odd.Result = codec.MerchantBalanceNotEnough
	odd.Settlement = 0
	emptyBody := notification("p1", 0)
	emptyBody.Body = nil
	emptyBody.Due = time.Time{}
	neg := notification("p2", -3)
	return []struct {
		name string
		rec  engine.Record
	}{
		{"zero payment", engine.Record{Payment: &engine.PaymentRecord{}}},
		{"processing payment", engine.Record{Payment: payment("p0", codec.StatusProcessing, t0, 1)}},
		{"full payment", engine.Record{Payment: full}},
		{"odd payment", engine.Record{Payment: odd}},
		{"zero refund", engine.Record{Refund: &engine.RefundRecord{}}},
		{"refund", engine.Record{Refund: refund("r1", "p1", codec.StatusSuccess, t0)}},
		{"zero notification", engine.Record{Notification: &engine.NotificationRecord{}}},
		{"notification", engine.Record{Notification: notification("p1", 4)}},
		{"notification empty body", engine.Record{Notification: emptyBody}},
		{"notification negative attempts", engine.Record{Notification: neg}},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, tc := range recordCases() {
		t.Run(tc.name, func(t *testing.T) {
			b := encode(nil, &tc.rec)
			var got engine.Record
			if err := journal.DecodeRecord(b, &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			mustEqual(t, "record", got, tc.rec)
			if again := encode(nil, &got); !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs:\n%x\n%x", again, b)
			}
		})
	}
}

// Times keep their instant, lose their location and monotonic reading.
func TestRecordTimeIsUTC(t *testing.T) {
	hk := time.FixedZone("HKT", 8*3600)
	p := payment("p", codec.StatusProcessing, time.Now().In(hk), 1)
	var got engine.PaymentRecord
	if err := journal.DecodePayment(journal.AppendPayment(nil, p), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Updated.Equal(p.Updated) || got.Updated.Location() != time.UTC {
		t.Fatalf("Updated = %v, want %v in UTC", got.Updated, p.Updated)
	}
}

// Every strict prefix of a valid value is rejected as truncated.
func TestRecordTruncated(t *testing.T) {
	for _, tc := range recordCases() {
		b := encode(nil, &tc.rec)
		for n := 0; n < len(b); n++ {
			var got engine.Record
			err := journal.DecodeRecord(b[:n], &got)
			if !errors.Is(err, journal.ErrTruncated) {
				t.Fatalf("%s: prefix %d/%d: err = %v, want ErrTruncated", tc.name, n, len(b), err)
			}
			if got != (engine.Record{}) {
				t.Fatalf("%s: prefix %d: record set despite error", tc.name, n)
			}
		}
	}
}

// Changing any byte never panics, and anything that still decodes is
// canonical (re-encodes to the same bytes).
func TestRecordGarbled(t *testing.T) {
	for _, tc := range recordCases() {
		b := encode(nil, &tc.rec)
		for i := range b {
			for _, x := range []byte{0x00, 0x01, 0x7f, 0x80, 0xff} {
				g := bytes.Clone(b)
				g[i] ^= x
				var got engine.Record
				if err := journal.DecodeRecord(g, &got); err != nil {
					continue
				}
				if again := encode(nil, &got); !bytes.Equal(again, g) {
					t.Fatalf("%s: byte %d ^ %#x decodes to a non-canonical record", tc.name, i, x)
				}
			}
		}
	}
}

func TestRecordErrors(t *testing.T) {
	p := payment("p1", codec.StatusProcessing, t0, 1)
	good := journal.AppendPayment(nil, p)
	replace := func(old, new string) []byte {
		i := bytes.Index(good, []byte(old))
		if i < 0 {
			t.Fatalf("%q not in encoding", old)
		}
		return append(append(append([]byte{}, good[:i]...), new...), good[i+len(old):]...)
	}
	tests := []struct {
		name  string
		b     []byte
		field string
		err   error
	}{
		{"empty", nil, "header", journal.ErrTruncated},
		{"future version", append([]byte{journal.FormatVersion + 1}, good[1:]...), "version", journal.ErrVersion},
		{"version zero", append([]byte{0}, good[1:]...), "version", journal.ErrVersion},
		{"unknown kind", append([]byte{journal.FormatVersion, 'z'}, good[2:]...), "kind", journal.ErrKind},
		{"trailing byte", append(bytes.Clone(good), 0), "end", journal.ErrCorrupt},
		{"unknown currency", replace("\x03HKD", "\x03ZZZ"), "Amount.Currency", journal.ErrCurrency},
		{"unknown status", replace("\x0aPROCESSING", "\x0aPROCESSINX"), "Status", journal.ErrStatus},
		{"unknown result", replace("PAYMENT_IN_PROCESS", "PAYMENT_IN_PROCESZ"), "Result", journal.ErrResult},
		{"result alias", mustResultAlias(t), "Result", journal.ErrResult},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec engine.Record
			err := journal.DecodeRecord(tc.b, &rec)
			var fe *journal.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want field %s, %v", err, tc.field, tc.err)
			}
		})
	}
}

// mustResultAlias encodes a payment whose result is a non-canonical alias
// ("SIGNATURE_INVALID"), which the decoder refuses.
func mustResultAlias(t *testing.T) []byte {
	p := payment("p1", codec.StatusFail, t0, 1)
	p.Result = codec.InvalidSignature
	b := journal.AppendPayment(nil, p)
	i := bytes.Index(b, []byte("\x11INVALID_SIGNATURE"))
	if i < 0 {
		t.Fatal("result not found")
	}
	return append(append(append([]byte{}, b[:i]...), "\x11SIGNATURE_INVALID"...), b[i+18:]...)
}
