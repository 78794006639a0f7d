package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/tracelog"
)

// TestPGXLogger: pgx's lines go through slog as JSON, at debug level,
// without the statements' arguments.
func TestPGXLogger(t *testing.T) {
	var buf bytes.Buffer
	l := pgxTracer(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))).Logger
	l.Log(context.Background(), tracelog.LogLevelError, "Query", map[string]any{
		"sql": "INSERT INTO payments VALUES ($1)", "args": []any{"281001020123456789014500"}, "err": errors.New("duplicate key"),
	})
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if m["msg"] != "pgx: Query" || m["level"] != "DEBUG" || m["err"] != "duplicate key" || strings.Contains(buf.String(), "2810010201") {
		t.Fatalf("line: %s", buf.String())
	}
	buf.Reset()
	quiet := pgxTracer(slog.New(slog.NewJSONHandler(&buf, nil))).Logger
	quiet.Log(context.Background(), tracelog.LogLevelError, "Query", map[string]any{"sql": "x"})
	if buf.Len() != 0 {
		t.Fatalf("logged above debug: %s", buf.String())
	}
}
