package codec

import (
	"errors"
	"fmt"
	"strconv"
)

// Errors for amounts and currencies. They name the problem, not the value.
var (
	ErrCurrency     = errors.New("codec: currency is not an ISO 4217 code")
	ErrAmountFormat = errors.New("codec: amount value is not a string of ASCII digits")
	ErrAmountRange  = errors.New("codec: amount value is out of range")
	// ErrAmountLeadingZero: a lane amount such as "007". Whether the lane
	// meant 7 or 700 (a decimal point lost on the way) cannot be told, so
	// it is refused rather than charged as 7.
	ErrAmountLeadingZero = fmt.Errorf("%w: it has a leading zero", ErrAmountFormat)
	// ErrAmountTooLarge: above the currency's maximum (AmountLimits).
	ErrAmountTooLarge = fmt.Errorf("%w: it is above the maximum for its currency", ErrAmountRange)
)

// Currency is an ISO 4217 currency, an index into the package's table. The
// zero value is no currency.
type Currency uint16

// Amount is money as integer minor units of a currency (never floats):
// HKD 1.00 is {100, HKD}, JPY 100 is {100, JPY}.
type Amount struct {
	Value    int64
	Currency Currency
}

type currencyInfo struct {
	code  [3]byte
	minor uint8
}

// iso4217 lists the active ISO 4217 currencies with their minor units
// (the number of decimal digits of the minor unit). Entry 0 is "no
// currency". Funds and precious-metal codes (X..) are left out except XAF,
// XOF, XPF and XCD, which are circulating currencies.
var iso4217 = [...]currencyInfo{
	{},
	{[3]byte{'A', 'E', 'D'}, 2}, {[3]byte{'A', 'F', 'N'}, 2}, {[3]byte{'A', 'L', 'L'}, 2}, {[3]byte{'A', 'M', 'D'}, 2},
	{[3]byte{'A', 'N', 'G'}, 2}, {[3]byte{'A', 'O', 'A'}, 2}, {[3]byte{'A', 'R', 'S'}, 2}, {[3]byte{'A', 'U', 'D'}, 2},
	{[3]byte{'A', 'W', 'G'}, 2}, {[3]byte{'A', 'Z', 'N'}, 2}, {[3]byte{'B', 'A', 'M'}, 2}, {[3]byte{'B', 'B', 'D'}, 2},
	{[3]byte{'B', 'D', 'T'}, 2}, {[3]byte{'B', 'G', 'N'}, 2}, {[3]byte{'B', 'H', 'D'}, 3}, {[3]byte{'B', 'I', 'F'}, 0},
	{[3]byte{'B', 'M', 'D'}, 2}, {[3]byte{'B', 'N', 'D'}, 2}, {[3]byte{'B', 'O', 'B'}, 2}, {[3]byte{'B', 'R', 'L'}, 2},
	{[3]byte{'B', 'S', 'D'}, 2}, {[3]byte{'B', 'T', 'N'}, 2}, {[3]byte{'B', 'W', 'P'}, 2}, {[3]byte{'B', 'Y', 'N'}, 2},
	{[3]byte{'B', 'Z', 'D'}, 2}, {[3]byte{'C', 'A', 'D'}, 2}, {[3]byte{'C', 'D', 'F'}, 2}, {[3]byte{'C', 'H', 'F'}, 2},
	{[3]byte{'C', 'L', 'P'}, 0}, {[3]byte{'C', 'N', 'Y'}, 2}, {[3]byte{'C', 'O', 'P'}, 2}, {[3]byte{'C', 'R', 'C'}, 2},
	{[3]byte{'C', 'U', 'P'}, 2}, {[3]byte{'C', 'V', 'E'}, 2}, {[3]byte{'C', 'Z', 'K'}, 2}, {[3]byte{'D', 'J', 'F'}, 0},
	{[3]byte{'D', 'K', 'K'}, 2}, {[3]byte{'D', 'O', 'P'}, 2}, {[3]byte{'D', 'Z', 'D'}, 2}, {[3]byte{'E', 'G', 'P'}, 2},
	{[3]byte{'E', 'R', 'N'}, 2}, {[3]byte{'E', 'T', 'B'}, 2}, {[3]byte{'E', 'U', 'R'}, 2}, {[3]byte{'F', 'J', 'D'}, 2},
	{[3]byte{'F', 'K', 'P'}, 2}, {[3]byte{'G', 'B', 'P'}, 2}, {[3]byte{'G', 'E', 'L'}, 2}, {[3]byte{'G', 'H', 'S'}, 2},
	{[3]byte{'G', 'I', 'P'}, 2}, {[3]byte{'G', 'M', 'D'}, 2}, {[3]byte{'G', 'N', 'F'}, 0}, {[3]byte{'G', 'T', 'Q'}, 2},
	{[3]byte{'G', 'Y', 'D'}, 2}, {[3]byte{'H', 'K', 'D'}, 2}, {[3]byte{'H', 'N', 'L'}, 2}, {[3]byte{'H', 'T', 'G'}, 2},
	{[3]byte{'H', 'U', 'F'}, 2}, {[3]byte{'I', 'D', 'R'}, 2}, {[3]byte{'I', 'L', 'S'}, 2}, {[3]byte{'I', 'N', 'R'}, 2},
	{[3]byte{'I', 'Q', 'D'}, 3}, {[3]byte{'I', 'R', 'R'}, 2}, {[3]byte{'I', 'S', 'K'}, 0}, {[3]byte{'J', 'M', 'D'}, 2},
	{[3]byte{'J', 'O', 'D'}, 3}, {[3]byte{'J', 'P', 'Y'}, 0}, {[3]byte{'K', 'E', 'S'}, 2}, {[3]byte{'K', 'G', 'S'}, 2},
	{[3]byte{'K', 'H', 'R'}, 2}, {[3]byte{'K', 'M', 'F'}, 0}, {[3]byte{'K', 'P', 'W'}, 2}, {[3]byte{'K', 'R', 'W'}, 0},
	{[3]byte{'K', 'W', 'D'}, 3}, {[3]byte{'K', 'Y', 'D'}, 2}, {[3]byte{'K', 'Z', 'T'}, 2}, {[3]byte{'L', 'A', 'K'}, 2},
	{[3]byte{'L', 'B', 'P'}, 2}, {[3]byte{'L', 'K', 'R'}, 2}, {[3]byte{'L', 'R', 'D'}, 2}, {[3]byte{'L', 'S', 'L'}, 2},
	{[3]byte{'L', 'Y', 'D'}, 3}, {[3]byte{'M', 'A', 'D'}, 2}, {[3]byte{'M', 'D', 'L'}, 2}, {[3]byte{'M', 'G', 'A'}, 2},
	{[3]byte{'M', 'K', 'D'}, 2}, {[3]byte{'M', 'M', 'K'}, 2}, {[3]byte{'M', 'N', 'T'}, 2}, {[3]byte{'M', 'O', 'P'}, 2},
	{[3]byte{'M', 'R', 'U'}, 2}, {[3]byte{'M', 'U', 'R'}, 2}, {[3]byte{'M', 'V', 'R'}, 2}, {[3]byte{'M', 'W', 'K'}, 2},
	{[3]byte{'M', 'X', 'N'}, 2}, {[3]byte{'M', 'Y', 'R'}, 2}, {[3]byte{'M', 'Z', 'N'}, 2}, {[3]byte{'N', 'A', 'D'}, 2},
	{[3]byte{'N', 'G', 'N'}, 2}, {[3]byte{'N', 'I', 'O'}, 2}, {[3]byte{'N', 'O', 'K'}, 2}, {[3]byte{'N', 'P', 'R'}, 2},
	{[3]byte{'N', 'Z', 'D'}, 2}, {[3]byte{'O', 'M', 'R'}, 3}, {[3]byte{'P', 'A', 'B'}, 2}, {[3]byte{'P', 'E', 'N'}, 2},
	{[3]byte{'P', 'G', 'K'}, 2}, {[3]byte{'P', 'H', 'P'}, 2}, {[3]byte{'P', 'K', 'R'}, 2}, {[3]byte{'P', 'L', 'N'}, 2},
	{[3]byte{'P', 'Y', 'G'}, 0}, {[3]byte{'Q', 'A', 'R'}, 2}, {[3]byte{'R', 'O', 'N'}, 2}, {[3]byte{'R', 'S', 'D'}, 2},
	{[3]byte{'R', 'U', 'B'}, 2}, {[3]byte{'R', 'W', 'F'}, 0}, {[3]byte{'S', 'A', 'R'}, 2}, {[3]byte{'S', 'B', 'D'}, 2},
	{[3]byte{'S', 'C', 'R'}, 2}, {[3]byte{'S', 'D', 'G'}, 2}, {[3]byte{'S', 'E', 'K'}, 2}, {[3]byte{'S', 'G', 'D'}, 2},
	{[3]byte{'S', 'H', 'P'}, 2}, {[3]byte{'S', 'L', 'E'}, 2}, {[3]byte{'S', 'O', 'S'}, 2}, {[3]byte{'S', 'R', 'D'}, 2},
	{[3]byte{'S', 'S', 'P'}, 2}, {[3]byte{'S', 'T', 'N'}, 2}, {[3]byte{'S', 'V', 'C'}, 2}, {[3]byte{'S', 'Y', 'P'}, 2},
	{[3]byte{'S', 'Z', 'L'}, 2}, {[3]byte{'T', 'H', 'B'}, 2}, {[3]byte{'T', 'J', 'S'}, 2}, {[3]byte{'T', 'M', 'T'}, 2},
	{[3]byte{'T', 'N', 'D'}, 3}, {[3]byte{'T', 'O', 'P'}, 2}, {[3]byte{'T', 'R', 'Y'}, 2}, {[3]byte{'T', 'T', 'D'}, 2},
	{[3]byte{'T', 'W', 'D'}, 2}, {[3]byte{'T', 'Z', 'S'}, 2}, {[3]byte{'U', 'A', 'H'}, 2}, {[3]byte{'U', 'G', 'X'}, 0},
	{[3]byte{'U', 'S', 'D'}, 2}, {[3]byte{'U', 'Y', 'U'}, 2}, {[3]byte{'U', 'Z', 'S'}, 2}, {[3]byte{'V', 'E', 'S'}, 2},
	{[3]byte{'V', 'N', 'D'}, 0}, {[3]byte{'V', 'U', 'V'}, 0}, {[3]byte{'W', 'S', 'T'}, 2}, {[3]byte{'X', 'A', 'F'}, 0},
	{[3]byte{'X', 'C', 'D'}, 2}, {[3]byte{'X', 'O', 'F'}, 0}, {[3]byte{'X', 'P', 'F'}, 0}, {[3]byte{'Y', 'E', 'R'}, 2},
	{[3]byte{'Z', 'A', 'R'}, 2}, {[3]byte{'Z', 'M', 'W'}, 2}, {[3]byte{'Z', 'W', 'G'}, 2},
}

// currencyIndex maps a packed 3-letter code to its table index. Built once
// at start-up from the table above (read-only afterwards).
var currencyIndex = func() map[uint32]Currency {
	m := make(map[uint32]Currency, len(iso4217))
	for i := 1; i < len(iso4217); i++ {
		c := iso4217[i].code
		m[pack3(c[0], c[1], c[2])] = Currency(i)
	}
	return m
}()

func pack3(a, b, c byte) uint32 { return uint32(a)<<16 | uint32(b)<<8 | uint32(c) }

// ParseCurrency looks up an upper-case ISO 4217 code. It does not allocate.
func ParseCurrency(b []byte) (Currency, error) {
	if len(b) != 3 {
		return 0, ErrCurrency
	}
	c, ok := currencyIndex[pack3(b[0], b[1], b[2])]
	if !ok {
		return 0, ErrCurrency
	}
	return c, nil
}

// MustCurrency is ParseCurrency for tests and constants; it panics on error.
func MustCurrency(s string) Currency {
	c, err := ParseCurrency([]byte(s))
	if err != nil {
		panic(err)
	}
	return c
}

// Valid reports whether c is a currency of the table.
func (c Currency) Valid() bool { return c > 0 && int(c) < len(iso4217) }

// String returns the 3-letter code ("" for the zero value).
func (c Currency) String() string {
	if !c.Valid() {
		return ""
	}
	return string(iso4217[c].code[:])
}

// AppendCode appends the 3-letter code.
func (c Currency) AppendCode(dst []byte) []byte {
	if !c.Valid() {
		return dst
	}
	return append(dst, iso4217[c].code[:]...)
}

// MinorUnits is the number of decimals of the currency's minor unit.
func (c Currency) MinorUnits() int {
	if !c.Valid() {
		return 0
	}
	return int(iso4217[c].minor)
}

// ParseAmountValue parses an Antom amount value: a string of ASCII digits
// (no sign, no decimal point, no spaces) holding minor units that fits in
// int64. Zero is syntactically valid; whether it may be paid is the
// engine's business. Leading zeros are accepted ("0100" is 100), as the
// wallets' own parsers accept them; lane amounts go through
// ParseLaneAmountValue, which refuses them.
func ParseAmountValue(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, ErrAmountFormat
	}
	var v int64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, ErrAmountFormat
		}
		d := int64(ch - '0')
		if v > (1<<63-1-d)/10 {
			return 0, ErrAmountRange
		}
		v = v*10 + d
	}
	return v, nil
}

// ParseLaneAmountValue is ParseAmountValue for amounts lanes send: it
// also refuses leading zeros ("0" alone is zero).
func ParseLaneAmountValue(b []byte) (int64, error) {
	if len(b) > 1 && b[0] == '0' {
		if _, err := ParseAmountValue(b); err != nil {
			return 0, err
		}
		return 0, ErrAmountLeadingZero
	}
	return ParseAmountValue(b)
}

// DefaultMaxAmount is every currency's default maximum, in minor units:
// twelve digits, the amount field of ISO 8583 (n12) through which card
// and wallet schemes carry amounts. It is HKD 9,999,999,999.99 or JPY
// 999,999,999,999: far above any in-store sale, and far below where int64
// arithmetic (sums of refunds) could overflow.
const DefaultMaxAmount int64 = 999_999_999_999

// AmountLimits holds the largest amount, in minor units, that a lane may
// ask for in each currency. The zero value allows DefaultMaxAmount in
// every currency; nil does too. It is read-only once built, so one value
// serves every request; Check does not allocate.
type AmountLimits struct {
	max [len(iso4217)]int64 // 0: DefaultMaxAmount
}

// NewAmountLimits returns limits with the maxima given by currency code
// (minor units, at least 1); other currencies keep DefaultMaxAmount.
func NewAmountLimits(max map[string]int64) (*AmountLimits, error) {
	l := &AmountLimits{}
	for code, v := range max {
		c, err := ParseCurrency([]byte(code))
		if err != nil {
			return nil, fmt.Errorf("codec: maximum amount for %q: %w", code, err)
		}
		if v < 1 {
			return nil, fmt.Errorf("codec: maximum amount for %s must be at least 1 minor unit, got %d", code, v)
		}
		l.max[c] = v
	}
	return l, nil
}

// Max is the largest amount allowed in c, in minor units.
func (l *AmountLimits) Max(c Currency) int64 {
	if l == nil || !c.Valid() || l.max[c] == 0 {
		return DefaultMaxAmount
	}
	return l.max[c]
}

// Check reports a *FieldError at field (wrapping ErrAmountTooLarge) when
// a is above its currency's maximum.
func (l *AmountLimits) Check(field string, a Amount) error {
	if a.Value <= l.Max(a.Currency) {
		return nil
	}
	return &FieldError{Field: field, Err: ErrAmountTooLarge}
}

// CheckPay checks a parsed pay's paymentAmount and order.orderAmount.
func (l *AmountLimits) CheckPay(r *PayRequest) error {
	if err := l.Check("paymentAmount.value", r.Amount); err != nil {
		return err
	}
	return l.Check("order.orderAmount.value", r.OrderAmount)
}

// CheckRefund checks a parsed refund's refundAmount.
func (l *AmountLimits) CheckRefund(r *RefundRequest) error {
	return l.Check("refundAmount.value", r.Amount)
}

// String lists the maxima that differ from the default, for logs.
func (l *AmountLimits) String() string {
	s := "default " + strconv.FormatInt(DefaultMaxAmount, 10)
	if l == nil {
		return s
	}
	for i, v := range l.max {
		if v != 0 {
			s += ", " + Currency(i).String() + " " + strconv.FormatInt(v, 10)
		}
	}
	return s
}
