package codec_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/paycode/paycode/codec"
)

func TestParseCurrency(t *testing.T) {
	cases := []struct {
		code  string
		minor int
	}{
		{"HKD", 2}, {"USD", 2}, {"EUR", 2}, {"CNY", 2}, {"SGD", 2}, {"PHP", 2}, {"THB", 2}, {"MYR", 2},
		{"JPY", 0}, {"KRW", 0}, {"VND", 0}, {"IDR", 2}, {"CLP", 0}, {"ISK", 0}, {"XAF", 0}, {"XOF", 0},
		{"BHD", 3}, {"KWD", 3}, {"JOD", 3}, {"OMR", 3}, {"TND", 3}, {"IQD", 3}, {"LYD", 3},
		{"ZWG", 2}, {"VES", 2}, {"SLE", 2}, {"MRU", 2}, {"STN", 2},
	}
	for _, c := range cases {
		cur, err := codec.ParseCurrency([]byte(c.code))
		if err != nil {
			t.Errorf("ParseCurrency(%s): %v", c.code, err)
			continue
		}
		if !cur.Valid() || cur.String() != c.code || cur.MinorUnits() != c.minor {
			t.Errorf("%s: Valid=%v String=%q MinorUnits=%d, want %d", c.code, cur.Valid(), cur.String(), cur.MinorUnits(), c.minor)
		}
		if got := string(cur.AppendCode([]byte("x"))); got != "x"+c.code {
			t.Errorf("AppendCode = %q", got)
		}
		if codec.MustCurrency(c.code) != cur {
			t.Errorf("MustCurrency(%s) differs", c.code)
		}
	}
}

func TestParseCurrencyRejects(t *testing.T) {
	for _, s := range []string{"", "H", "HK", "HKDD", "hkd", "Hkd", "XXX", "XAU", "ZZZ", "HK ", "123", "\x00\x00\x00", "ＨＫＤ"} {
		if c, err := codec.ParseCurrency([]byte(s)); !errors.Is(err, codec.ErrCurrency) || c != 0 {
			t.Errorf("ParseCurrency(%q) = %v, %v; want ErrCurrency", s, c, err)
		}
	}
}

func TestMustCurrencyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustCurrency of an unknown code did not panic")
		}
	}()
	codec.MustCurrency("ABC")
}

// Every currency of the table round-trips, codes are unique and shaped
// like ISO 4217, and the table ends where Valid says it does.
func TestCurrencyTable(t *testing.T) {
	seen := map[string]bool{}
	n := 0
	for c := codec.Currency(1); c.Valid(); c++ {
		n++
		s := c.String()
		if len(s) != 3 || strings.ToUpper(s) != s || strings.IndexFunc(s, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
			t.Errorf("Currency(%d) = %q is not 3 upper-case letters", c, s)
		}
		if seen[s] {
			t.Errorf("%s listed twice", s)
		}
		seen[s] = true
		back, err := codec.ParseCurrency([]byte(s))
		if err != nil || back != c {
			t.Errorf("%s: ParseCurrency = %v, %v; want %d", s, back, err, c)
		}
		if m := c.MinorUnits(); m < 0 || m > 3 {
			t.Errorf("%s: MinorUnits = %d", s, m)
		}
	}
	if n < 150 {
		t.Errorf("only %d currencies", n)
	}
	var zero codec.Currency
	if zero.Valid() || zero.String() != "" || zero.MinorUnits() != 0 || string(zero.AppendCode(nil)) != "" {
		t.Error("the zero Currency is not empty")
	}
	bad := codec.Currency(n + 1)
	if bad.Valid() || bad.String() != "" {
		t.Errorf("Currency(%d) past the table is valid", n+1)
	}
}

func TestParseAmountValue(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  error
	}{
		{"0", 0, nil},
		{"1", 1, nil},
		{"100", 100, nil},
		{"0100", 100, nil},
		{strings.Repeat("0", 500) + "7", 7, nil},
		{"9223372036854775807", 1<<63 - 1, nil},
		{"09223372036854775807", 1<<63 - 1, nil},
		{"9223372036854775808", 0, codec.ErrAmountRange},
		{"9223372036854775810", 0, codec.ErrAmountRange},
		{"18446744073709551616", 0, codec.ErrAmountRange},
		{"99999999999999999999", 0, codec.ErrAmountRange},
		{strings.Repeat("9", 1000), 0, codec.ErrAmountRange},
		{"", 0, codec.ErrAmountFormat},
		{"-1", 0, codec.ErrAmountFormat},
		{"+1", 0, codec.ErrAmountFormat},
		{"1.00", 0, codec.ErrAmountFormat},
		{"1e3", 0, codec.ErrAmountFormat},
		{" 1", 0, codec.ErrAmountFormat},
		{"1 ", 0, codec.ErrAmountFormat},
		{"1,000", 0, codec.ErrAmountFormat},
		{"0x10", 0, codec.ErrAmountFormat},
		{"١٠٠", 0, codec.ErrAmountFormat}, // Arabic-Indic digits
		{"１００", 0, codec.ErrAmountFormat}, // full-width digits
		{"12\x00", 0, codec.ErrAmountFormat},
	}
	for _, c := range cases {
		got, err := codec.ParseAmountValue([]byte(c.in))
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) || got != c.want {
			t.Errorf("ParseAmountValue(%.30q) = %d, %v; want %d, %v", c.in, got, err, c.want, c.err)
		}
	}
}

// Every int64 that strconv writes parses back to itself.
func TestParseAmountValueRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 9, 10, 99, 12345, 1 << 31, 1<<53 + 1, 1<<62 + 7, 1<<63 - 2, 1<<63 - 1} {
		got, err := codec.ParseAmountValue(strconv.AppendInt(nil, v, 10))
		if err != nil || got != v {
			t.Errorf("%d: got %d, %v", v, got, err)
		}
	}
}
