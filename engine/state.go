package engine

import "github.com/paycode/paycode/codec"

// A payment's state, apart from its Antom status (codec.PaymentStatus),
// is five small enums, each changed only by transition (state.next): a
// combination the engine must never be in cannot be written.

// stage is where a payment is in its life.
type stage uint8

const (
	// stageDispatching: created; its intent is being journaled or its
	// first pay is with the wallet. A repeat of the request waits.
	stageDispatching stage = iota
	// stageOpen: the first pay call returned (or the payment was read
	// from the journal); it is settled from here by the follow-up.
	stageOpen
	// stageReported: final with no wallet work left, logged and handed
	// to OnOutcome once. A late success (a reversal) does not reopen it.
	stageReported
	// stageAborted: its intent could not be journaled (or another
	// payment holds its request or code in the journal): never
	// dispatched, never written again.
	stageAborted
)

// owner says whether this node may work on the payment.
type owner uint8

const (
	// ownerHeld: this node holds its lease (with one node, always once
	// written with work left).
	ownerHeld owner = iota
	// ownerReleased: a write with nothing left released the lease; the
	// next lease tick forgets the payment, and a write before that takes
	// the lease back (reacquireLocked) if nobody changed it meanwhile.
	ownerReleased
	// ownerLost: another node owns it (a write was refused, ErrLeaseLost),
	// or it was never stored (aborted): it is never written again.
	ownerLost
)

// closing is what closing of the payment at its wallet is wanted.
type closing uint8

const (
	closeNone closing = iota
	// closeCancel: a lane's cancel; the payment ends CANCELLED once the
	// wallet confirms, and a success reported meanwhile is not accepted.
	closeCancel
	// closeExpire: the deadline passed, or the wallet never got the pay;
	// it ends FAIL (ORDER_IS_CLOSED) once the wallet confirms.
	closeExpire
	// closeReverse: the wallet reported a success after the payment was
	// closed here; the follow-up cancels (reverses) it at the wallet.
	closeReverse
)

// origin is where this node's copy of the payment came from.
type origin uint8

const (
	originNew origin = iota // created by a pay on this node
	// originAdoptedUnconfirmed: read back unfinished (restart, takeover);
	// it is not cancelled at its deadline until the wallet answered an
	// inquiry, so an outcome the lane already saw is found again.
	originAdoptedUnconfirmed
	originAdopted // read back; the wallet has answered since
)

// stored is what this node knows of the journal's copy of the payment.
// Only a network journal (SharedJournal: PostgreSQL) leaves it anything
// but storedKnown: see health.go for how each is settled once the
// journal answers again.
type stored uint8

const (
	// storedKnown: the journal holds what this node last wrote (or
	// nothing yet, before the claim).
	storedKnown stored = iota
	// storedBehind: a write failed with the journal unavailable, so
	// memory is ahead of it; the payment is written again, with all its
	// refunds, once the journal answers.
	storedBehind
	// storedClaimUnknown: the intent's claim was sent and its answer
	// lost: stored or not, and maybe another payment's request. Never
	// dispatched; the lane sees no payment id until it is claimed again.
	storedClaimUnknown
	// storedUnknown: a write whose content memory dropped (a refund's
	// claim) may have committed: the journal's copy is read back. Nothing
	// is written meanwhile.
	storedUnknown
)

// state is a payment's state besides its Antom status.
type state struct {
	stage   stage
	owner   owner
	closing closing
	origin  origin
	stored  stored
}

// event is a change of state.
type event uint8

const (
	evDispatched   event = iota // the first pay call returned
	evAbort                     // the intent was not stored
	evReport                    // final with no wallet work left: reported
	evRelease                   // a write released the lease
	evReacquire                 // the lease was taken back
	evLose                      // another node owns it now
	evCancel                    // a lane's cancel, durable
	evExpire                    // closing at the deadline (or never received)
	evReverse                   // a success after the close: reverse it
	evClosed                    // the wallet confirmed the close, or refused it for good
	evConfirm                   // the wallet answered an inquiry
	evWritten                   // a write landed in the journal
	evWriteFailed               // a write failed, the journal unavailable
	evClaimUnknown              // the intent's claim's answer was lost
	evWriteUnknown              // a write's answer was lost, its content dropped
	evSettled                   // the journal's copy is known again (or not this node's)
	eventCount
)

// next returns the state after ev, and whether ev may happen in s; when
// it may not, s is returned unchanged. It is the one place a payment's
// state changes.
func (s state) next(ev event) (state, bool) {
	switch ev {
	case evDispatched:
		if s.stage != stageDispatching {
			return s, false
		}
		s.stage = stageOpen
	case evAbort:
		// Open too: a claim whose outcome was unknown is marked open for
		// its repeats (storedClaimUnknown) and may turn out another
		// payment's once the journal answers (health.go).
		if s.stage != stageDispatching && s.stage != stageOpen {
			return s, false
		}
		s.stage, s.owner = stageAborted, ownerLost
	case evReport:
		// The final write of a first pay happens before its call
		// returns: reported from dispatching as from open.
		if (s.stage != stageDispatching && s.stage != stageOpen) || s.closing != closeNone {
			return s, false
		}
		s.stage = stageReported
	case evRelease:
		if s.owner != ownerHeld {
			return s, false
		}
		s.owner = ownerReleased
	case evReacquire:
		if s.owner != ownerReleased {
			return s, false
		}
		s.owner = ownerHeld
	case evLose:
		s.owner = ownerLost
	case evCancel:
		// A lane's cancel overrides a deadline close (the end is then
		// CANCELLED); a reversal is already a close.
		if s.closing == closeCancel || s.closing == closeReverse {
			return s, false
		}
		s.closing = closeCancel
	case evExpire, evReverse:
		if s.closing != closeNone {
			return s, false
		}
		s.closing = closeExpire
		if ev == evReverse {
			s.closing = closeReverse
		}
	case evClosed:
		if s.closing == closeNone {
			return s, false
		}
		s.closing = closeNone
	case evConfirm:
		if s.origin != originAdoptedUnconfirmed {
			return s, false
		}
		s.origin = originAdopted
	case evWritten, evWriteFailed, evWriteUnknown:
		// A payment whose copy is unknown is not written (nor falls
		// behind): it is read back or claimed again first.
		if s.stored != storedKnown && s.stored != storedBehind {
			return s, false
		}
		switch ev {
		case evWritten:
			s.stored = storedKnown
		case evWriteFailed:
			s.stored = storedBehind
		default:
			s.stored = storedUnknown
		}
	case evClaimUnknown:
		if s.stored != storedKnown {
			return s, false
		}
		s.stored = storedClaimUnknown
	case evSettled:
		if s.stored == storedKnown {
			return s, false
		}
		s.stored = storedKnown
	default:
		return s, false
	}
	return s, true
}

// to applies ev to p's state and reports whether it applied. Leaving
// stageDispatching wakes the repeats waiting for the first answer.
// Caller holds p.mu.
func (p *payment) to(ev event) bool {
	n, ok := p.st.next(ev)
	if !ok {
		return false
	}
	if p.st.stage == stageDispatching && n.stage != stageDispatching && p.dispatchWait != nil {
		close(p.dispatchWait)
	}
	p.st = n
	return true
}

// unsettled reports whether the journal's copy differs from memory or
// is unknown: the payment waits for the journal (health.go).
func (s state) unsettled() bool { return s.stored != storedKnown }

// closeWanted reports whether the payment must end closed at its wallet
// (a lane cancel or the deadline): a success reported now is not
// accepted but reversed.
func (s state) closeWanted() bool {
	return s.closing == closeCancel || s.closing == closeExpire
}

// closeAs is the final status once the wallet confirms the close:
// CANCELLED for a lane's cancel, FAIL for the deadline; none otherwise.
func (s state) closeAs() codec.PaymentStatus {
	switch s.closing {
	case closeCancel:
		return codec.StatusCancelled
	case closeExpire:
		return codec.StatusFail
	}
	return codec.StatusNone
}

// closingOf reads a record's closing fields.
func closingOf(r *PaymentRecord) closing {
	switch {
	case r.Reverse:
		return closeReverse
	case r.CancelWanted && r.CloseAs == codec.StatusCancelled:
		return closeCancel
	case r.CancelWanted:
		return closeExpire
	}
	return closeNone
}
