package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/paycode/paycode/decode"
)

const decodeUsage = `usage: paycode decode [-reveal] [-budget 2s] [-1d-all] [-any-text] FILE...

Decodes the QR or Code 128 payment code in each PNG, JPEG or GIF file and
prints one line per file: name, text (quoted; masked unless -reveal),
symbology, milliseconds. A 1D symbol is read only if its text is a payment
code (16 to 32 digits) unless -any-text; a file holding two different
payment codes fails ("more than one payment code in the image"). Failures
go to stderr; the exit status is 1 if any file failed, 2 on a usage error.

flags:
`

// runDecode implements "paycode decode". It only parses flags and wires the
// decode package; output goes to stdout, diagnostics to stderr.
//
// Text is masked by default because a payment code is a bearer token and
// terminal output ends up in scrollback, screenshots and CI logs. It is
// always printed quoted (strconv.Quote), so a code's content cannot inject
// terminal escape sequences or fake extra lines.
func runDecode(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reveal := fs.Bool("reveal", false, "print the decoded text in full instead of masked")
	budget := fs.Duration("budget", decode.DefaultBudget, "wall-time safety net per image (the work done is fixed per image; this only stops a starved machine)")
	anyText := fs.Bool("any-text", false, "return 1D symbols whatever their text (default: payment codes only)")
	all1D := fs.Bool("1d-all", false, "also look for every other 1D symbology (Code 39/93, Codabar, EAN/UPC, ITF, RSS-14)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), decodeUsage)
		fs.PrintDefaults()
	}
	if rc, ok := parseFlags(fs, args); !ok {
		return rc
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "paycode decode: no files given")
		fs.Usage()
		return 2
	}
	if *budget <= 0 {
		fmt.Fprintf(stderr, "paycode decode: -budget must be positive, got %v\n", *budget)
		return 2
	}

	cfg := decode.Config{Workers: 1, Budget: *budget, AnyText: *anyText}
	if *all1D {
		cfg.Symbologies = append([]decode.Symbology{decode.QRCode}, decode.All1D()...)
	}
	d, err := decode.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "paycode decode: %v\n", err)
		return 2
	}
	defer d.Close()
	maxBytes := d.Config().MaxBytes

	status := 0
	for _, name := range fs.Args() {
		res, err := decodeFile(d, name, maxBytes)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			status = 1
			continue
		}
		text := res.Text
		if !*reveal {
			text = decode.Mask(text)
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%.1fms\n", name, strconv.Quote(text), res.Symbology,
			float64(res.Elapsed)/float64(time.Millisecond))
	}
	return status
}

// decodeFile reads at most maxBytes+1 bytes, so an oversized file is
// refused by the decoder (ErrTooLarge) without being read whole.
func decodeFile(d *decode.Decoder, name string, maxBytes int) (decode.Result, error) {
	f, err := os.Open(name)
	if err != nil {
		return decode.Result{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(maxBytes)+1))
	if err != nil {
		return decode.Result{}, err
	}
	return d.Decode(context.Background(), data)
}
