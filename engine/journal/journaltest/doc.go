// Package journaltest is the conformance suite of engine.SharedJournal:
// the behaviour every shared journal must have, whatever stores it
// (engine/journal/postgres on PostgreSQL, an in-memory one for unit
// tests). A package's test calls RunShared with a function that opens
// one node's view of a fresh shared journal.
//
// The suite uses only the engine.SharedJournal interface, no SQL, and
// waits for lease expiry by polling with a deadline, never by sleeping a
// guessed time, so it fits an implementation on real time.
package journaltest
