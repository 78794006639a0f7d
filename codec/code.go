package codec

import (
	"errors"
	"fmt"
	"log/slog"
)

// Payment-code length limits (spec §6): terminals accept 16 to 32 digits.
const (
	MinCodeLen = 16
	MaxCodeLen = 32
)

// Errors returned by ParseCode. They never contain the code itself.
var (
	ErrCodeEmpty    = errors.New("codec: payment code is empty")
	ErrCodeNotDigit = errors.New("codec: payment code has a non-digit character")
	ErrCodeLength   = errors.New("codec: payment code length is outside 16..32")
)

// Code is a parsed payment code: 16 to 32 ASCII digits. It is a value type
// (no heap pointer), so it can be copied and stored without allocating.
//
// Code is a bearer token: String, Format (every verb) and LogValue print the
// masked form, e.g. 281001**************4567. Use AppendDigits or Reveal
// where the digits are really needed (the wallet request, a keyed hash).
type Code struct {
	n uint8
	// d holds the digits. Past the routing prefix they are stored XORed
	// with hiddenMask, so a Code inside an unexported struct field — which
	// fmt prints by reflection, without calling Format — shows bytes that
	// are not the digits. This is a guard against accidents, not secrecy.
	d [MaxCodeLen]byte
}

// PlainPrefixLen is how many leading digits a Code keeps in clear: the
// routing prefix, which identifies the wallet and is not secret.
const PlainPrefixLen = 8

const hiddenMask = 0xA5

func hide(i int, ch byte) byte {
	if i < PlainPrefixLen {
		return ch
	}
	return ch ^ hiddenMask
}

// ParseCode validates b as a payment code. ASCII spaces are ignored (lanes
// and scanners sometimes group digits); anything else that is not 0-9 is
// rejected. The returned error never carries the input.
func ParseCode(b []byte) (Code, error) {
	var c Code
	if len(b) == 0 {
		return c, ErrCodeEmpty
	}
	for _, ch := range b {
		if ch == ' ' {
			continue
		}
		if ch < '0' || ch > '9' {
			return Code{}, ErrCodeNotDigit
		}
		if int(c.n) == MaxCodeLen {
			return Code{}, ErrCodeLength
		}
		c.d[c.n] = hide(int(c.n), ch)
		c.n++
	}
	if c.n == 0 {
		return Code{}, ErrCodeEmpty
	}
	if c.n < MinCodeLen {
		return Code{}, ErrCodeLength
	}
	return c, nil
}

// MustParseCode is ParseCode for tests and examples; it panics on error.
func MustParseCode(s string) Code {
	c, err := ParseCode([]byte(s))
	if err != nil {
		panic(err)
	}
	return c
}

// Len is the number of digits.
func (c *Code) Len() int { return int(c.n) }

// IsZero reports whether c holds no code.
func (c *Code) IsZero() bool { return c.n == 0 }

// Digit returns the i-th digit's value (0-9). It panics when i is out of range.
func (c *Code) Digit(i int) int { return int(hide(i, c.d[:c.n][i]) - '0') }

// LastTwo is the number formed by the last two digits; the simulated wallets
// use it to pick an outcome (see the README's test-code table).
func (c *Code) LastTwo() int { return c.Digit(int(c.n)-2)*10 + c.Digit(int(c.n)-1) }

// AppendDigits appends the full, unmasked digits to dst.
func (c *Code) AppendDigits(dst []byte) []byte {
	for i, ch := range c.d[:c.n] {
		dst = append(dst, hide(i, ch))
	}
	return dst
}

// Reveal returns the full digits. It allocates; keep it off logs.
func (c Code) Reveal() string {
	var b [MaxCodeLen]byte
	return string(c.AppendDigits(b[:0]))
}

// Prefix returns the first n digits, n clamped to the length and to
// PlainPrefixLen. The slice aliases c, so c must outlive it.
func (c *Code) Prefix(n int) []byte {
	n = min(n, int(c.n), PlainPrefixLen)
	return c.d[:n]
}

// Equal reports whether a and b hold the same digits.
func (c *Code) Equal(o *Code) bool { return c.n == o.n && c.d == o.d }

// AppendMasked appends the masked form: the first 6 and the last 4 digits
// with '*' in between, keeping the length. Codes are at least 16 long, so at
// least 6 digits are always hidden.
func (c *Code) AppendMasked(dst []byte) []byte {
	var b [MaxCodeLen]byte
	return AppendMasked(dst, c.AppendDigits(b[:0]))
}

// AppendMasked masks any secret-like text the way Code does: the first 6
// and last 4 bytes are kept and everything in between becomes '*'. Text of
// 10 bytes or less is fully masked, so a short secret never shows whole.
func AppendMasked(dst, s []byte) []byte {
	if len(s) <= 10 {
		for range s {
			dst = append(dst, '*')
		}
		return dst
	}
	dst = append(dst, s[:6]...)
	for i := 6; i < len(s)-4; i++ {
		dst = append(dst, '*')
	}
	return append(dst, s[len(s)-4:]...)
}

// Mask returns AppendMasked of s as a string.
func Mask(s string) string { return string(AppendMasked(nil, []byte(s))) }

// String returns the masked form.
func (c Code) String() string { return string(c.AppendMasked(nil)) }

// Format prints the masked form for every verb, so %s, %v, %q, %x and %#v
// cannot leak the code.
func (c Code) Format(f fmt.State, verb rune) {
	var buf [MaxCodeLen + 2]byte
	b := buf[:0]
	if verb == 'q' {
		b = append(b, '"')
	}
	b = c.AppendMasked(b)
	if verb == 'q' {
		b = append(b, '"')
	}
	f.Write(b)
}

// LogValue makes slog print the masked form.
func (c Code) LogValue() slog.Value { return slog.StringValue(c.String()) }

// GoString is the masked form too (used by %#v on some paths).
func (c Code) GoString() string { return c.String() }

var (
	_ fmt.Formatter  = Code{}
	_ slog.LogValuer = Code{}
	_ fmt.GoStringer = Code{}
	_ fmt.Stringer   = Code{}
)
