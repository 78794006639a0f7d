package settle

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/paycode/paycode/codec"
)

// Parse errors. A *ParseError wraps one of them.
var (
	// ErrSyntax: the CSV itself is malformed (a stray quote, …).
	ErrSyntax = errors.New("settle: malformed CSV")
	// ErrHeader: the header row is missing, names a column twice, or
	// lacks a required column.
	ErrHeader = errors.New("settle: bad header")
	// ErrFields: a row has another number of fields than the header.
	ErrFields = errors.New("settle: wrong number of fields")
	// ErrValue: a field's value is missing or not of its column's form.
	ErrValue = errors.New("settle: bad value")
	// ErrNoEnd: the file ends without its <END> line (it was cut short).
	ErrNoEnd = errors.New("settle: no <END> line")
	// ErrAfterEnd: something follows the <END> line.
	ErrAfterEnd = errors.New("settle: data after <END>")
)

// ParseError says where a file is wrong: the line (1 is the header), the
// column when one is at fault, and what (Err, one of the sentinels above,
// possibly wrapping the cause). Values are not quoted in the message,
// except for short enumerations, so an error can be logged safely.
type ParseError struct {
	Line   int
	Column string
	Err    error
}

func (e *ParseError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("line %d, column %s: %v", e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// required are the columns a file must have; the others may be absent
// (their fields are then empty), and columns this package does not know
// (Antom's fee and settlement columns) are ignored.
var required = []string{ColTransactionID, ColType, ColStatus, ColTime, ColAmount, ColCurrency}

// Parse reads a whole file strictly: a header row naming each column at
// most once and every required column, rows of exactly the header's
// number of fields with valid values, and the <END> line last. Blank
// lines are skipped, as CSV readers do. The first problem stops it with a
// *ParseError; on success every row has Line set.
func Parse(r io.Reader) ([]Row, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		br.Discard(3) // a UTF-8 byte-order mark, as spreadsheets write
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	line := func() int { l, _ := cr.FieldPos(0); return l }

	header, err := cr.Read()
	if err == io.EOF {
		return nil, &ParseError{Line: 1, Err: fmt.Errorf("%w: empty file", ErrHeader)}
	}
	if err != nil {
		return nil, csvError(err)
	}
	idx, err := headerIndex(header)
	if err != nil {
		return nil, &ParseError{Line: line(), Err: err}
	}
	ncol := len(header)
	var rows []Row
	endLine, last := 0, line()
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		l := line()
		last = l
		if endLine != 0 {
			return nil, &ParseError{Line: l, Err: fmt.Errorf("%w (line %d)", ErrAfterEnd, endLine)}
		}
		if len(rec) == 1 && rec[0] == End {
			endLine = l
			continue
		}
		if len(rec) != ncol {
			return nil, &ParseError{Line: l, Err: fmt.Errorf("%w: %d, the header has %d", ErrFields, len(rec), ncol)}
		}
		row, perr := parseRow(rec, idx)
		if perr != nil {
			perr.Line = l
			return nil, perr
		}
		row.Line = l
		rows = append(rows, row)
	}
	if endLine == 0 {
		return nil, &ParseError{Line: last + 1, Err: ErrNoEnd}
	}
	return rows, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{Line: pe.StartLine, Err: fmt.Errorf("%w: %v (line %d, column %d)", ErrSyntax, pe.Err, pe.Line, pe.Column)}
	}
	return fmt.Errorf("settle: reading: %w", err)
}

// headerIndex maps each known column to its field index (-1: absent).
func headerIndex(header []string) ([]int, error) {
	idx := make([]int, len(Columns))
	for i := range idx {
		idx[i] = -1
	}
	seen := make(map[string]bool, len(header))
	for i, name := range header {
		if checkText(name) != "" || name == "" {
			return nil, fmt.Errorf("%w: column %d has no valid name", ErrHeader, i+1)
		}
		if name == End {
			return nil, fmt.Errorf("%w: the file has no header row", ErrHeader)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: column %s appears twice", ErrHeader, name)
		}
		seen[name] = true
		for c, col := range Columns {
			if col == name {
				idx[c] = i
			}
		}
	}
	for _, col := range required {
		if !seen[col] {
			return nil, fmt.Errorf("%w: required column %s is missing", ErrHeader, col)
		}
	}
	return idx, nil
}

// parseRow reads one record; the caller sets Line on the row and on the
// error.
func parseRow(rec []string, idx []int) (Row, *ParseError) {
	field := func(c int) string {
		if idx[c] < 0 {
			return ""
		}
		return rec[idx[c]]
	}
	bad := func(col, format string, args ...any) *ParseError {
		return &ParseError{Column: col, Err: fmt.Errorf("%w: "+format, append([]any{ErrValue}, args...)...)}
	}
	for c, col := range Columns {
		if err := checkText(field(c)); err != "" {
			return Row{}, bad(col, "%s", err)
		}
	}
	r := Row{
		CustomerID: field(0), AcquirerReferenceNo: field(1), TransactionID: field(2), OriginalID: field(3),
		RequestID: field(4), MethodType: field(10), PSPName: field(11), ProductCode: field(12),
	}
	if r.TransactionID == "" {
		return r, bad(ColTransactionID, "empty")
	}
	var ok bool
	if r.Type, ok = ParseType(field(5)); !ok {
		return r, bad(ColType, "want PAYMENT, CANCEL or REFUND")
	}
	if r.Status, ok = parseStatus(field(6)); !ok {
		return r, bad(ColStatus, "want SUCCESS, FAIL, PROCESSING or CANCELLED")
	}
	if r.Type != TypePayment && r.OriginalID == "" {
		return r, bad(ColOriginalID, "empty for a %s (it names the payment)", r.Type)
	}
	t, err := parseTime(field(7))
	if err != nil {
		return r, bad(ColTime, "want RFC 3339 with an offset, e.g. 2026-11-26T09:30:00Z, in years 1970 to 9999")
	}
	r.Time = t
	if r.Amount.Value, err = codec.ParseAmountValue([]byte(field(8))); err != nil {
		return r, bad(ColAmount, "want an integer of minor units, digits only (%v)", err)
	}
	if r.Amount.Currency, err = codec.ParseCurrency([]byte(field(9))); err != nil {
		return r, bad(ColCurrency, "want an ISO 4217 code")
	}
	return r, nil
}

// parseTime reads RFC 3339 strictly: time.Parse alone accepts one-digit
// hours, and years whose UTC form cannot be written back in four digits.
func parseTime(s string) (time.Time, error) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, ErrValue
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, ErrValue
		}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, err
	}
	if y := t.UTC().Year(); y < 1970 || y > 9999 {
		return time.Time{}, ErrValue
	}
	return t, nil
}

// checkText reports why s cannot be a field: invalid UTF-8, or a control
// character other than tab (line breaks inside fields are never
// legitimate in this layout, and CSV readers rewrite them).
func checkText(s string) string {
	if !utf8.ValidString(s) {
		return "not UTF-8"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return "control character"
		}
	}
	return ""
}

func parseStatus(s string) (codec.PaymentStatus, bool) {
	for st := codec.StatusProcessing; st <= codec.StatusCancelled; st++ {
		if s == st.String() {
			return st, true
		}
	}
	return 0, false
}

// formatAmount is an amount as a mismatch line shows it: minor units and
// currency.
func formatAmount(a codec.Amount) string {
	return strconv.FormatInt(a.Value, 10) + " " + a.Currency.String()
}
