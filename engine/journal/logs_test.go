package journal_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/paycode/paycode/engine/journal"
)

// Pebble's log lines go to the configured slog.Logger.
func TestLogsGoToSlog(t *testing.T) {
	var buf bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fs := vfs.NewMem()
	j, err := journal.Open("/j", journal.Options{FS: fs, Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		_ = j.Append(context.Background(), batchOf("p"+itoa(i)), false)
	}
	_ = j.Close()
	j, err = journal.Open("/j", journal.Options{FS: fs, Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	_ = j.Close()
	if !bytes.Contains(buf.Bytes(), []byte("msg=\"pebble: [JOB 1] WAL")) {
		t.Fatalf("Pebble's recovery log line is not in the slog output:\n%s", buf.String())
	}
}
