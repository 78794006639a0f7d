package codec_test

import (
	"strings"
	"testing"

	"github.com/paycode/paycode/codec"
)

// The classifier follows spec §6.3; the examples are the spec's own where
// it gives one (§6.1, §6.2).
func TestClass(t *testing.T) {
	cases := []struct {
		code string
		want codec.Class
		why  string
	}{
		{"251001020123456789012345", codec.ClassAlipayPlus, "§6.1 CII example, 24 digits prefix 25"},
		{"281010897274821897274821", codec.ClassAlipayPlus, "§6.1 CGCP example: BTI 89 is not checked"},
		{"300001000000000000000000", codec.ClassAlipayPlus, "prefix 30 is the top of the space"},
		{"241001020123456789012345", codec.ClassUnknown, "24 digits, prefix 24 is outside 25-30"},
		{"311001020123456789012345", codec.ClassUnknown, "24 digits, prefix 31 is outside 25-30"},
		{"2893612204263667830", codec.ClassLegacy, "§6.1 Alipay+ 19-digit code"},
		{"2890000000000100000", codec.ClassLegacy, "19 digits 289..., 14th digit not 6"},
		{"2880000000000000000", codec.ClassLegacy, "19 digits 28[0-8]"},
		{"28024456785672301", codec.ClassLegacy, "17 digits starting 28: step 3 comes before step 4"},
		{"280000000000000000", codec.ClassLegacy, "18 digits starting 28"},
		{"25024456785672301", codec.ClassAlipayCN, "17 digits, 25-30 but not 28"},
		{"3000000000000000000", codec.ClassAlipayCN, "19 digits starting 30"},
		{"2512345678901234", codec.ClassAlipayCN, "16 digits: Alipay China codes start at 16 (§6.2)"},
		{"2812345678901234", codec.ClassAlipayCN, "16 digits starting 28 is not a legacy shape"},
		{"134567890123456789", codec.ClassWeChat, "§6.2 WeChat Pay: 18 digits, 10-15"},
		{"104567890123456789", codec.ClassWeChat, "prefix 10"},
		{"164567890123456789", codec.ClassUnknown, "18 digits prefix 16"},
		{"1345678901234567890", codec.ClassUnknown, "19 digits prefix 13 is not WeChat"},
		{"6212345678901234567", codec.ClassUnknown, "§6.2 UnionPay 62: not supported"},
		{"28100102012345678901", codec.ClassUnknown, "20 digits: reserved (§6.1)"},
		{"2810010201234567890123", codec.ClassUnknown, "22 digits: reserved"},
		{"2810010201234567890123456", codec.ClassUnknown, "25 digits: reserved"},
		{strings.Repeat("2", 32), codec.ClassUnknown, "32 digits: reserved"},
		{"9999999999999999", codec.ClassUnknown, "prefix 99"},
	}
	for _, c := range cases {
		code := codec.MustParseCode(c.code)
		if got := code.Class(); got != c.want {
			t.Errorf("%s: Class = %v, want %v (%s)", c.code, got, c.want, c.why)
		}
	}
}

func TestClassNames(t *testing.T) {
	cases := []struct {
		c        codec.Class
		name     string
		routable bool
	}{
		{codec.ClassUnknown, "unknown", false},
		{codec.ClassAlipayPlus, "alipayplus", true},
		{codec.ClassLegacy, "legacy", true},
		{codec.ClassAlipayCN, "alipaycn", true},
		{codec.ClassWeChat, "wechat", false},
		{codec.Class(200), "invalid", false},
	}
	for _, c := range cases {
		if c.c.String() != c.name || c.c.Routable() != c.routable {
			t.Errorf("Class(%d) = %q routable %v, want %q %v", c.c, c.c.String(), c.c.Routable(), c.name, c.routable)
		}
	}
}
