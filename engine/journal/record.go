package journal

import (
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
)

// FormatVersion is the version byte that starts every value this package
// writes. A later version appends fields at the end of a record and bumps
// this number; its decoder keeps reading every older version (missing
// fields take their zero value). A decoder refuses versions newer than its
// own, so an old binary never misreads a newer journal.
const FormatVersion = 1

// Record kinds: the second byte of every value (and the first byte of its
// key), so a value is self-describing.
const (
	KindPayment      byte = 'p'
	KindRefund       byte = 'r'
	KindNotification byte = 'n'
)

// Decoding errors. A *FieldError says where (record kind, field, offset)
// and unwraps to one of these, which says what.
var (
	ErrTruncated = errors.New("journal: record truncated")
	ErrCorrupt   = errors.New("journal: record corrupt")
	ErrVersion   = errors.New("journal: record format version not supported")
	ErrKind      = errors.New("journal: unknown record kind")
	ErrCurrency  = errors.New("journal: unknown currency code")
	ErrResult    = errors.New("journal: unknown result code")
	ErrStatus    = errors.New("journal: unknown payment status")
)

// FieldError is a decoding error at one field of one record. It never
// holds the field's value (records carry masked codes and customer ids).
type FieldError struct {
	Kind   string // "payment", "refund", "notification" or "record"
	Field  string // e.g. "Amount.Currency"
	Offset int    // byte offset in the value where decoding failed
	Err    error  // one of the package's sentinel errors
}

func (e *FieldError) Error() string {
	return "journal: decoding " + e.Kind + " field " + e.Field + " at offset " + strconv.Itoa(e.Offset) + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

// Encoding, version 1. Every value is
//
//	version (1 byte) | kind (1 byte) | fields in declaration order
//
// with these field encodings (no field tags: the order is the schema):
//
//	string, []byte   uvarint length, then the bytes
//	int64, int       zig-zag varint
//	uint64           uvarint
//	payment flags    one byte: bit 0 CancelWanted, bit 1 Reverse, bit 2
//	                 Voided; other bits must be 0 (so a binary older than
//	                 a flag refuses a record that has it)
//	CodeHash         32 raw bytes
//	time.Time        zig-zag varint seconds since 0001-01-01 UTC, then
//	                 uvarint nanoseconds (< 1e9); the zero time is 0,0.
//	                 The location is not kept: times decode as UTC.
//	codec.Currency   its ISO 4217 code as a string ("" for none)
//	codec.ResultCode its wire name as a string ("" for ResultNone)
//	PaymentStatus    its name as a string ("" for StatusNone)
//
// Codes are stored by name, not by table index, so reordering or
// extending codec's tables never changes the meaning of an old record.
// Varints must be minimal and names canonical, so that a value decodes
// to exactly one record and re-encodes to the same bytes.

const (
	flagCancelWanted = 1 << 0
	flagReverse      = 1 << 1
	flagVoided       = 1 << 2
)

// secondsToUnix is time.Time{}.Unix(): times are stored relative to the
// zero time so that the zero time encodes as two zero bytes.
const secondsToUnix = -62135596800

// AppendPayment appends the encoding of r to dst and returns the extended
// slice. It does not allocate when dst has room (see EncodedSizeHint).
func AppendPayment(dst []byte, r *engine.PaymentRecord) []byte {
	dst = append(dst, FormatVersion, KindPayment)
	dst = appendString(dst, r.PaymentID)
	dst = appendString(dst, r.ClientID)
	dst = appendString(dst, r.RequestID)
	dst = append(dst, r.CodeHash[:]...)
	dst = appendString(dst, r.CodeMasked)
	dst = appendAmount(dst, r.Amount)
	dst = appendString(dst, r.MethodType)
	dst = appendString(dst, r.Scenario)
	dst = appendCurrency(dst, r.Settlement)
	dst = appendString(dst, r.Wallet)
	dst = appendString(dst, r.NotifyURL)
	dst = appendTime(dst, r.Created)
	dst = appendTime(dst, r.Deadline)
	dst = appendString(dst, r.Status.String())
	dst = appendString(dst, r.Result.String())
	dst = appendString(dst, r.Message)
	dst = appendTime(dst, r.PaidAt)
	dst = appendTime(dst, r.CancelledAt)
	dst = appendString(dst, r.CustomerID)
	dst = appendString(dst, r.Brand)
	var flags byte
	if r.CancelWanted {
		flags |= flagCancelWanted
	}
	if r.Reverse {
		flags |= flagReverse
	}
	if r.Voided {
		flags |= flagVoided
	}
	dst = append(dst, flags)
	dst = appendString(dst, r.CloseAs.String())
	dst = binary.AppendVarint(dst, r.Refunded)
	dst = appendTime(dst, r.Updated)
	dst = binary.AppendUvarint(dst, r.Version)
	return dst
}

// AppendRefund appends the encoding of r to dst.
func AppendRefund(dst []byte, r *engine.RefundRecord) []byte {
	dst = append(dst, FormatVersion, KindRefund)
	dst = appendString(dst, r.RefundID)
	dst = appendString(dst, r.ClientID)
	dst = appendString(dst, r.RequestID)
	dst = appendString(dst, r.PaymentID)
	dst = appendAmount(dst, r.Amount)
	dst = appendString(dst, r.Reason)
	dst = appendTime(dst, r.Created)
	dst = appendString(dst, r.Status.String())
	dst = appendString(dst, r.Result.String())
	dst = appendString(dst, r.Message)
	dst = appendTime(dst, r.DoneAt)
	dst = appendTime(dst, r.Updated)
	dst = binary.AppendUvarint(dst, r.Version)
	return dst
}

// AppendNotification appends the encoding of r to dst.
func AppendNotification(dst []byte, r *engine.NotificationRecord) []byte {
	dst = append(dst, FormatVersion, KindNotification)
	dst = appendString(dst, r.PaymentID)
	dst = appendString(dst, r.URL)
	dst = binary.AppendUvarint(dst, uint64(len(r.Body)))
	dst = append(dst, r.Body...)
	dst = binary.AppendVarint(dst, int64(r.Attempts))
	dst = appendTime(dst, r.Due)
	return dst
}

// PaymentSizeHint is a capacity that holds a typical encoded payment: a
// buffer this big makes AppendPayment allocation-free in practice.
const PaymentSizeHint = 512

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendAmount(dst []byte, a codec.Amount) []byte {
	dst = binary.AppendVarint(dst, a.Value)
	return appendCurrency(dst, a.Currency)
}

func appendCurrency(dst []byte, c codec.Currency) []byte {
	if !c.Valid() {
		return append(dst, 0)
	}
	dst = append(dst, 3)
	return c.AppendCode(dst)
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix()-secondsToUnix)
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

// DecodePayment decodes a payment value into r, overwriting every field.
// It rejects truncated, garbled or non-canonical input with a *FieldError
// and never panics. r's strings share one allocation (a copy of b), so b
// may be reused afterwards.
func DecodePayment(b []byte, r *engine.PaymentRecord) error {
	d := decoder{b: b, kind: "payment"}
	d.header(KindPayment)
	d.copyStrings()
	r.PaymentID = d.str("PaymentID")
	r.ClientID = d.str("ClientID")
	r.RequestID = d.str("RequestID")
	d.fixed("CodeHash", r.CodeHash[:])
	r.CodeMasked = d.str("CodeMasked")
	r.Amount = d.amount("Amount", "Amount.Currency")
	r.MethodType = d.str("MethodType")
	r.Scenario = d.str("Scenario")
	r.Settlement = d.currency("Settlement")
	r.Wallet = d.str("Wallet")
	r.NotifyURL = d.str("NotifyURL")
	r.Created = d.time("Created")
	r.Deadline = d.time("Deadline")
	r.Status = d.status("Status")
	r.Result = d.result("Result")
	r.Message = d.str("Message")
	r.PaidAt = d.time("PaidAt")
	r.CancelledAt = d.time("CancelledAt")
	r.CustomerID = d.str("CustomerID")
	r.Brand = d.str("Brand")
	flags := d.byte1("Flags")
	if flags&^(flagCancelWanted|flagReverse|flagVoided) != 0 {
		d.fail("Flags", ErrCorrupt)
	}
	r.CancelWanted = flags&flagCancelWanted != 0
	r.Reverse = flags&flagReverse != 0
	r.Voided = flags&flagVoided != 0
	r.CloseAs = d.status("CloseAs")
	r.Refunded = d.varint("Refunded")
	r.Updated = d.time("Updated")
	r.Version = d.uvarint("Version")
	return d.end()
}

// DecodeRefund decodes a refund value into r; see DecodePayment.
func DecodeRefund(b []byte, r *engine.RefundRecord) error {
	d := decoder{b: b, kind: "refund"}
	d.header(KindRefund)
	d.copyStrings()
	r.RefundID = d.str("RefundID")
	r.ClientID = d.str("ClientID")
	r.RequestID = d.str("RequestID")
	r.PaymentID = d.str("PaymentID")
	r.Amount = d.amount("Amount", "Amount.Currency")
	r.Reason = d.str("Reason")
	r.Created = d.time("Created")
	r.Status = d.status("Status")
	r.Result = d.result("Result")
	r.Message = d.str("Message")
	r.DoneAt = d.time("DoneAt")
	r.Updated = d.time("Updated")
	r.Version = d.uvarint("Version")
	return d.end()
}

// DecodeNotification decodes a notification value into r; see
// DecodePayment. Body is a fresh copy.
func DecodeNotification(b []byte, r *engine.NotificationRecord) error {
	d := decoder{b: b, kind: "notification"}
	d.header(KindNotification)
	d.copyStrings()
	r.PaymentID = d.str("PaymentID")
	r.URL = d.str("URL")
	body := d.str("Body")
	if body == "" {
		r.Body = nil
	} else {
		r.Body = []byte(body)
	}
	a := d.varint("Attempts")
	if int64(int(a)) != a {
		d.fail("Attempts", ErrCorrupt)
	}
	r.Attempts = int(a)
	r.Due = d.time("Due")
	return d.end()
}

// DecodeRecord decodes any value, choosing the record type from its kind
// byte, into a freshly allocated record set in rec (rec's other fields
// are cleared).
func DecodeRecord(b []byte, rec *engine.Record) error {
	*rec = engine.Record{}
	if len(b) < 2 {
		return &FieldError{Kind: "record", Field: "header", Err: ErrTruncated}
	}
	switch b[1] {
	case KindPayment:
		p := new(engine.PaymentRecord)
		if err := DecodePayment(b, p); err != nil {
			return err
		}
		rec.Payment = p
	case KindRefund:
		r := new(engine.RefundRecord)
		if err := DecodeRefund(b, r); err != nil {
			return err
		}
		rec.Refund = r
	case KindNotification:
		n := new(engine.NotificationRecord)
		if err := DecodeNotification(b, n); err != nil {
			return err
		}
		rec.Notification = n
	default:
		return &FieldError{Kind: "record", Field: "kind", Offset: 1, Err: ErrKind}
	}
	return nil
}

// decoder reads fields in order with a sticky error: after the first
// failure every read returns a zero value, and end reports that failure.
type decoder struct {
	b    []byte
	s    string // copy of b: decoded strings are substrings of it
	off  int
	kind string
	err  error
}

func (d *decoder) fail(field string, err error) {
	if d.err == nil {
		d.err = &FieldError{Kind: d.kind, Field: field, Offset: d.off, Err: err}
	}
}

func (d *decoder) header(kind byte) {
	switch {
	case len(d.b) < 2:
		d.fail("header", ErrTruncated)
	case d.b[0] == 0 || d.b[0] > FormatVersion:
		d.fail("version", ErrVersion)
	case d.b[1] != kind:
		d.off = 1
		d.fail("kind", ErrKind)
	default:
		d.off = 2
	}
}

// copyStrings makes the one string allocation of a decode. Values are
// small (hundreds of bytes), so sharing one backing array costs little.
func (d *decoder) copyStrings() {
	if d.err == nil {
		d.s = string(d.b)
	}
}

func (d *decoder) end() error {
	if d.err == nil && d.off != len(d.b) {
		d.fail("end", ErrCorrupt) // trailing bytes
	}
	return d.err
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	switch {
	case n == 0:
		d.fail(field, ErrTruncated)
		return 0
	case n < 0:
		d.fail(field, ErrCorrupt) // overflows 64 bits
		return 0
	case n > 1 && d.b[d.off+n-1] == 0:
		d.fail(field, ErrCorrupt) // not minimal
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint(field string) int64 {
	u := d.uvarint(field)
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) byte1(field string) byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail(field, ErrTruncated)
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *decoder) fixed(field string, dst []byte) {
	if d.err != nil {
		return
	}
	if len(d.b)-d.off < len(dst) {
		d.fail(field, ErrTruncated)
		return
	}
	d.off += copy(dst, d.b[d.off:])
}

// rawLen reads a length prefix and checks the bytes are there; it returns
// the start offset of the bytes and advances past them.
func (d *decoder) rawLen(field string) (start, end int) {
	start = d.off
	n := d.uvarint(field)
	if d.err != nil {
		return 0, 0
	}
	if n > uint64(len(d.b)-d.off) {
		d.off = start
		d.fail(field, ErrTruncated)
		return 0, 0
	}
	start = d.off
	d.off += int(n)
	return start, d.off
}

func (d *decoder) str(field string) string {
	i, j := d.rawLen(field)
	if d.err != nil {
		return ""
	}
	return d.s[i:j]
}

func (d *decoder) amount(field, currencyField string) codec.Amount {
	v := d.varint(field)
	return codec.Amount{Value: v, Currency: d.currency(currencyField)}
}

func (d *decoder) currency(field string) codec.Currency {
	at := d.off
	i, j := d.rawLen(field)
	if d.err != nil || i == j {
		return 0
	}
	c, err := codec.ParseCurrency(d.b[i:j])
	if err != nil {
		d.off = at
		d.fail(field, ErrCurrency)
		return 0
	}
	return c
}

func (d *decoder) result(field string) codec.ResultCode {
	at := d.off
	i, j := d.rawLen(field)
	if d.err != nil || i == j {
		return codec.ResultNone
	}
	r, ok := codec.LookupResult(d.b[i:j])
	if !ok || r.String() != d.s[i:j] { // aliases are not canonical
		d.off = at
		d.fail(field, ErrResult)
		return codec.ResultNone
	}
	return r
}

// maxStatus bounds the search for a status name; codec defines fewer.
const maxStatus = 32

func (d *decoder) status(field string) codec.PaymentStatus {
	at := d.off
	i, j := d.rawLen(field)
	if d.err != nil || i == j {
		return codec.StatusNone
	}
	name := d.s[i:j]
	for s := codec.PaymentStatus(1); s < maxStatus; s++ {
		if s.String() == name {
			return s
		}
	}
	d.off = at
	d.fail(field, ErrStatus)
	return codec.StatusNone
}

func (d *decoder) time(field string) time.Time {
	sec := d.varint(field)
	nsec := d.uvarint(field)
	if d.err != nil {
		return time.Time{}
	}
	if nsec >= 1e9 {
		d.fail(field, ErrCorrupt)
		return time.Time{}
	}
	// Wrapping int64 arithmetic makes this exact for every second count:
	// time.Time keeps seconds since year 1 internally, which is sec.
	return time.Unix(sec+secondsToUnix, int64(nsec)).UTC()
}
