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

func TestParseLaneAmountValue(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		err  error
	}{
		{"0", 0, nil}, {"7", 7, nil}, {"5600", 5600, nil}, {"999999999999", 999999999999, nil},
		{"007", 0, codec.ErrAmountLeadingZero}, {"00", 0, codec.ErrAmountLeadingZero}, {"0100", 0, codec.ErrAmountLeadingZero},
		{"0x1", 0, codec.ErrAmountFormat}, {"", 0, codec.ErrAmountFormat}, {"9223372036854775808", 0, codec.ErrAmountRange},
	} {
		v, err := codec.ParseLaneAmountValue([]byte(c.in))
		if v != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%q: %d, %v; want %d, %v", c.in, v, err, c.want, c.err)
		}
	}
	if !errors.Is(codec.ErrAmountLeadingZero, codec.ErrAmountFormat) {
		t.Error("a leading zero is not an amount format error")
	}
}

func TestAmountLimits(t *testing.T) {
	hkd, jpy, usd := codec.MustCurrency("HKD"), codec.MustCurrency("JPY"), codec.MustCurrency("USD")
	var none *codec.AmountLimits
	if none.Max(hkd) != codec.DefaultMaxAmount || none.Check("v", codec.Amount{Value: codec.DefaultMaxAmount, Currency: hkd}) != nil {
		t.Fatal("nil limits are not the default")
	}
	err := none.Check("paymentAmount.value", codec.Amount{Value: 1<<63 - 1, Currency: hkd})
	var fe *codec.FieldError
	if !errors.As(err, &fe) || fe.Field != "paymentAmount.value" || !errors.Is(err, codec.ErrAmountTooLarge) || !errors.Is(err, codec.ErrAmountRange) {
		t.Fatalf("int64 max HKD: %v", err)
	}
	l, err := codec.NewAmountLimits(map[string]int64{"HKD": 10_000_000, "JPY": 5_000_000_000_000})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		a  codec.Amount
		ok bool
	}{
		{codec.Amount{Value: 10_000_000, Currency: hkd}, true}, {codec.Amount{Value: 10_000_001, Currency: hkd}, false},
		{codec.Amount{Value: 5_000_000_000_000, Currency: jpy}, true}, // above the default: raised
		{codec.Amount{Value: codec.DefaultMaxAmount, Currency: usd}, true}, {codec.Amount{Value: codec.DefaultMaxAmount + 1, Currency: usd}, false},
	} {
		if err := l.Check("v", c.a); (err == nil) != c.ok {
			t.Errorf("%+v: %v", c.a, err)
		}
	}
	for _, bad := range []map[string]int64{{"hkd": 1}, {"XXX": 1}, {"HKD": 0}} {
		if _, err := codec.NewAmountLimits(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = l.Check("v", codec.Amount{Value: 1, Currency: hkd}) }); n != 0 {
		t.Errorf("Check allocates %v", n)
	}
}

func TestCheckClientID(t *testing.T) {
	for _, c := range []struct {
		id string
		ok bool
	}{
		{"SANDBOX_5YEXAMPLE00001", true}, {"LANE-7.a/b:c", true}, {strings.Repeat("a", 128), true},
		{"", false}, {strings.Repeat("a", 129), false}, {"a b", false}, {"a\xffb", false}, {"a\x00", false}, {"é", false}, {"a\x7f", false},
	} {
		if err := codec.CheckClientID([]byte(c.id)); (err == nil) != c.ok {
			t.Errorf("%q: %v", c.id, err)
		}
	}
}
