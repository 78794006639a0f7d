package codec_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/paycode/paycode/codec"
)

// nastyStrings are inputs where a hand-written JSON escaper tends to
// differ from encoding/json.
var nastyStrings = []string{
	"",
	"plain ascii 0123",
	`"`, `\`, `\"`, `"\\"`, "/",
	"\x00", "\x01\x02\x1f", "\b\f\n\r\t", "\x7f",
	"<script>alert('x')</script>", "a&b", "<>&",
	"\u2028", "\u2029", "a\u2028b\u2029c", "\u2027\u202a", // neighbours are not escaped
	"é", "日本語", "😀", "\ufffd", "\uffff", "\U0010ffff",
	"\xff", "\xfe\xff", "a\xc3", "\xc3\x28", "\xe2\x80", "\xe2\x80\xa8\xe2", // invalid UTF-8
	"\xed\xa0\x80",     // an encoded surrogate is invalid UTF-8
	"\xf4\x90\x80\x80", // above U+10FFFF
	"\xc0\xaf",         // overlong '/'
	strings.Repeat("x", 300) + "\"" + strings.Repeat("y", 300),
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range nastyStrings {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := codec.AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("string %q:\n got %s\nwant %s", s, got, want)
		}
		if got := codec.AppendJSONString(nil, []byte(s)); string(got) != string(want) {
			t.Errorf("[]byte %q:\n got %s\nwant %s", s, got, want)
		}
		if got := codec.AppendJSONString([]byte("pre"), s); string(got) != "pre"+string(want) {
			t.Errorf("prefix lost: %s", got)
		}
	}
}

func TestAppendKeyAndFields(t *testing.T) {
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"first key after {", codec.AppendKey([]byte("{"), "a"), `{"a":`},
		{"first key after [", codec.AppendKey([]byte("["), "a"), `["a":`},
		{"comma before later keys", codec.AppendKey([]byte(`{"a":1`), "b"), `{"a":1,"b":`},
		{"empty dst", codec.AppendKey(nil, "a"), `"a":`},
		{"string field", codec.AppendStringField([]byte("{"), "k", "v\"<"), `{"k":"v\"\u003c"`},
		{"bytes field", codec.AppendStringField([]byte(`{"x":1`), "k", []byte("v")), `{"x":1,"k":"v"`},
		{"amount", codec.AppendAmount(nil, codec.Amount{Value: 100, Currency: codec.MustCurrency("HKD")}), `{"currency":"HKD","value":"100"}`},
		{"max amount", codec.AppendAmount(nil, codec.Amount{Value: 1<<63 - 1, Currency: codec.MustCurrency("JPY")}),
			`{"currency":"JPY","value":"9223372036854775807"}`},
		{"amount field", codec.AppendAmountField([]byte(`{"a":1`), "paymentAmount", codec.Amount{Value: 0, Currency: codec.MustCurrency("USD")}),
			`{"a":1,"paymentAmount":{"currency":"USD","value":"0"}`},
		{"result, default message", codec.AppendResult(nil, codec.ParamIllegal, ""),
			`{"resultCode":"PARAM_ILLEGAL","resultStatus":"F","resultMessage":"illegal parameters"}`},
		{"result, own message", codec.AppendResult(nil, codec.Success, []byte("ok \"now\"")),
			`{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"ok \"now\""}`},
		{"result none is unknown", codec.AppendResult(nil, codec.ResultNone, "x"),
			`{"resultCode":"UNKNOWN_EXCEPTION","resultStatus":"U","resultMessage":"x"}`},
		{"result out of range is unknown", codec.AppendResult(nil, codec.ResultCode(200), ""),
			`{"resultCode":"UNKNOWN_EXCEPTION","resultStatus":"U","resultMessage":"unknown exception, inquire or retry with the same request id"}`},
	}
	for _, c := range cases {
		if string(c.got) != c.want {
			t.Errorf("%s: got %s, want %s", c.name, c.got, c.want)
		}
	}
}

// Every result code writes a result object encoding/json can read back.
func TestAppendResultEveryCode(t *testing.T) {
	for _, r := range allResults() {
		var got struct{ ResultCode, ResultStatus, ResultMessage string }
		if err := json.Unmarshal(codec.AppendResult(nil, r, ""), &got); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		if got.ResultCode != r.String() || got.ResultStatus != string(r.Status()) || got.ResultMessage != r.Message() {
			t.Errorf("%s: %+v", r, got)
		}
	}
}

func BenchmarkAppendJSONString(b *testing.B) {
	cases := []struct{ name, s string }{
		{"ascii", "pay-20240501-000123-terminal-7"},
		{"escapes", `store "central" <HK> & co` + "\n"},
		{"utf8", "咖啡店 中環 — Café Lumière"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			in := []byte(c.s)
			dst := make([]byte, 0, 256)
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				dst = codec.AppendJSONString(dst[:0], in)
			}
		})
	}
}
