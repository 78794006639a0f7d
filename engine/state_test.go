package engine

import (
	"testing"

	"github.com/paycode/paycode/codec"
)

// TestStateTransitions checks state.next for every event from every
// state against the table of allowed moves: an event changes one
// dimension (abort also loses the lease), only from the values listed,
// and is refused, changing nothing, from any other.
func TestStateTransitions(t *testing.T) {
	type moves = map[uint8]uint8
	table := []struct {
		ev    event
		dim   int // 0 stage, 1 owner, 2 closing, 3 origin, 4 stored
		moves moves
		guard func(state) bool // nil: always
		also  func(*state)
	}{
		{evDispatched, 0, moves{uint8(stageDispatching): uint8(stageOpen)}, nil, nil},
		{evAbort, 0, moves{uint8(stageDispatching): uint8(stageAborted), uint8(stageOpen): uint8(stageAborted)}, nil,
			func(s *state) { s.owner = ownerLost }},
		{evReport, 0, moves{uint8(stageDispatching): uint8(stageReported), uint8(stageOpen): uint8(stageReported)},
			func(s state) bool { return s.closing == closeNone }, nil},
		{evRelease, 1, moves{uint8(ownerHeld): uint8(ownerReleased)}, nil, nil},
		{evReacquire, 1, moves{uint8(ownerReleased): uint8(ownerHeld)}, nil, nil},
		{evLose, 1, moves{uint8(ownerHeld): uint8(ownerLost), uint8(ownerReleased): uint8(ownerLost), uint8(ownerLost): uint8(ownerLost)}, nil, nil},
		{evCancel, 2, moves{uint8(closeNone): uint8(closeCancel), uint8(closeExpire): uint8(closeCancel)}, nil, nil},
		{evExpire, 2, moves{uint8(closeNone): uint8(closeExpire)}, nil, nil},
		{evReverse, 2, moves{uint8(closeNone): uint8(closeReverse)}, nil, nil},
		{evClosed, 2, moves{uint8(closeCancel): uint8(closeNone), uint8(closeExpire): uint8(closeNone), uint8(closeReverse): uint8(closeNone)}, nil, nil},
		{evConfirm, 3, moves{uint8(originAdoptedUnconfirmed): uint8(originAdopted)}, nil, nil},
		{evWritten, 4, moves{uint8(storedKnown): uint8(storedKnown), uint8(storedBehind): uint8(storedKnown)}, nil, nil},
		{evWriteFailed, 4, moves{uint8(storedKnown): uint8(storedBehind), uint8(storedBehind): uint8(storedBehind)}, nil, nil},
		{evClaimUnknown, 4, moves{uint8(storedKnown): uint8(storedClaimUnknown)}, nil, nil},
		{evWriteUnknown, 4, moves{uint8(storedKnown): uint8(storedUnknown), uint8(storedBehind): uint8(storedUnknown)}, nil, nil},
		{evSettled, 4, moves{uint8(storedBehind): uint8(storedKnown), uint8(storedClaimUnknown): uint8(storedKnown), uint8(storedUnknown): uint8(storedKnown)}, nil, nil},
	}
	if len(table) != int(eventCount) {
		t.Fatalf("table has %d events, the engine %d", len(table), eventCount)
	}
	get := func(s state, dim int) uint8 {
		return [...]uint8{uint8(s.stage), uint8(s.owner), uint8(s.closing), uint8(s.origin), uint8(s.stored)}[dim]
	}
	set := func(s *state, dim int, v uint8) {
		switch dim {
		case 0:
			s.stage = stage(v)
		case 1:
			s.owner = owner(v)
		case 2:
			s.closing = closing(v)
		case 3:
			s.origin = origin(v)
		case 4:
			s.stored = stored(v)
		}
	}
	n := 0
	for st := stageDispatching; st <= stageAborted; st++ {
		for ow := ownerHeld; ow <= ownerLost; ow++ {
			for cl := closeNone; cl <= closeReverse; cl++ {
				for or := originNew; or <= originAdopted; or++ {
					for sd := storedKnown; sd <= storedUnknown; sd++ {
						from := state{st, ow, cl, or, sd}
						for _, row := range table {
							want, wantOK := from, false
							if to, ok := row.moves[get(from, row.dim)]; ok && (row.guard == nil || row.guard(from)) {
								set(&want, row.dim, to)
								if row.also != nil {
									row.also(&want)
								}
								wantOK = true
							}
							got, ok := from.next(row.ev)
							if got != want || ok != wantOK {
								t.Errorf("%+v on event %d: got %+v %v, want %+v %v", from, row.ev, got, ok, want, wantOK)
							}
							n++
						}
					}
				}
			}
		}
	}
	if n != 4*3*4*3*4*int(eventCount) {
		t.Fatalf("checked %d transitions", n)
	}
	if _, ok := (state{}).next(eventCount); ok {
		t.Fatal("an unknown event applied")
	}
}

// TestLeavingDispatchWakesRepeats: the repeats of a pay wait on
// dispatchWait; every way out of stageDispatching (the answer, an abort,
// the outcome reported before the call returned) closes it, once.
func TestLeavingDispatchWakesRepeats(t *testing.T) {
	for _, ev := range []event{evDispatched, evAbort, evReport} {
		p := &payment{}
		ch := p.waitDispatched()
		if ch == nil {
			t.Fatal("a new payment is dispatching")
		}
		if !p.to(ev) {
			t.Fatalf("event %d refused from dispatching", ev)
		}
		select {
		case <-ch:
		default:
			t.Fatalf("event %d left dispatching without waking the repeats", ev)
		}
		p.to(evDispatched) // refused now: must not close again (a panic)
		if p.waitDispatched() != nil {
			t.Fatalf("after event %d: still dispatching", ev)
		}
	}
}

// TestClosingRecord: the record's closing fields and the enum say the
// same thing, both ways.
func TestClosingRecord(t *testing.T) {
	for _, c := range []closing{closeNone, closeCancel, closeExpire, closeReverse} {
		s := state{closing: c}
		r := PaymentRecord{CancelWanted: s.closeWanted(), CloseAs: s.closeAs(), Reverse: c == closeReverse}
		if got := closingOf(&r); got != c {
			t.Errorf("closing %d: record %+v reads back as %d", c, r, got)
		}
	}
	if (state{closing: closeCancel}).closeAs() != codec.StatusCancelled || (state{closing: closeExpire}).closeAs() != codec.StatusFail {
		t.Fatal("closeAs")
	}
}
