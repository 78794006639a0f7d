package settle_test

import (
	"fmt"
	"strings"

	"github.com/paycode/paycode/engine/settle"
)

// Reconcile two files: paycode's, and a wallet's that misses a refund and
// charged another amount.
func ExampleReconcile() {
	const head = "transactionId,originalTransactionId,transactionType,transactionStatus,transactionTime,transactionAmountValue,transactionCurrency\n"
	ours, err := settle.Parse(strings.NewReader(head +
		"p1,,PAYMENT,SUCCESS,2026-11-26T09:30:00Z,1250,HKD\n" +
		"r1,p1,REFUND,SUCCESS,2026-11-26T10:00:00Z,250,HKD\n" +
		"<END>\n"))
	if err != nil {
		panic(err)
	}
	theirs, err := settle.Parse(strings.NewReader(head +
		"p1,,PAYMENT,SUCCESS,2026-11-26T09:30:01Z,1205,HKD\n" +
		"<END>\n"))
	if err != nil {
		panic(err)
	}
	ms := settle.Reconcile(ours, theirs)
	for _, m := range ms {
		fmt.Println(m)
	}
	fmt.Println(settle.Summarize(ours, theirs, ms))
	// Output:
	// AMOUNT_DIFFERS transactionId=p1 type=PAYMENT ours=1250 theirs=1205 ours:2 theirs:2
	// MISSING_THEIRS transactionId=r1 type=REFUND status=SUCCESS amount=250 HKD original=p1 ours:3
	// ours 2 rows, theirs 1 rows, matched 0, mismatches 2 (MISSING_THEIRS 1, AMOUNT_DIFFERS 1)
}
