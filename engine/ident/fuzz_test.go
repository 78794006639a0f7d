package ident_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/ident"
)

// FuzzLoadRules feeds arbitrary documents to the rules parser. It must not
// panic; an error must not carry a long digit run (a pasted payment code);
// a table it accepts must write out and read back to the same rules, and
// route a code built from each of its rules.
func FuzzLoadRules(f *testing.F) {
	for _, seed := range []string{
		"rules:\n  - {prefix: \"281001\", wallet: mpp-281001, lengths: [24]}\n",
		`{"rules":[{"prefix":"28","wallet":"w","lengths":[17,18,19]}]}`,
		"rules: [{prefix: 0281, wallet: w, lengths: [16, 32]}]",
		"rules:\n  - &a {prefix: '28', wallet: w, lengths: [17]}\n  - *a\n",
		"rules: [{prefix: '28', wallet: w, lengths: [281001020123456789012345]}]",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := ident.LoadRules(data)
		if err != nil {
			if tb != nil {
				t.Fatalf("LoadRules returned a table and an error: %v", err)
			}
			if m := longDigitRun.FindString(err.Error()); m != "" {
				t.Fatalf("error %q carries the digit run %q", err, m)
			}
			return
		}
		rules := tb.Rules()
		back, err := ident.LoadRules(tb.AppendYAML(nil))
		if err != nil {
			t.Fatalf("AppendYAML output does not load: %v\n%s", err, tb.AppendYAML(nil))
		}
		if !reflect.DeepEqual(back.Rules(), rules) {
			t.Fatalf("round trip changed the rules: %+v -> %+v", rules, back.Rules())
		}
		for _, r := range rules {
			// The rule's prefix padded to its first length: at least this
			// rule matches, so Lookup must find a wallet.
			c, err := codec.ParseCode([]byte(r.Prefix + strings.Repeat("0", r.Lengths[0]-len(r.Prefix))))
			if err != nil {
				t.Fatalf("rule %+v: %v", r, err)
			}
			if _, ok := tb.Lookup(&c); !ok {
				t.Fatalf("rule %+v routes nothing for %v", r, c)
			}
		}
	})
}
