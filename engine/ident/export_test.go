package ident

// BufferItems is the ristretto Get batch size, for the amortised
// allocation test.
const BufferItems = bufferItems

// WaitBackground waits until background refreshes and flights whose
// callers gave up have finished. Identify must not run concurrently.
func (id *Identifier) WaitBackground() { id.bg.Wait() }

// SetMissHook makes the miss path call f before it joins or starts a
// flight, so tests know every caller has missed.
func (id *Identifier) SetMissHook(f func()) { id.testHookMiss = f }
