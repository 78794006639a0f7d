package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/engine/server"
)

// closeSignal is a journal that says when it is closed.
type closeSignal struct {
	engine.SharedJournal
	closed chan struct{}
}

func (c closeSignal) Close() error {
	close(c.closed)
	return c.SharedJournal.Close()
}

// TestServeStopsWhileJournalOpens: a signal while the journal is opening
// (here an Open that blocks and watches no context, as Pebble's does on a
// full disk, retrying its recovery flush) ends serve at once with exit 1
// and one line saying so; the Open, when it completes after all, has its
// journal closed.
func TestServeStopsWhileJournalOpens(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	j := closeSignal{journal.NewMem(), make(chan struct{})}
	old := openJournal
	openJournal = func(context.Context, server.JournalConfig) (engine.SharedJournal, []byte, error) {
		close(entered)
		<-release
		return j, make([]byte, 32), nil
	}
	t.Cleanup(func() { openJournal = old })

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var logs syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- serve(ctx, []string{"-data", t.TempDir(), "-listen", "127.0.0.1:0", "-admin", ""}, io.Discard, &logs)
	}()
	<-entered
	stop() // SIGTERM's effect on serve's context
	select {
	case code := <-exit:
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve still waits for the journal 10 s after the signal")
	}
	want := "paycode serve: stopped by a signal while the journal was opening; nothing was served (the next start recovers the journal)\n"
	if got := logs.String(); !strings.HasSuffix(got, want) {
		t.Errorf("stderr %q, want it to end with %q", got, want)
	}
	close(release)
	select {
	case <-j.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the journal opened after the signal is not closed")
	}
}
