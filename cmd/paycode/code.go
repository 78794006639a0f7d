package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/paycode/paycode/loadtest/codeimage"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// runCode prints a fresh test code for the simulated wallets and, with
// -png, writes it as an image a lane's camera can scan off a phone.
func runCode(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("code", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var rows []string
	for _, o := range mppsim.Outcomes() {
		rows = append(rows, o.String())
	}
	outcome := fs.String("outcome", "success", "what the simulated wallet does with the pay: "+strings.Join(rows, ", "))
	wallet := fs.String("wallet", "281001", "the wallet's routing prefix (281001, 281003, 281010, 281011 in the embedded default)")
	qr := fs.Bool("qr", false, "draw a QR code (the default)")
	c128 := fs.Bool("code128", false, "draw a Code 128 barcode instead of a QR code")
	out := fs.String("png", "", "write the code as a PNG `FILE` sized for a phone screen")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: paycode code [-outcome success|password|…] [-wallet 281001] [-qr|-code128] [-png FILE]\n\n"+
			"Prints a fresh single-use test code for the simulated wallets (the last two\n"+
			"digits pick the outcome: see docs/load-testing.md) and, with -png, writes it\n"+
			"as a scannable image. The expected answers go to stderr.\n\n")
		fs.PrintDefaults()
	}
	if rc, ok := parseFlags(fs, args); !ok {
		return rc
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "paycode code: unexpected argument %q; see -h\n", fs.Arg(0))
		return 2
	}
	if *qr && *c128 {
		fmt.Fprintln(stderr, "paycode code: -qr and -code128 exclude each other; see -h")
		return 2
	}
	o, ok := mppsim.ParseOutcome(*outcome)
	if !ok {
		fmt.Fprintf(stderr, "paycode code: -outcome %q: want one of %s\n", *outcome, strings.Join(rows, ", "))
		return 2
	}
	code, err := mppsim.NewTestCode(strings.TrimPrefix(*wallet, "mpp-"), o)
	if err != nil {
		fmt.Fprintln(stderr, "paycode code:", err)
		return 2
	}
	if *out != "" {
		f := codeimage.QR
		if *c128 {
			f = codeimage.Code128
		}
		img, err := codeimage.PNG(code, f)
		if err == nil {
			err = os.WriteFile(*out, img, 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "paycode code:", err)
			return 1
		}
		fmt.Fprintf(stderr, "wrote %s (%s)\n", *out, f)
	}
	fmt.Fprintln(stdout, code)
	lo, hi := o.Range()
	fmt.Fprintf(stderr, "outcome %s (last two digits %02d–%02d): pay answers %s", o, lo, hi, o.PayAnswer())
	if o.FinalAnswer() != o.PayAnswer() {
		fmt.Fprintf(stderr, ", then %s", o.FinalAnswer())
	}
	fmt.Fprintln(stderr, "; single use")
	return 0
}
