package ident

import (
	"errors"
	"fmt"
	"slices"

	"github.com/paycode/paycode/codec"
)

// Limits of a routing rule.
const (
	// MaxPrefixLen is the longest rule prefix. Routing needs at most the
	// 6-digit code issuer identifier plus the 2-digit business type (spec
	// §6.1), and it is what the cache key holds, so a rule can never depend
	// on more digits than the cache keys on.
	MaxPrefixLen = 8
	// MaxWalletLen bounds a wallet name: it is a registry key, a log field
	// and a metric label.
	MaxWalletLen = 64
	// MaxRules bounds a table, so a runaway file cannot eat the heap.
	MaxRules = 10000
)

// Rule validation errors. NewTable and ParseRules return them wrapped in a
// *RuleError that says which rule.
var (
	ErrBadPrefix     = errors.New("ident: prefix must be 1 to 8 ASCII digits")
	ErrBadWallet     = errors.New("ident: wallet must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
	ErrNoLengths     = errors.New("ident: rule lists no code lengths")
	ErrBadLength     = errors.New("ident: code length must be within 16..32")
	ErrDuplicateRule = errors.New("ident: prefix and length already routed by another rule")
	ErrNoRules       = errors.New("ident: no routing rules")
	ErrTooManyRules  = errors.New("ident: too many routing rules")
)

// Rule routes codes whose leading digits are Prefix and whose length is one
// of Lengths to Wallet.
//
// Lengths must be listed explicitly: an empty list is an error rather than
// "the class's usual lengths", because a prefix such as "28" spans several
// code classes (24-digit Alipay+ and 17-19-digit legacy codes) and a
// routing table that decides where money goes should say exactly what it
// routes.
type Rule struct {
	Prefix  string // 1 to MaxPrefixLen ASCII digits
	Wallet  string // wallet name, see ErrBadWallet for the alphabet
	Lengths []int  // allowed code lengths, each within 16..32
}

// RuleError says which rule is wrong and unwraps to what is wrong.
type RuleError struct {
	Index  int    // position in the rule list, 0-based
	Line   int    // line in the rules file, 0 when not from a file
	Prefix string // the rule's prefix, masked when longer than MaxPrefixLen
	Err    error  // one of the Err* sentinels, possibly wrapped
}

func (e *RuleError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("ident: line %d: rules[%d] (prefix %q): %v", e.Line, e.Index, e.Prefix, e.Err)
	}
	return fmt.Sprintf("ident: rules[%d] (prefix %q): %v", e.Index, e.Prefix, e.Err)
}

func (e *RuleError) Unwrap() error { return e.Err }

// safePrefix is what an error may show of a prefix. Rule prefixes are short
// and fine to log, but a "prefix" longer than MaxPrefixLen may be a pasted
// payment code, a bearer token, so it is masked like one.
func safePrefix(p string) string {
	if len(p) > MaxPrefixLen {
		return codec.Mask(p)
	}
	return p
}

// Table is a compiled, immutable set of rules. Lookup is a walk of at most
// MaxPrefixLen nodes of a digit trie: no allocation, no locks, safe for
// concurrent use. To change the rules build a new Table and swap it (see
// TableSource).
type Table struct {
	rules   []Rule
	nodes   []node
	routes  []lengthRoutes
	wallets []string
}

// node is a trie node: child[d] is the index of the node for the next
// digit d (0 = none; the root is never a child), routes the index into
// Table.routes of this prefix's per-length wallets (-1 = none).
type node struct {
	child  [10]int32
	routes int32
}

// lengthRoutes holds, for code lengths 16..32, 1 + the index of the wallet
// in Table.wallets (0 = this prefix does not route that length).
type lengthRoutes [codec.MaxCodeLen - codec.MinCodeLen + 1]uint16

// NewTable validates rules and compiles them. It rejects an empty list, a
// bad prefix, wallet or length, and two rules with the same prefix that
// share a length (the error names the later rule and the earlier one).
// Rules with the same prefix and disjoint lengths are allowed. rules is
// copied; the caller may reuse it.
func NewTable(rules []Rule) (*Table, error) {
	if len(rules) == 0 {
		return nil, ErrNoRules
	}
	if len(rules) > MaxRules {
		return nil, fmt.Errorf("%w: %d, at most %d", ErrTooManyRules, len(rules), MaxRules)
	}
	t := &Table{
		rules: make([]Rule, len(rules)),
		nodes: make([]node, 1, 1+len(rules)*2),
	}
	t.nodes[0].routes = -1
	walletIndex := make(map[string]uint16)
	// owner[routes index][length] = rule index + 1, to name the earlier
	// rule in a duplicate error.
	var owner [][len(lengthRoutes{})]int32
	for i, r := range rules {
		fail := func(err error) (*Table, error) {
			return nil, &RuleError{Index: i, Prefix: safePrefix(r.Prefix), Err: err}
		}
		if !validPrefix(r.Prefix) {
			return fail(ErrBadPrefix)
		}
		if !validWallet(r.Wallet) {
			return fail(ErrBadWallet)
		}
		if len(r.Lengths) == 0 {
			return fail(ErrNoLengths)
		}
		for _, n := range r.Lengths {
			if n < codec.MinCodeLen || n > codec.MaxCodeLen {
				if n < -999 || n > 999 { // a long number may be a pasted code
					return fail(ErrBadLength)
				}
				return fail(fmt.Errorf("%w: %d", ErrBadLength, n))
			}
		}
		w, ok := walletIndex[r.Wallet]
		if !ok {
			t.wallets = append(t.wallets, r.Wallet)
			w = uint16(len(t.wallets))
			walletIndex[r.Wallet] = w
		}
		nd := t.insert(r.Prefix)
		if t.nodes[nd].routes < 0 {
			t.nodes[nd].routes = int32(len(t.routes))
			t.routes = append(t.routes, lengthRoutes{})
			owner = append(owner, [len(lengthRoutes{})]int32{})
		}
		ri := t.nodes[nd].routes
		for _, n := range r.Lengths {
			if prev := owner[ri][n-codec.MinCodeLen]; prev != 0 {
				if int(prev-1) == i {
					return fail(fmt.Errorf("%w: length %d is listed twice", ErrDuplicateRule, n))
				}
				return fail(fmt.Errorf("%w: length %d is routed by rules[%d]", ErrDuplicateRule, n, prev-1))
			}
			owner[ri][n-codec.MinCodeLen] = int32(i + 1)
			t.routes[ri][n-codec.MinCodeLen] = w
		}
		t.rules[i] = Rule{Prefix: r.Prefix, Wallet: r.Wallet, Lengths: slices.Clone(r.Lengths)}
	}
	return t, nil
}

// insert returns the node for prefix, creating the path to it.
func (t *Table) insert(prefix string) int32 {
	cur := int32(0)
	for i := 0; i < len(prefix); i++ {
		d := prefix[i] - '0'
		next := t.nodes[cur].child[d]
		if next == 0 {
			next = int32(len(t.nodes))
			t.nodes = append(t.nodes, node{routes: -1})
			t.nodes[cur].child[d] = next
		}
		cur = next
	}
	return cur
}

// Lookup returns the wallet for code: the rule with the longest prefix of
// the code that lists the code's length. A longer prefix whose rules do not
// list the length does not hide a shorter one that does.
func (t *Table) Lookup(code *codec.Code) (wallet string, ok bool) {
	return t.LookupDigits(code.Prefix(MaxPrefixLen), code.Len())
}

// LookupDigits is Lookup for a code known only by its leading digits
// (at most MaxPrefixLen are used) and its length, as the identification
// service receives it. A non-digit ends the prefix; a length outside 16..32
// matches nothing. A nil Table matches nothing.
func (t *Table) LookupDigits(digits []byte, length int) (wallet string, ok bool) {
	if t == nil || length < codec.MinCodeLen || length > codec.MaxCodeLen {
		return "", false
	}
	if len(digits) > MaxPrefixLen {
		digits = digits[:MaxPrefixLen]
	}
	best := uint16(0)
	cur := &t.nodes[0]
	for _, ch := range digits {
		d := ch - '0'
		if d > 9 {
			break
		}
		next := cur.child[d]
		if next == 0 {
			break
		}
		cur = &t.nodes[next]
		if cur.routes >= 0 {
			if w := t.routes[cur.routes][length-codec.MinCodeLen]; w != 0 {
				best = w
			}
		}
	}
	if best == 0 {
		return "", false
	}
	return t.wallets[best-1], true
}

// Rules returns a copy of the table's rules, in their original order.
func (t *Table) Rules() []Rule {
	out := make([]Rule, len(t.rules))
	for i, r := range t.rules {
		out[i] = Rule{Prefix: r.Prefix, Wallet: r.Wallet, Lengths: slices.Clone(r.Lengths)}
	}
	return out
}

// Len is the number of rules.
func (t *Table) Len() int { return len(t.rules) }

// validPrefix and validWallet take string or []byte, so the service
// checks request bytes without converting them.
func validPrefix[T ~string | ~[]byte](p T) bool {
	if len(p) == 0 || len(p) > MaxPrefixLen {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// validWallet keeps wallet names to an alphabet that needs no escaping in
// JSON, YAML, logs or metric labels, so the service can write them raw.
func validWallet[T ~string | ~[]byte](w T) bool {
	if len(w) == 0 || len(w) > MaxWalletLen {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
