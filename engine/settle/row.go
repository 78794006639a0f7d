package settle

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/paycode/paycode/codec"
)

// Type is a row's transactionType.
type Type uint8

// The transaction types a file holds, in the order rows of one
// transaction are listed.
const (
	TypePayment Type = iota + 1
	TypeCancel
	TypeRefund
)

var typeNames = [...]string{"", "PAYMENT", "CANCEL", "REFUND"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return ""
}

// ParseType reads a transactionType name.
func ParseType(s string) (Type, bool) {
	for i := 1; i < len(typeNames); i++ {
		if s == typeNames[i] {
			return Type(i), true
		}
	}
	return 0, false
}

// ProductCode is the productCode of every row paycode writes.
const ProductCode = "IN_STORE_PAYMENT"

// End is the last line of a file.
const End = "<END>"

// TimeLayout is how transactionTime is written: RFC 3339, whole seconds,
// with the settlement zone's offset.
const TimeLayout = time.RFC3339

// Column names, in file order.
const (
	ColCustomerID          = "customerId"
	ColAcquirerReferenceNo = "acquirerReferenceNo"
	ColTransactionID       = "transactionId"
	ColOriginalID          = "originalTransactionId"
	ColRequestID           = "transactionRequestId"
	ColType                = "transactionType"
	ColStatus              = "transactionStatus"
	ColTime                = "transactionTime"
	ColAmount              = "transactionAmountValue"
	ColCurrency            = "transactionCurrency"
	ColMethodType          = "paymentMethodType"
	ColPSPName             = "pspName"
	ColProductCode         = "productCode"
)

// Columns is the header row, in order.
var Columns = []string{
	ColCustomerID, ColAcquirerReferenceNo, ColTransactionID, ColOriginalID, ColRequestID,
	ColType, ColStatus, ColTime, ColAmount, ColCurrency, ColMethodType, ColPSPName, ColProductCode,
}

// Row is one transaction of a file.
type Row struct {
	CustomerID          string
	AcquirerReferenceNo string
	TransactionID       string
	OriginalID          string // originalTransactionId
	RequestID           string // transactionRequestId
	Type                Type
	Status              codec.PaymentStatus
	Time                time.Time
	Amount              codec.Amount
	MethodType          string
	PSPName             string
	ProductCode         string
	// Line is the row's line in the file it was parsed from (1 is the
	// header); 0 for a row built in memory.
	Line int
}

// Compare orders rows as files list them: by time, then transactionId,
// then type.
func Compare(a, b *Row) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	if c := cmp.Compare(a.TransactionID, b.TransactionID); c != 0 {
		return c
	}
	return cmp.Compare(a.Type, b.Type)
}

// Sort sorts rows in file order.
func Sort(rows []Row) {
	slices.SortStableFunc(rows, func(a, b Row) int { return Compare(&a, &b) })
}

// Day is a settlement day: a calendar date in a time zone.
type Day struct {
	Year  int
	Month time.Month
	Day   int
	Loc   *time.Location // nil means UTC
}

// DateLayout is how a Day is written and parsed: YYYY-MM-DD.
const DateLayout = "2006-01-02"

// ErrDate is a date that is not YYYY-MM-DD.
var ErrDate = errors.New("settle: date must be YYYY-MM-DD")

// ParseDay reads YYYY-MM-DD as a day in loc (nil: UTC).
func ParseDay(s string, loc *time.Location) (Day, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return Day{}, fmt.Errorf("%w: %q", ErrDate, s)
	}
	return Day{Year: t.Year(), Month: t.Month(), Day: t.Day(), Loc: loc}, nil
}

// DayOf is the day t falls in, in loc (nil: UTC).
func DayOf(t time.Time, loc *time.Location) Day {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	return Day{Year: y, Month: m, Day: d, Loc: loc}
}

func (d Day) loc() *time.Location {
	if d.Loc == nil {
		return time.UTC
	}
	return d.Loc
}

// Start is the day's first instant (midnight in its zone).
func (d Day) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, d.loc()) }

// End is the next day's first instant (so a day may last 23 or 25 hours
// where the zone changes its offset).
func (d Day) End() time.Time { return time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, d.loc()) }

// Contains reports whether t falls in the day; never for a zero t.
func (d Day) Contains(t time.Time) bool {
	return !t.IsZero() && !t.Before(d.Start()) && t.Before(d.End())
}

// String is YYYY-MM-DD.
func (d Day) String() string { return d.Start().Format(DateLayout) }

// Writer writes a file: the header first, rows as given, and the <END>
// line on Close. It does not sort: Write gives rows in file order (see
// Sort). Errors are sticky.
type Writer struct {
	bw     *bufio.Writer
	cw     *csv.Writer
	rec    []string
	loc    *time.Location
	rows   int
	header bool
	err    error
}

// NewWriter writes a file to w with times in loc (nil: UTC).
func NewWriter(w io.Writer, loc *time.Location) *Writer {
	if loc == nil {
		loc = time.UTC
	}
	bw := bufio.NewWriter(w)
	return &Writer{bw: bw, cw: csv.NewWriter(bw), rec: make([]string, len(Columns)), loc: loc}
}

func (w *Writer) writeHeader() {
	if !w.header && w.err == nil {
		w.header = true
		w.err = w.cw.Write(Columns)
	}
}

// Write writes one row. A row without transactionId, type, status, time
// or a valid currency, or with a control character (other than tab) or
// invalid UTF-8 in a field, is refused and nothing is written: it could
// not be read back.
func (w *Writer) Write(r *Row) error {
	w.writeHeader()
	if w.err != nil {
		return w.err
	}
	switch {
	case r.TransactionID == "":
		return errors.New("settle: row without transactionId")
	case r.Type.String() == "" || r.Status.String() == "":
		return fmt.Errorf("settle: row %s without a valid type or status", r.TransactionID)
	case r.Time.IsZero() || !r.Amount.Currency.Valid() || r.Amount.Value < 0:
		return fmt.Errorf("settle: row %s without time, currency or a non-negative amount", r.TransactionID)
	}
	rec := w.rec
	rec[0], rec[1], rec[2], rec[3], rec[4] = r.CustomerID, r.AcquirerReferenceNo, r.TransactionID, r.OriginalID, r.RequestID
	rec[5], rec[6] = r.Type.String(), r.Status.String()
	rec[7] = r.Time.In(w.loc).Truncate(time.Second).Format(TimeLayout)
	rec[8], rec[9] = strconv.FormatInt(r.Amount.Value, 10), r.Amount.Currency.String()
	rec[10], rec[11], rec[12] = r.MethodType, r.PSPName, r.ProductCode
	for i, f := range rec {
		if why := checkText(f); why != "" {
			return fmt.Errorf("settle: row %d of transaction %q: column %s: %s", w.rows+1, r.TransactionID, Columns[i], why)
		}
	}
	w.rows++
	w.err = w.cw.Write(rec)
	return w.err
}

// Close writes the header (if no row was written), the <END> line, and
// flushes. It does not close the underlying writer.
func (w *Writer) Close() error {
	w.writeHeader()
	if w.err != nil {
		return w.err
	}
	w.cw.Flush()
	if w.err = w.cw.Error(); w.err != nil {
		return w.err
	}
	if _, w.err = w.bw.WriteString(End + "\n"); w.err != nil {
		return w.err
	}
	w.err = w.bw.Flush()
	return w.err
}

// WriteFile writes a whole file: rows sorted into file order (rows itself
// is sorted in place), times in loc (nil: UTC).
func WriteFile(w io.Writer, loc *time.Location, rows []Row) error {
	Sort(rows)
	fw := NewWriter(w, loc)
	for i := range rows {
		if err := fw.Write(&rows[i]); err != nil {
			return err
		}
	}
	return fw.Close()
}

// LoadLocation reads a settlement time zone: "" or "UTC", an IANA name
// (Asia/Hong_Kong; the commands embed the zone database), or a fixed
// offset (+08:00, -0530, Z).
func LoadLocation(name string) (*time.Location, error) {
	switch name {
	case "", "UTC", "Z":
		return time.UTC, nil
	}
	if name[0] == '+' || name[0] == '-' {
		for _, layout := range []string{"-07:00", "-0700", "-07"} {
			if t, err := time.Parse(layout, name); err == nil {
				_, off := t.Zone()
				return time.FixedZone(name, off), nil
			}
		}
		return nil, fmt.Errorf("settle: time zone offset %q: want ±HH:MM", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("settle: time zone %q: %w", name, err)
	}
	return loc, nil
}
