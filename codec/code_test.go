package codec_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/paycode/paycode/codec"
)

func TestParseCodeAccepts(t *testing.T) {
	cases := []struct {
		in, digits string
	}{
		{"2512345678901234", "2512345678901234"},                                  // 16, the minimum
		{testCode, testCode},                                                      // 24, mainstream Alipay+
		{strings.Repeat("9", 32), strings.Repeat("9", 32)},                        // 32, the maximum
		{"2810 0102 0123 4567 8901 4567", testCode},                               // grouped by a scanner
		{"  " + testCode + " ", testCode},                                         // padded
		{"0000000000000000", "0000000000000000"},                                  // shape is Class's business
		{"28 1 0 0 1 0 2 0 1 2 3 4 5 6 7 8 9 0 1 4 5 6 7", testCode},              // spaces anywhere
		{strings.Repeat(" ", 100) + "2893612204263667830", "2893612204263667830"}, // spaces do not count
	}
	for _, c := range cases {
		code, err := codec.ParseCode([]byte(c.in))
		if err != nil {
			t.Errorf("ParseCode(%q): %v", c.in, err)
			continue
		}
		if code.Reveal() != c.digits || code.Len() != len(c.digits) || code.IsZero() {
			t.Errorf("ParseCode(%q) = %q (len %d)", c.in, code.Reveal(), code.Len())
		}
	}
}

func TestParseCodeRejects(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{"", codec.ErrCodeEmpty},
		{"    ", codec.ErrCodeEmpty},
		{"251234567890123", codec.ErrCodeLength},            // 15
		{strings.Repeat("1", 33), codec.ErrCodeLength},      // 33
		{strings.Repeat("1", 1000), codec.ErrCodeLength},    // long input stops early
		{"28100102012345678901456a", codec.ErrCodeNotDigit}, // letter
		{"-281001020123456789014567", codec.ErrCodeNotDigit},
		{"2810010201234567\t89014567", codec.ErrCodeNotDigit}, // only ' ' is skipped
		{"2810010201234567\x0089014567", codec.ErrCodeNotDigit},
		{"٢٨١٠٠١٠٢٠١٢٣٤٥٦٧٨٩٠١٤٥٦٧", codec.ErrCodeNotDigit}, // Arabic-Indic digits
		{"2810010201234567.8", codec.ErrCodeNotDigit},
	}
	for _, c := range cases {
		code, err := codec.ParseCode([]byte(c.in))
		if !errors.Is(err, c.want) {
			t.Errorf("ParseCode(%.40q) err = %v, want %v", c.in, err, c.want)
		}
		if !code.IsZero() {
			t.Errorf("ParseCode(%.40q) returned a code with the error", c.in)
		}
	}
}

func TestMustParseCodePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParseCode of an invalid code did not panic")
		}
	}()
	codec.MustParseCode("12")
}

func TestCodeAccessors(t *testing.T) {
	c := codec.MustParseCode(testCode)
	if c.Digit(0) != 2 || c.Digit(23) != 7 {
		t.Errorf("Digit = %d %d", c.Digit(0), c.Digit(23))
	}
	if c.LastTwo() != 67 {
		t.Errorf("LastTwo = %d", c.LastTwo())
	}
	if got := string(c.AppendDigits([]byte("x:"))); got != "x:"+testCode {
		t.Errorf("AppendDigits = %q", got)
	}
	if string(c.Prefix(6)) != "281001" || string(c.Prefix(100)) != testCode[:codec.PlainPrefixLen] {
		t.Errorf("Prefix = %q / %q", c.Prefix(6), c.Prefix(100))
	}
	d := codec.MustParseCode(testCode)
	e := codec.MustParseCode("281001020123456789014568")
	if !c.Equal(&d) || c.Equal(&e) {
		t.Error("Equal is wrong")
	}
	var zero codec.Code
	if !zero.IsZero() || zero.Len() != 0 || zero.Class() != codec.ClassUnknown {
		t.Error("zero Code is not empty")
	}
}

const maskedTestCode = "281001**************4567"

// checkMasked fails when s shows any digit the mask hides.
func checkMasked(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, testCodeMiddle) || strings.Contains(s, testCode) {
		t.Errorf("%s leaks the code: %s", what, s)
	}
	// Digits as decimal byte values (what %v prints for a raw [32]byte).
	if strings.Contains(s, "50 56 49 48 48 49") {
		t.Errorf("%s leaks the code's bytes: %s", what, s)
	}
}

func TestCodeMaskingFmt(t *testing.T) {
	c := codec.MustParseCode(testCode)
	type exported struct {
		Code codec.Code
		N    int
	}
	cases := []struct {
		format string
		arg    any
		want   string // exact output, when it is worth pinning
	}{
		{"%s", c, maskedTestCode},
		{"%v", c, maskedTestCode},
		{"%+v", c, maskedTestCode},
		{"%#v", c, maskedTestCode},
		{"%q", c, `"` + maskedTestCode + `"`},
		{"%x", c, maskedTestCode},
		{"%X", c, maskedTestCode},
		{"%d", c, maskedTestCode},
		{"%30s", c, maskedTestCode},
		{"%v", &c, maskedTestCode},
		{"%v", []codec.Code{c, c}, "[" + maskedTestCode + " " + maskedTestCode + "]"},
		{"%+v", exported{c, 1}, "{Code:" + maskedTestCode + " N:1}"},
		{"%#v", exported{c, 1}, ""},
		{"%v", map[string]codec.Code{"k": c}, "map[k:" + maskedTestCode + "]"},
		{"%v", fmt.Errorf("pay: %v", c), "pay: " + maskedTestCode},
	}
	for _, tc := range cases {
		s := fmt.Sprintf(tc.format, tc.arg)
		checkMasked(t, tc.format, s)
		if tc.want != "" && s != tc.want {
			t.Errorf("Sprintf(%s) = %q, want %q", tc.format, s, tc.want)
		}
	}
	for what, s := range map[string]string{
		"String":   c.String(),
		"GoString": c.GoString(),
		"Sprint":   fmt.Sprint(c),
		"Sprintln": fmt.Sprintln(c),
		"Mask":     codec.Mask(c.Reveal()),
	} {
		checkMasked(t, what, s)
		if !strings.Contains(s, maskedTestCode) {
			t.Errorf("%s = %q, want the masked form", what, s)
		}
	}
	// encoding/json sees no exported fields: nothing at all.
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	checkMasked(t, "json.Marshal", string(b))
}

func TestCodeMaskingSlog(t *testing.T) {
	c := codec.MustParseCode(testCode)
	var buf bytes.Buffer
	handlers := map[string]slog.Handler{
		"json": slog.NewJSONHandler(&buf, nil),
		"text": slog.NewTextHandler(&buf, nil),
	}
	for name, h := range handlers {
		buf.Reset()
		log := slog.New(h)
		log.Info("pay", "code", c, "ptr", &c, slog.Any("any", c), slog.Group("g", "code", c))
		log.With("code", c).Info("with")
		out := buf.String()
		checkMasked(t, name, out)
		if strings.Count(out, maskedTestCode) != 5 {
			t.Errorf("%s handler: want the masked code 5 times:\n%s", name, out)
		}
	}
}

func TestAppendMasked(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"1", "*"},
		{"1234567890", "**********"}, // 10 bytes or less: all hidden
		{"12345678901", "123456*8901"},
		{testCode, maskedTestCode},
		{strings.Repeat("7", 32), "777777**********************7777"},
	}
	for _, c := range cases {
		if got := string(codec.AppendMasked([]byte("p"), []byte(c.in))); got != "p"+c.want {
			t.Errorf("AppendMasked(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := codec.Mask(c.in); got != c.want {
			t.Errorf("Mask(%q) = %q", c.in, got)
		}
	}
	// Masking keeps the length, for every legal code length.
	for n := codec.MinCodeLen; n <= codec.MaxCodeLen; n++ {
		c := codec.MustParseCode(strings.Repeat("5", n))
		m := c.String()
		if len(m) != n || strings.Count(m, "*") != n-10 {
			t.Errorf("len %d: masked %q", n, m)
		}
	}
}

func BenchmarkParseCode(b *testing.B) {
	in := []byte(testCode)
	b.ReportAllocs()
	for b.Loop() {
		c, err := codec.ParseCode(in)
		if err != nil || c.Class() != codec.ClassAlipayPlus {
			b.Fatal(err)
		}
	}
}

// TestCodeInUnexportedField: fmt prints unexported fields by reflection,
// without Format; the digits past the routing prefix must still not show.
func TestCodeInUnexportedField(t *testing.T) {
	type holder struct{ c codec.Code }
	const s = "281001029876543210123456"
	h := holder{c: codec.MustParseCode(s)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
		out := fmt.Sprintf(verb, h)
		if strings.Contains(out, "9876543210123456") || strings.Contains(out, fmt.Sprint([]byte("9876543210123456"))[1:20]) {
			t.Errorf("%s leaks the code: %s", verb, out)
		}
	}
	if got := h.c.Reveal(); got != s {
		t.Fatalf("Reveal = %q", got)
	}
}
