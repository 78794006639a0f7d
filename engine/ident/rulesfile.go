package ident

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/paycode/paycode/codec"
)

// MaxRulesSize bounds a rules file. Real tables are a few kilobytes; the
// bound keeps a wrong path (a log, a core file) from being read whole.
const MaxRulesSize = 1 << 20

// ErrRulesSyntax is a rules file that is not the documented shape.
var ErrRulesSyntax = errors.New("ident: malformed rules file")

// DefaultRulesFile is where the default rules file lives, relative to the
// module root: a default for a -rules flag. Config does not default to it
// (a relative path depends on the working directory); an empty Config uses
// DefaultRules, the same rules built in.
const DefaultRulesFile = "testdata/routing.yaml"

// DefaultRules are the rules of testdata/routing.yaml, the simulator's
// wallets: the four routing numbers of spec §6.1 that the simulated MPPs
// own, each for mainstream 24-digit codes, plus the legacy 17-19-digit
// codes starting 28 routed to mpp-281001.
//
// The legacy rule is a simulator choice, not a fact from the spec: Alipay+
// still accepts those shapes (spec §6.1) but which issuer owns them comes
// with onboarding, and routing them to one simulated wallet lets load tests
// exercise the legacy path end to end. Its prefix "28" never shadows the
// 24-digit rules because it lists only lengths 17-19.
func DefaultRules() []Rule {
	return []Rule{
		{Prefix: "281001", Wallet: "mpp-281001", Lengths: []int{24}},
		{Prefix: "281003", Wallet: "mpp-281003", Lengths: []int{24}},
		{Prefix: "281010", Wallet: "mpp-281010", Lengths: []int{24}},
		{Prefix: "281011", Wallet: "mpp-281011", Lengths: []int{24}},
		{Prefix: "28", Wallet: "mpp-281001", Lengths: []int{17, 18, 19}},
	}
}

// DefaultTable is NewTable(DefaultRules()).
func DefaultTable() *Table {
	t, err := NewTable(DefaultRules())
	if err != nil {
		panic(err) // DefaultRules is a constant; a test guards it
	}
	return t
}

// ReadRulesFile reads and compiles a rules file (see LoadRules). Errors
// name the file.
func ReadRulesFile(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ident: rules file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxRulesSize+1))
	if err != nil {
		return nil, fmt.Errorf("ident: rules file %s: %w", path, err)
	}
	t, err := LoadRules(data)
	if err != nil {
		return nil, fmt.Errorf("ident: rules file %s: %w", path, err)
	}
	return t, nil
}

// LoadRules parses a rules document (ParseRules) and compiles it
// (NewTable); a rule error also carries the rule's line.
func LoadRules(data []byte) (*Table, error) {
	rules, lines, err := parseRules(data)
	if err != nil {
		return nil, err
	}
	t, err := NewTable(rules)
	if re, ok := errors.AsType[*RuleError](err); ok && re.Index < len(lines) {
		re.Line = lines[re.Index]
	}
	return t, err
}

// ParseRules reads a rules document, YAML or JSON (YAML is a superset):
//
//	rules:
//	  - prefix: "281001"     # 1-8 digits; quote it so YAML keeps leading zeros
//	    wallet: mpp-281001
//	    lengths: [24]
//
// Parsing is strict: unknown keys, duplicate keys, anchors and aliases, a
// non-string wallet and non-integer lengths are errors with a line number,
// so a typo cannot silently drop a rule. It checks the shape only; NewTable
// validates the values.
func ParseRules(data []byte) ([]Rule, error) {
	rules, _, err := parseRules(data)
	return rules, err
}

func parseRules(data []byte) ([]Rule, []int, error) {
	if len(data) > MaxRulesSize {
		return nil, nil, fmt.Errorf("%w: larger than %d bytes", ErrRulesSyntax, MaxRulesSize)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrRulesSyntax, scrubDigits(err.Error()))
	}
	if doc.Kind == 0 {
		return nil, nil, ErrNoRules
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, nil, syntaxErr(&doc, "expected one document")
	}
	top := doc.Content[0]
	if err := plain(top); err != nil {
		return nil, nil, err
	}
	if top.Kind != yaml.MappingNode {
		return nil, nil, syntaxErr(top, "expected a mapping with a rules key")
	}
	var list *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if err := plain(k); err != nil {
			return nil, nil, err
		}
		if k.Value != "rules" {
			return nil, nil, syntaxErr(k, "unknown key "+quoteShort(k.Value))
		}
		if list != nil {
			return nil, nil, syntaxErr(k, "duplicate key rules")
		}
		list = v
	}
	if list == nil {
		return nil, nil, ErrNoRules
	}
	if err := plain(list); err != nil {
		return nil, nil, err
	}
	if list.Kind == yaml.ScalarNode && list.ShortTag() == "!!null" {
		return nil, nil, ErrNoRules
	}
	if list.Kind != yaml.SequenceNode {
		return nil, nil, syntaxErr(list, "rules must be a list")
	}
	if len(list.Content) > MaxRules {
		return nil, nil, fmt.Errorf("%w: %d, at most %d", ErrTooManyRules, len(list.Content), MaxRules)
	}
	rules := make([]Rule, len(list.Content))
	lines := make([]int, len(list.Content))
	for i, n := range list.Content {
		lines[i] = n.Line
		if err := parseRule(n, &rules[i]); err != nil {
			return nil, nil, &RuleError{Index: i, Line: n.Line, Prefix: safePrefix(rules[i].Prefix), Err: err}
		}
	}
	return rules, lines, nil
}

// parseRule fills r from one list item. Errors are wrapped by the caller
// with the rule's index.
func parseRule(n *yaml.Node, r *Rule) error {
	if err := plain(n); err != nil {
		return err
	}
	if n.Kind != yaml.MappingNode {
		return syntaxErr(n, "a rule must be a mapping of prefix, wallet, lengths")
	}
	var seen [3]bool
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := plain(k); err != nil {
			return err
		}
		if err := plain(v); err != nil {
			return err
		}
		var f int
		switch k.Value {
		case "prefix":
			f = 0
		case "wallet":
			f = 1
		case "lengths":
			f = 2
		default:
			return syntaxErr(k, "unknown key "+quoteShort(k.Value))
		}
		if seen[f] {
			return syntaxErr(k, "duplicate key "+k.Value)
		}
		seen[f] = true
		switch f {
		case 0:
			if v.Kind != yaml.ScalarNode {
				return syntaxErr(v, "prefix must be a string of digits")
			}
			r.Prefix = v.Value
		case 1:
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
				return syntaxErr(v, "wallet must be a string")
			}
			r.Wallet = v.Value
		case 2:
			if v.Kind != yaml.SequenceNode {
				return syntaxErr(v, "lengths must be a list of integers")
			}
			r.Lengths = make([]int, 0, len(v.Content))
			for _, e := range v.Content {
				if err := plain(e); err != nil {
					return err
				}
				if e.Kind != yaml.ScalarNode {
					return syntaxErr(e, "lengths must be a list of integers")
				}
				l, err := strconv.Atoi(e.Value)
				if err != nil {
					return syntaxErr(e, "length "+quoteShort(e.Value)+" is not an integer")
				}
				r.Lengths = append(r.Lengths, l)
			}
		}
	}
	return nil
}

// plain rejects anchors, aliases and merge keys: a routing table is short
// enough to write out, and resolving references would make the error lines
// and the reload behaviour harder to reason about.
func plain(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return syntaxErr(n, "anchors and aliases are not supported")
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!merge" {
		return syntaxErr(n, "merge keys are not supported")
	}
	return nil
}

// scrubDigits masks every run of more than MaxPrefixLen digits in msg.
// The YAML parser's messages quote bits of the input (anchor names, tags),
// and a payment code pasted into a rules file must not reach a log.
func scrubDigits(msg string) string {
	var b []byte
	start := -1
	flush := func(end int) {
		if start >= 0 && end-start > MaxPrefixLen {
			if b == nil {
				b = []byte(msg[:start])
			}
			b = codec.AppendMasked(b, []byte(msg[start:end]))
		} else if b != nil && start >= 0 {
			b = append(b, msg[start:end]...)
		}
		start = -1
	}
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c >= '0' && c <= '9' {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		if b != nil {
			b = append(b, c)
		}
	}
	flush(len(msg))
	if b == nil {
		return msg
	}
	return string(b)
}

func syntaxErr(n *yaml.Node, msg string) error {
	return fmt.Errorf("%w: line %d: %s", ErrRulesSyntax, n.Line, msg)
}

// quoteShort quotes a file token for an error: cut to 24 bytes so a huge
// scalar cannot fill a log line, and masked like a payment code when it
// holds more digits than a prefix, since it may well be one.
func quoteShort(s string) string {
	cut := len(s) > 24
	if cut {
		s = s[:24]
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	if digits > MaxPrefixLen {
		s = codec.Mask(s)
	}
	if cut {
		return strconv.Quote(s) + "..."
	}
	return strconv.Quote(s)
}

// AppendYAML appends t's rules as a rules document that ParseRules reads
// back to the same rules. Prefixes and wallets are quoted so no YAML reader
// turns them into numbers; they need no escaping (see ErrBadWallet).
func (t *Table) AppendYAML(dst []byte) []byte {
	dst = append(dst, "rules:\n"...)
	for _, r := range t.rules {
		dst = append(dst, `  - {prefix: "`...)
		dst = append(dst, r.Prefix...)
		dst = append(dst, `", wallet: "`...)
		dst = append(dst, r.Wallet...)
		dst = append(dst, `", lengths: [`...)
		for i, n := range r.Lengths {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = strconv.AppendInt(dst, int64(n), 10)
		}
		dst = append(dst, "]}\n"...)
	}
	return dst
}
