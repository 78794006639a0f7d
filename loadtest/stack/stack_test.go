package stack_test

import (
	"testing"

	"github.com/paycode/paycode/loadtest/stack"
)

// TestStartClose: a stack starts on the embedded defaults and closes at
// once, without waiting on anything (a regression test for a shutdown
// that raced the servers' start).
func TestStartClose(t *testing.T) {
	for i := 0; i < 20; i++ {
		s, err := stack.Start(stack.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if s.Sim == nil || len(s.Wallets) != 4 {
			t.Fatalf("embedded default: sim %v, %d wallets", s.Sim != nil, len(s.Wallets))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
