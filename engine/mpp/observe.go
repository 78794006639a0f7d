package mpp

import (
	"errors"
	"time"
)

// Kind is a bounded classification of a call's error, for the errors
// metric (the kind label) and the breaker.
type Kind uint8

// Error kinds. KindNone is a call without error (any wallet answer,
// business failures included).
const (
	KindNone        Kind = iota
	KindTimeout          // sent (or dialling) and no answer by the deadline
	KindTransport        // the connection failed after the request was written
	KindConnect          // the dial failed: not sent
	KindBusy             // the in-flight limit or pool stayed full: not sent
	KindBreakerOpen      // the breaker refused the call: not sent
	KindNotSent          // not sent for another reason (context done, deadline passed, signing)
	KindHTTP             // an HTTP status other than 200
	KindBadAnswer        // a 200 that is not the expected message, or a bad signature
	KindRefused          // the wallet refused an inquiry (result F)
	NumKinds
)

var kindNames = [NumKinds]string{"none", "timeout", "transport", "connect", "busy", "breaker_open", "not_sent", "http", "bad_answer", "refused"}

// String is the kind's metric label.
func (k Kind) String() string {
	if k >= NumKinds {
		return "invalid"
	}
	return kindNames[k]
}

// Sent reports whether a call of this kind reached the network, so its
// duration is a wallet latency.
func (k Kind) Sent() bool {
	switch k {
	case KindConnect, KindBusy, KindBreakerOpen, KindNotSent:
		return false
	}
	return true
}

// String is the operation's metric label: pay, inquiry, cancel, refund.
func (o Op) String() string {
	if o >= NumOps {
		return "invalid"
	}
	return opLabels[o]
}

// KindOf classifies an error returned by a Client; KindNone for nil.
// It does not allocate.
func KindOf(err error) Kind {
	if err == nil {
		return KindNone
	}
	e, ok := err.(*Error)
	if !ok {
		if errors.Is(err, ErrNotSent) {
			return KindNotSent
		}
		return KindTransport
	}
	switch {
	case e.Kind == ErrBreakerOpen:
		return KindBreakerOpen
	case e.Kind == ErrBusy:
		return KindBusy
	case e.NotSent && e.Kind == ErrTransport:
		return KindConnect
	case e.NotSent:
		return KindNotSent
	case e.Kind == ErrTimeout:
		return KindTimeout
	case e.Kind == ErrHTTPStatus:
		return KindHTTP
	case e.Kind == ErrBadAnswer:
		return KindBadAnswer
	case e.Kind == ErrRefused:
		return KindRefused
	}
	return KindTransport
}

// Observer receives a Client's per-call measurements; engine/metrics
// implements it over Prometheus. Both methods run on the call path, once
// each per call (CallFinished after the answer is parsed, or the error):
// they must be cheap, must not block and should not allocate. d is the
// call's whole time, in-flight slot wait included.
type Observer interface {
	CallStarted(o Op)
	CallFinished(o Op, d time.Duration, k Kind)
}

type observerBox struct{ o Observer }

// SetObserver makes o receive this Client's calls from now on (nil stops
// it). It may be called while calls are in flight: a call reports to the
// observer it started with.
func (c *Client) SetObserver(o Observer) {
	if o == nil {
		c.obs.Store(nil)
		return
	}
	c.obs.Store(&observerBox{o})
}

func (c *Client) observer() Observer {
	if b := c.obs.Load(); b != nil {
		return b.o
	}
	return nil
}
