package postgres

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/tracelog"
)

// pgxTracer routes pgx's own log through log at debug level: pgx reports
// every failed statement, expected ones included (the unique violation
// that detects a concurrent claim), and the store logs the failures that
// matter itself. The statements' arguments are never logged: they are
// journal records (payment ids, code hashes, notification bodies).
func pgxTracer(log *slog.Logger) *tracelog.TraceLog {
	return &tracelog.TraceLog{Logger: pgxLogger{log}, LogLevel: tracelog.LogLevelWarn}
}

type pgxLogger struct{ log *slog.Logger }

func (l pgxLogger) Log(ctx context.Context, level tracelog.LogLevel, msg string, data map[string]any) {
	if !l.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := make([]any, 0, 2*len(data)+2)
	attrs = append(attrs, "pgx_level", level.String())
	for k, v := range data {
		switch k {
		case "args", "rowValues":
			continue
		case "err":
			if err, ok := v.(error); ok {
				v = err.Error()
			}
		}
		attrs = append(attrs, k, v)
	}
	l.log.Debug("pgx: "+msg, attrs...)
}
