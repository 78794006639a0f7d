package main

import (
	"fmt"

	"github.com/paycode/paycode/engine/admin"
	"github.com/paycode/paycode/loadtest/codeimage"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// simTestCodes gives the status page its test codes when paycode's
// wallets are the simulated ones: a fresh QR code per outcome row, for
// the first simulated wallet's routing prefix.
type simTestCodes struct{ prefix string }

var _ admin.TestCodes = simTestCodes{}

func (s simTestCodes) Rows() []admin.TestCodeRow {
	var rows []admin.TestCodeRow
	for _, o := range mppsim.Outcomes() {
		lo, hi := o.Range()
		rows = append(rows, admin.TestCodeRow{Outcome: o.String(), Digits: fmt.Sprintf("%02d–%02d", lo, hi), Wallet: s.prefix,
			Answer: o.PayAnswer().String(), Final: o.FinalAnswer().String()})
	}
	return rows
}

// statusCodeSide is the status page's test-code image size in pixels.
const statusCodeSide = 180

func (s simTestCodes) PNG(outcome string) ([]byte, bool) {
	o, ok := mppsim.ParseOutcome(outcome)
	if !ok {
		return nil, false
	}
	code, err := mppsim.NewTestCode(s.prefix, o)
	if err != nil {
		return nil, false
	}
	// The page shows it 180 px wide: drawing it that size (not phone
	// size) keeps nine codes per refresh cheap.
	b, err := codeimage.SizedPNG(code, codeimage.QR, statusCodeSide, statusCodeSide)
	return b, err == nil
}
