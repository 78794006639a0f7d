package decode

import "time"

// Metrics hooks: read by engine/metrics at scrape time, or per call
// through OnDecoded. They cost an atomic add or a pointer load.

// InUse is the number of slots taken now: images decoding or queued.
func (d *Decoder) InUse() int { return len(d.slots) }

// Capacity is the number of slots: Workers plus QueueSize.
func (d *Decoder) Capacity() int { return cap(d.slots) }

// Rejected is how many calls failed with ErrBusy since New.
func (d *Decoder) Rejected() uint64 { return d.rejected.Load() }

// OnDecoded makes f receive the elapsed time (queueing included) and the
// error of every admitted image, on the caller's goroutine after the
// decode. f must be cheap and must not block. Set it before the first
// call or while calls run; nil removes it.
func (d *Decoder) OnDecoded(f func(elapsed time.Duration, err error)) {
	if f == nil {
		d.onDecoded.Store(nil)
		return
	}
	d.onDecoded.Store(&f)
}

// SafetyNetFired is how many images the wall-time safety net
// (Config.Budget) stopped since New (ErrBudget). It should stay at zero:
// a growing count means the machine is too loaded for the decoder to do
// its planned work, and those images' verdicts depended on the load.
func (d *Decoder) SafetyNetFired() uint64 { return d.safetyNet.Load() }
