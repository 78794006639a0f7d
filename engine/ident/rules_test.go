package ident_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/ident"
)

func TestTableLookup(t *testing.T) {
	tb := mustTable(t,
		ident.Rule{Prefix: "28", Wallet: "legacy", Lengths: []int{17, 18, 19}},
		ident.Rule{Prefix: "2810", Wallet: "broad", Lengths: []int{24}},
		ident.Rule{Prefix: "281001", Wallet: "narrow", Lengths: []int{24}},
		ident.Rule{Prefix: "28100102", Wallet: "narrowest", Lengths: []int{24}},
		// A longer prefix that routes only 19-digit codes must not hide
		// the shorter "28" rule for 17-digit ones.
		ident.Rule{Prefix: "2899", Wallet: "legacy-99", Lengths: []int{19}},
		ident.Rule{Prefix: "3", Wallet: "one-digit", Lengths: []int{16, 32}},
	)
	tests := []struct {
		name   string
		code   string
		wallet string // "" = no rule
	}{
		{"longest prefix wins over 6 and 4 digits", "28100102" + "0123456789012345", "narrowest"},
		{"6-digit prefix", "28100189" + "0123456789012345", "narrow"},
		{"4-digit prefix", "28109989" + "0123456789012345", "broad"},
		{"no 24-digit rule under 28 alone", "28200102" + "0123456789012345", ""},
		{"legacy 17", "28" + "123456789012345", "legacy"},
		{"legacy 18", "28" + "1234567890123456", "legacy"},
		{"legacy 19 under a 19-only longer prefix", "2899" + "123456789012345", "legacy-99"},
		{"17 digits under 2899 falls back to 28", "2899" + "1234567890123", "legacy"},
		{"legacy length not listed for 24-digit rule", "28100102" + "012345678", "legacy"},
		{"length not listed anywhere", "28100102" + "01234567890123456789", ""},
		{"one-digit prefix, 16", "3" + "123456789012345", "one-digit"},
		{"one-digit prefix, 32", "3" + strings.Repeat("1", 31), "one-digit"},
		{"one-digit prefix, unlisted 24", "3" + strings.Repeat("1", 23), ""},
		{"unknown first digit", "4" + strings.Repeat("1", 23), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustCode(tt.code)
			w, ok := tb.Lookup(&c)
			if w != tt.wallet || ok != (tt.wallet != "") {
				t.Errorf("Lookup = %q, %v; want %q", w, ok, tt.wallet)
			}
			// LookupDigits with the first 8 digits agrees: the cache
			// key holds no more than that.
			w8, ok8 := tb.LookupDigits(c.Prefix(ident.MaxPrefixLen), c.Len())
			if w8 != w || ok8 != ok {
				t.Errorf("LookupDigits = %q, %v; Lookup = %q, %v", w8, ok8, w, ok)
			}
		})
	}
}

func TestLookupDigitsEdges(t *testing.T) {
	tb := mustTable(t, ident.Rule{Prefix: "281001", Wallet: "w", Lengths: []int{24}})
	tests := []struct {
		name   string
		digits string
		length int
		want   bool
	}{
		{"exact", "281001", 24, true},
		{"longer digits", "2810010299", 24, true},
		{"shorter than the prefix", "2810", 24, false},
		{"non-digit ends the prefix", "2810x1", 24, false},
		{"length below 16", "281001", 15, false},
		{"length above 32", "281001", 33, false},
		{"empty", "", 24, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := tb.LookupDigits([]byte(tt.digits), tt.length); ok != tt.want {
				t.Errorf("LookupDigits(%q, %d) ok = %v, want %v", tt.digits, tt.length, ok, tt.want)
			}
		})
	}
	var nilTable *ident.Table
	if _, ok := nilTable.LookupDigits([]byte("281001"), 24); ok {
		t.Error("nil table matched")
	}
}

func TestNewTableErrors(t *testing.T) {
	ok := ident.Rule{Prefix: "281001", Wallet: "mpp-281001", Lengths: []int{24}}
	tests := []struct {
		name    string
		rules   []ident.Rule
		want    error
		index   int    // -1: not a RuleError
		message string // substring of the error
	}{
		{"no rules", nil, ident.ErrNoRules, -1, "no routing rules"},
		{"empty prefix", []ident.Rule{ok, {Prefix: "", Wallet: "w", Lengths: []int{24}}}, ident.ErrBadPrefix, 1, "rules[1]"},
		{"9-digit prefix", []ident.Rule{{Prefix: "281001020", Wallet: "w", Lengths: []int{24}}}, ident.ErrBadPrefix, 0, "rules[0]"},
		{"non-digit prefix", []ident.Rule{{Prefix: "28a", Wallet: "w", Lengths: []int{24}}}, ident.ErrBadPrefix, 0, `"28a"`},
		{"empty wallet", []ident.Rule{{Prefix: "28", Wallet: "", Lengths: []int{24}}}, ident.ErrBadWallet, 0, "wallet"},
		{"wallet with a space", []ident.Rule{{Prefix: "28", Wallet: "mpp 1", Lengths: []int{24}}}, ident.ErrBadWallet, 0, "wallet"},
		{"wallet with a quote", []ident.Rule{{Prefix: "28", Wallet: `a"b`, Lengths: []int{24}}}, ident.ErrBadWallet, 0, "wallet"},
		{"wallet too long", []ident.Rule{{Prefix: "28", Wallet: strings.Repeat("w", 65), Lengths: []int{24}}}, ident.ErrBadWallet, 0, "wallet"},
		{"no lengths", []ident.Rule{{Prefix: "28", Wallet: "w"}}, ident.ErrNoLengths, 0, "no code lengths"},
		{"length 15", []ident.Rule{{Prefix: "28", Wallet: "w", Lengths: []int{15}}}, ident.ErrBadLength, 0, ": 15"},
		{"length 33", []ident.Rule{{Prefix: "28", Wallet: "w", Lengths: []int{24, 33}}}, ident.ErrBadLength, 0, ": 33"},
		{"length listed twice", []ident.Rule{{Prefix: "28", Wallet: "w", Lengths: []int{24, 24}}}, ident.ErrDuplicateRule, 0, "listed twice"},
		{"same prefix, overlapping lengths", []ident.Rule{
			ok,
			{Prefix: "28", Wallet: "legacy", Lengths: []int{17}},
			{Prefix: "281001", Wallet: "other", Lengths: []int{19, 24}},
		}, ident.ErrDuplicateRule, 2, "length 24 is routed by rules[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb, err := ident.NewTable(tt.rules)
			if tb != nil || !errors.Is(err, tt.want) {
				t.Fatalf("NewTable = %v, %v; want error %v", tb, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
			re, isRule := errors.AsType[*ident.RuleError](err)
			if tt.index < 0 {
				if isRule {
					t.Errorf("got a RuleError for a table-level problem: %v", err)
				}
				return
			}
			if !isRule || re.Index != tt.index {
				t.Errorf("error %v: want a RuleError for rules[%d]", err, tt.index)
			}
		})
	}
}

func TestNewTableAllowsSamePrefixDisjointLengths(t *testing.T) {
	tb := mustTable(t,
		ident.Rule{Prefix: "28", Wallet: "legacy", Lengths: []int{17, 18}},
		ident.Rule{Prefix: "28", Wallet: "legacy19", Lengths: []int{19}},
	)
	for _, tt := range []struct {
		code codec.Code
		want string
	}{{codeLegacy17, "legacy"}, {codeLegacy18, "legacy"}, {codeLegacy19, "legacy19"}} {
		if w, _ := tb.Lookup(&tt.code); w != tt.want {
			t.Errorf("Lookup(%v) = %q, want %q", tt.code, w, tt.want)
		}
	}
}

func TestRuleErrorMasksLongPrefix(t *testing.T) {
	code := "281001020123456789012345"
	_, err := ident.NewTable([]ident.Rule{{Prefix: code, Wallet: "w", Lengths: []int{24}}})
	if !errors.Is(err, ident.ErrBadPrefix) {
		t.Fatalf("err = %v, want ErrBadPrefix", err)
	}
	assertNoCode(t, err, mustCode(code))
	if !strings.Contains(err.Error(), codec.Mask(code)) {
		t.Errorf("error %q should show the masked prefix %q", err, codec.Mask(code))
	}
}

func TestTableRulesIsACopy(t *testing.T) {
	in := []ident.Rule{{Prefix: "28", Wallet: "w", Lengths: []int{17}}}
	tb := mustTable(t, in...)
	in[0].Lengths[0] = 18 // the caller reuses its slice
	out := tb.Rules()
	out[0].Lengths[0] = 19 // and mutates what it got back
	if got := tb.Rules()[0].Lengths[0]; got != 17 {
		t.Errorf("table rule length = %d, want 17", got)
	}
	if w, ok := tb.Lookup(&codeLegacy17); !ok || w != "w" {
		t.Errorf("Lookup after caller mutation = %q, %v", w, ok)
	}
}

func TestParseRules(t *testing.T) {
	want := []ident.Rule{
		{Prefix: "281001", Wallet: "mpp-281001", Lengths: []int{24}},
		{Prefix: "28", Wallet: "mpp-281001", Lengths: []int{17, 18, 19}},
	}
	tests := []struct {
		name string
		doc  string
	}{
		{"block YAML", `
rules:
  - prefix: "281001"
    wallet: mpp-281001
    lengths: [24]
  - prefix: "28"
    wallet: "mpp-281001"
    lengths:
      - 17
      - 18
      - 19
`},
		{"flow YAML, unquoted prefixes", `rules: [{prefix: 281001, wallet: mpp-281001, lengths: [24]}, {prefix: 28, wallet: mpp-281001, lengths: [17, 18, 19]}]`},
		{"JSON", `{"rules":[{"prefix":"281001","wallet":"mpp-281001","lengths":[24]},{"prefix":"28","wallet":"mpp-281001","lengths":[17,18,19]}]}`},
		{"comments and key order", `
# routing
rules:
  - lengths: [24]      # mainstream
    wallet: mpp-281001
    prefix: "281001"
  - {wallet: mpp-281001, prefix: "28", lengths: [17, 18, 19]}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ident.ParseRules([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseRules = %+v, want %+v", got, want)
			}
		})
	}
}

func TestParseRulesKeepsLeadingZeros(t *testing.T) {
	// YAML would read an unquoted 0281 as a number; the parser takes the
	// text as written, so the prefix keeps its zero either way.
	rules, err := ident.ParseRules([]byte(`rules: [{prefix: 0281, wallet: w, lengths: [24]}, {prefix: "0282", wallet: w, lengths: [24]}]`))
	if err != nil {
		t.Fatal(err)
	}
	if rules[0].Prefix != "0281" || rules[1].Prefix != "0282" {
		t.Errorf("prefixes = %q, %q", rules[0].Prefix, rules[1].Prefix)
	}
}

func TestLoadRulesErrors(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		want    error
		message string // substring: where the problem is
	}{
		{"empty", ``, ident.ErrNoRules, ""},
		{"comment only", "# nothing\n", ident.ErrNoRules, ""},
		{"no rules key", "{}", ident.ErrNoRules, ""},
		{"null rules", "rules:\n", ident.ErrNoRules, ""},
		{"empty rules", "rules: []", ident.ErrNoRules, ""},
		{"not YAML", "rules: [", ident.ErrRulesSyntax, ""},
		{"top-level list", "- prefix: '28'", ident.ErrRulesSyntax, "line 1"},
		{"unknown top-level key", "rules: []\nwallets: []\n", ident.ErrRulesSyntax, `unknown key "wallets"`},
		{"duplicate top-level key", "rules: []\nrules: []\n", ident.ErrRulesSyntax, "line 2: duplicate key"},
		{"rules not a list", "rules: {prefix: '28'}", ident.ErrRulesSyntax, "must be a list"},
		{"rule not a mapping", "rules: ['28']", ident.ErrRulesSyntax, "rules[0]"},
		{"typo in a key", "rules:\n  - prefix: '28'\n    walet: w\n    lengths: [17]\n", ident.ErrRulesSyntax, `line 3: unknown key "walet"`},
		{"duplicate rule key", "rules:\n  - {prefix: '28', prefix: '29', wallet: w, lengths: [17]}\n", ident.ErrRulesSyntax, "duplicate key prefix"},
		{"wallet not a string", "rules: [{prefix: '28', wallet: 12, lengths: [17]}]", ident.ErrRulesSyntax, "wallet must be a string"},
		{"wallet null", "rules: [{prefix: '28', wallet: null, lengths: [17]}]", ident.ErrRulesSyntax, "wallet must be a string"},
		{"lengths not a list", "rules: [{prefix: '28', wallet: w, lengths: 17}]", ident.ErrRulesSyntax, "list of integers"},
		{"length not an integer", "rules: [{prefix: '28', wallet: w, lengths: [seventeen]}]", ident.ErrRulesSyntax, `"seventeen"`},
		{"prefix a list", "rules: [{prefix: ['28'], wallet: w, lengths: [17]}]", ident.ErrRulesSyntax, "prefix must be"},
		{"anchor", "rules:\n  - &r {prefix: '28', wallet: w, lengths: [17]}\n  - *r\n", ident.ErrRulesSyntax, "anchors"},
		{"merge key", "rules:\n  - {<<: {wallet: w}, prefix: '28', lengths: [17]}\n", ident.ErrRulesSyntax, "merge keys"},
		{"bad prefix, with line", "rules:\n  - {prefix: '28', wallet: w, lengths: [17]}\n  - {prefix: '2x', wallet: w, lengths: [24]}\n", ident.ErrBadPrefix, "line 3: rules[1]"},
		{"duplicate, with line", "rules:\n  - {prefix: '28', wallet: a, lengths: [17]}\n  - {prefix: '28', wallet: b, lengths: [17]}\n", ident.ErrDuplicateRule, "line 3: rules[1]"},
		{"missing lengths", "rules: [{prefix: '28', wallet: w}]", ident.ErrNoLengths, "rules[0]"},
		{"pasted code as a length", "rules: [{prefix: '28', wallet: w, lengths: [281001020123456789012345]}]", ident.ErrRulesSyntax, ""},
		{"pasted code that fits an int", "rules: [{prefix: '28', wallet: w, lengths: [2810010201234567]}]", ident.ErrBadLength, "rules[0]"},
		{"code in a YAML parser message", "rules: [*281001020123456789012345]", ident.ErrRulesSyntax, "281001"},
		{"pasted code as a key", "rules: [{'281001020123456789012345': w}]", ident.ErrRulesSyntax, "unknown key"},
		{"too large", "rules: []\n" + strings.Repeat("#", ident.MaxRulesSize), ident.ErrRulesSyntax, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb, err := ident.LoadRules([]byte(tt.doc))
			if tb != nil || !errors.Is(err, tt.want) {
				t.Fatalf("LoadRules = %v, %v; want %v", tb, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
			assertNoCode(t, err)
		})
	}
}

// TestDefaultRulesFile keeps testdata/routing.yaml and DefaultRules the
// same rules.
func TestDefaultRulesFile(t *testing.T) {
	tb, err := ident.ReadRulesFile(filepath.Join("..", "..", ident.DefaultRulesFile))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tb.Rules(), ident.DefaultRules(); !reflect.DeepEqual(got, want) {
		t.Errorf("routing.yaml = %+v\nDefaultRules = %+v", got, want)
	}
}

func TestDefaultTable(t *testing.T) {
	tb := ident.DefaultTable()
	tests := []struct {
		code codec.Code
		want string
	}{
		{code281001, "mpp-281001"},
		{code281003, "mpp-281003"},
		{code281010, "mpp-281010"},
		{code281011, "mpp-281011"},
		{code281002, ""},
		{codeLegacy17, "mpp-281001"},
		{codeLegacy18, "mpp-281001"},
		{codeLegacy19, "mpp-281001"},
		{codeAlipayCN, ""},
	}
	for _, tt := range tests {
		if w, _ := tb.Lookup(&tt.code); w != tt.want {
			t.Errorf("Lookup(%v) = %q, want %q", tt.code, w, tt.want)
		}
	}
}

func TestReadRulesFileErrors(t *testing.T) {
	_, err := ident.ReadRulesFile(t.TempDir() + "/missing.yaml")
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: err = %v, want it named", err)
	}
}

func TestAppendYAMLRoundTrip(t *testing.T) {
	tb := mustTable(t,
		ident.Rule{Prefix: "0281", Wallet: "true", Lengths: []int{24}}, // YAML would read both as non-strings unquoted
		ident.Rule{Prefix: "281001", Wallet: "mpp-281001", Lengths: []int{24}},
		ident.Rule{Prefix: "28", Wallet: "mpp_legacy.v2", Lengths: []int{19, 17, 18}},
	)
	doc := tb.AppendYAML(nil)
	back, err := ident.LoadRules(doc)
	if err != nil {
		t.Fatalf("LoadRules(%s): %v", doc, err)
	}
	if !reflect.DeepEqual(back.Rules(), tb.Rules()) {
		t.Errorf("round trip:\n%s\ngave %+v, want %+v", doc, back.Rules(), tb.Rules())
	}
}
