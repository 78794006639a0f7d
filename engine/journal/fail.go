package journal

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/paycode/paycode/engine"
)

// failState is the fail-stop latch shared by Pebble and Mem: the first
// write error is kept, every later Append returns it at once, and OnFatal
// hears of it exactly once.
type failState struct {
	err     atomic.Pointer[error] // wraps engine.ErrJournalFailed and the cause
	done    chan struct{}         // closed when err is set
	once    sync.Once
	onFatal func(error)
}

func newFailState(onFatal func(error)) *failState {
	return &failState{done: make(chan struct{}), onFatal: onFatal}
}

// failed returns the latched error, or nil while the journal is healthy.
func (f *failState) failed() error {
	if p := f.err.Load(); p != nil {
		return *p
	}
	return nil
}

// fail latches cause (only the first call's cause is kept) and returns the
// latched error.
func (f *failState) fail(cause error) error {
	e := fmt.Errorf("%w: %w", engine.ErrJournalFailed, cause)
	if f.err.CompareAndSwap(nil, &e) {
		close(f.done)
	}
	return *f.err.Load()
}

// notify calls OnFatal once, with the latched error; concurrent callers
// return once that call has. Callers hold no journal lock, so OnFatal may
// call Close.
func (f *failState) notify() {
	err := f.failed()
	if err == nil {
		return
	}
	f.once.Do(func() {
		if f.onFatal != nil {
			f.onFatal(err)
		}
	})
}

// fatalPanic is what the Pebble logger's Fatalf panics with, so that the
// Append whose commit Pebble gave up on can recover it as an error.
type fatalPanic struct{ err error }

// panicError turns a recovered panic value from inside Pebble into an error.
func panicError(r any) error {
	switch v := r.(type) {
	case fatalPanic:
		return v.err
	case error:
		return fmt.Errorf("journal: pebble panicked: %w", v)
	default:
		return fmt.Errorf("journal: pebble panicked: %v", v)
	}
}
