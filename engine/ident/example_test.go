package ident_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/ident"
)

// A routing table from a rules document: the longest prefix that lists the
// code's length wins.
func ExampleLoadRules() {
	tb, err := ident.LoadRules([]byte(`
rules:
  - {prefix: "28", wallet: legacy, lengths: [17, 18, 19]}
  - {prefix: "281001", wallet: mpp-281001, lengths: [24]}
`))
	if err != nil {
		panic(err)
	}
	for _, s := range []string{"281001020123456789012345", "2893612204263667830", "281002020123456789012345"} {
		c := codec.MustParseCode(s)
		w, ok := tb.Lookup(&c)
		fmt.Println(c, w, ok)
	}
	// Output:
	// 281001**************2345 mpp-281001 true
	// 289361*********7830 legacy true
	// 281002**************2345  false
}

// An Identifier over the default rules. Errors unwrap to the engine's
// sentinels and never carry the code.
func ExampleIdentifier_Identify() {
	id, err := ident.New(ident.Config{})
	if err != nil {
		panic(err)
	}
	defer id.Close()
	for _, s := range []string{"281010897274821897274821", "281002020123456789012345", "134567890123456789"} {
		c := codec.MustParseCode(s)
		w, err := id.Identify(context.Background(), &c)
		fmt.Printf("%q %v %v\n", w, errors.Is(err, engine.ErrNoIssuer), err)
	}
	// Output:
	// "mpp-281010" false <nil>
	// "" true ident: no routing rule for prefix 28100202 and length 24
	// "" true ident: wechat payment codes are not routed to a wallet
}
