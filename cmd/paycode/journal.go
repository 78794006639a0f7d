package main

import (
	"log/slog"

	"github.com/paycode/paycode/engine/journal"
)

// openJournal opens the Pebble journal in dir.
func openJournal(dir string, log *slog.Logger) (*journal.Pebble, error) {
	return journal.Open(dir, journal.Options{Logger: log})
}
