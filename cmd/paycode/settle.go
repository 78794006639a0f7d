package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
	_ "time/tzdata" // -tz works in a minimal container too

	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/engine/settle"
)

// runSettle writes a day's transaction-details file (engine/settle) from
// the journal.
func runSettle(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("settle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	date := fs.String("date", "", "settlement day, YYYY-MM-DD (required)")
	data := fs.String("data", "paycode-data", "directory of the Pebble journal; paycode serve must be stopped (Pebble admits one process)")
	dsn := fs.String("journal", "", "the PostgreSQL journal (postgres://…) instead of -data; readable while nodes run")
	tz := fs.String("tz", "UTC", "time zone of the settlement day: UTC, an IANA name (Asia/Hong_Kong) or an offset (+08:00)")
	out := fs.String("o", "", "output file (written whole, then renamed into place); default standard output")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: paycode settle -date YYYY-MM-DD [-data DIR | -journal postgres://…] [-tz UTC] [-o FILE]

Writes the day's transaction-details file in Antom's layout (header row,
one row per PAYMENT, CANCEL and REFUND that moved money that day, <END>),
from the journal. With the Pebble journal, stop paycode serve first: Pebble
lets one process open it. Exit 0 on success, 1 when the journal cannot be
read or the file written, 2 on bad flags.

`)
		fs.PrintDefaults()
	}
	if rc, ok := parseFlags(fs, args); !ok {
		return rc
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "paycode settle: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	loc, err := settle.LoadLocation(*tz)
	if err != nil {
		fmt.Fprintln(stderr, "paycode settle:", err)
		return 2
	}
	if *date == "" {
		fmt.Fprintln(stderr, "paycode settle: -date YYYY-MM-DD is required")
		return 2
	}
	day, err := settle.ParseDay(*date, loc)
	if err != nil {
		fmt.Fprintln(stderr, "paycode settle:", err)
		return 2
	}
	spec := server.JournalConfig{DSN: *dsn, Dir: *data}
	if !spec.Shared() {
		if spec.DSN != "" {
			fmt.Fprintf(stderr, "paycode settle: -journal %q: want a postgres:// URL (or -data for Pebble)\n", server.RedactDSN(spec.DSN))
			return 2
		}
		// journal.Open would create an empty journal: refuse a directory
		// that is not there.
		if st, err := os.Stat(*data); err != nil || !st.IsDir() {
			fmt.Fprintf(stderr, "paycode settle: no journal directory %s\n", *data)
			return 1
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	spec.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	j, _, err := server.OpenJournal(ctx, spec)
	if err != nil {
		if !spec.Shared() {
			fmt.Fprintf(stderr, "paycode settle: %v\n(if paycode serve is running on %s, stop it first: Pebble lets one process open the journal)\n", err, *data)
		} else {
			fmt.Fprintln(stderr, "paycode settle:", err)
		}
		return 1
	}
	rows, err := settle.FromJournal(ctx, j, day)
	if cerr := j.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stderr, "paycode settle:", err)
		return 1
	}
	var b bytes.Buffer
	if err := settle.WriteFile(&b, loc, rows); err != nil {
		fmt.Fprintln(stderr, "paycode settle:", err)
		return 1
	}
	if err := writeOut(*out, b.Bytes(), stdout); err != nil {
		fmt.Fprintln(stderr, "paycode settle:", err)
		return 1
	}
	if *out != "" {
		fmt.Fprintf(stderr, "paycode settle: %s (%s): %d rows to %s\n", day, loc, len(rows), *out)
	}
	return 0
}

// writeOut writes b to the named file (whole, through a temporary file
// renamed into place, so a reader never sees half a file), or to stdout
// when name is empty.
func writeOut(name string, b []byte, stdout io.Writer) error {
	if name == "" {
		_, err := stdout.Write(b)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// runReconcile compares two transaction-details files.
func runReconcile(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: paycode reconcile OURS THEIRS

Compares two transaction-details files (paycode settle's, and a wallet's
or Antom's) keyed by transactionId, and prints every mismatch on a line
of its own (MISSING_OURS, MISSING_THEIRS, TYPE_DIFFERS, STATUS_DIFFERS,
AMOUNT_DIFFERS, CURRENCY_DIFFERS, ORIGINAL_DIFFERS, with the lines in
each file), then a summary. Exit 0: the files agree; 1: mismatches;
2: a file cannot be read (the error names its line).
`)
	}
	if rc, ok := parseFlags(fs, args); !ok {
		return rc
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(stderr, "paycode reconcile: want two files, OURS THEIRS (see 'paycode reconcile -h')")
		return 2
	}
	ours, err := readSettlement(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "paycode reconcile:", err)
		return 2
	}
	theirs, err := readSettlement(fs.Arg(1))
	if err != nil {
		fmt.Fprintln(stderr, "paycode reconcile:", err)
		return 2
	}
	ms := settle.Reconcile(ours, theirs)
	var b bytes.Buffer
	for _, m := range ms {
		b.WriteString(m.String())
		b.WriteByte('\n')
	}
	b.WriteString(settle.Summarize(ours, theirs, ms).String())
	b.WriteByte('\n')
	stdout.Write(b.Bytes())
	if len(ms) > 0 {
		return 1
	}
	return 0
}

func readSettlement(name string) ([]settle.Row, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := settle.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rows, nil
}
