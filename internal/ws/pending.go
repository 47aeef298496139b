package ws

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
)

// echoCounter is process-wide so an echo is never reused: a late reply from a
// dead session can never be taken for the answer to a newer request.
var echoCounter atomic.Uint64

// Pending matches responses to requests by their echo string. Safe for
// concurrent use.
//
// An ordered table (NewOrderedPending) is for a peer that answers a
// connection's requests strictly in the order they were sent and drops the
// echo from some answers (QueQiao's error replies): such an answer can only
// belong to the oldest request outstanding (ResolveOldest). To keep that
// true after a request stopped being waited for (its timeout), the table
// keeps a marker for it until a later answer shows the peer is past it.
type Pending struct {
	prefix  string
	ordered bool
	sendMu  sync.Mutex // ordered: numbering and sending happen together (Start)
	mu      sync.Mutex
	waits   map[string]*waiter
}

type waiter struct {
	ch        chan json.RawMessage
	seq       uint64 // from echoCounter: larger is newer
	abandoned bool   // sent, then no longer waited for (ordered tables only)
}

// maxAbandoned bounds the markers an ordered table keeps for a peer that
// stopped answering altogether.
const maxAbandoned = 1024

// NewPending returns an empty table whose echoes start with prefix, for a
// peer that may answer in any order.
func NewPending(prefix string) *Pending {
	return &Pending{prefix: prefix, waits: make(map[string]*waiter)}
}

// NewOrderedPending returns an empty table for a peer that answers in order.
func NewOrderedPending(prefix string) *Pending {
	p := NewPending(prefix)
	p.ordered = true
	return p
}

// Add registers a new request and returns its echo and the channel its
// response arrives on. The channel is closed without a value by FailAll.
func (p *Pending) Add() (string, <-chan json.RawMessage) {
	seq := echoCounter.Add(1)
	echo := p.prefix + strconv.FormatUint(seq, 10)
	ch := make(chan json.RawMessage, 1)
	p.mu.Lock()
	p.waits[echo] = &waiter{ch: ch, seq: seq}
	p.mu.Unlock()
	return echo, ch
}

// Resolve delivers a response. It reports false for an unknown or late echo.
// In an ordered table an answer also shows that every older request the
// peer will ever answer has been answered, so their markers go.
func (p *Pending) Resolve(echo string, frame json.RawMessage) bool {
	p.mu.Lock()
	w, ok := p.waits[echo]
	if ok {
		delete(p.waits, echo)
		if p.ordered {
			p.dropMarkersBeforeLocked(w.seq)
		}
	}
	p.mu.Unlock()
	if !ok || w.abandoned {
		return false
	}
	w.ch <- frame
	return true
}

// ResolveOldest delivers frame to the oldest request outstanding in an
// ordered table and returns its echo. ok is false when there is none, or
// when the oldest was no longer waited for: the frame is then its late
// answer and is dropped with its marker.
func (p *Pending) ResolveOldest(frame json.RawMessage) (echo string, ok bool) {
	p.mu.Lock()
	var oldest *waiter
	for e, w := range p.waits {
		if oldest == nil || w.seq < oldest.seq {
			echo, oldest = e, w
		}
	}
	if oldest != nil {
		delete(p.waits, echo)
	}
	p.mu.Unlock()
	if oldest == nil || oldest.abandoned {
		return "", false
	}
	oldest.ch <- frame
	return echo, true
}

func (p *Pending) dropMarkersBeforeLocked(seq uint64) {
	for e, w := range p.waits {
		if w.abandoned && w.seq < seq {
			delete(p.waits, e)
		}
	}
}

// Forget stops waiting for a request. In an ordered table a request that was
// sent leaves a marker in its place (see Pending).
func (p *Pending) Forget(echo string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.waits[echo]
	if !ok {
		return
	}
	if !p.ordered {
		delete(p.waits, echo)
		return
	}
	w.abandoned = true
	markers := 0
	var oldest *waiter
	var oldestEcho string
	for e, w := range p.waits {
		if w.abandoned {
			markers++
			if oldest == nil || w.seq < oldest.seq {
				oldest, oldestEcho = w, e
			}
		}
	}
	if markers > maxAbandoned {
		delete(p.waits, oldestEcho)
	}
}

// drop removes a request that was never sent.
func (p *Pending) drop(echo string) {
	p.mu.Lock()
	delete(p.waits, echo)
	p.mu.Unlock()
}

// FailAll ends every waiting request; used when the session goes away so
// callers learn at once instead of waiting for their timeout.
func (p *Pending) FailAll() {
	p.mu.Lock()
	for echo, w := range p.waits {
		if !w.abandoned {
			close(w.ch)
		}
		delete(p.waits, echo)
	}
	p.mu.Unlock()
}

// Call sends one request built by build (which embeds the echo) on s and waits
// for its response or for ctx. A session that ends while waiting fails the
// call with ErrClosed.
func Call(ctx context.Context, s *Session, p *Pending, build func(echo string) ([]byte, error)) (json.RawMessage, error) {
	r, err := Start(ctx, s, p, build)
	if err != nil {
		return nil, err
	}
	return r.Wait(ctx)
}

// Request is a request that was sent and awaits its response.
type Request struct {
	s    *Session
	p    *Pending
	echo string
	ch   <-chan json.RawMessage
}

// Start sends one request built by build (which embeds the echo) on s and
// returns without waiting for the response. Requests started one after
// another from one goroutine are written in that order, so a peer that
// works through a connection's requests in order (QueQiao) can have many
// in flight. The caller must Wait for every Request Start returns.
func Start(ctx context.Context, s *Session, p *Pending, build func(echo string) ([]byte, error)) (*Request, error) {
	if p.ordered {
		// Requests reach the wire in the order they are numbered.
		p.sendMu.Lock()
		defer p.sendMu.Unlock()
	}
	echo, ch := p.Add()
	frame, err := build(echo)
	if err == nil {
		err = s.Send(ctx, frame)
	}
	if err != nil {
		p.drop(echo)
		return nil, err
	}
	return &Request{s: s, p: p, echo: echo, ch: ch}, nil
}

// Answered reports whether the response has arrived, so that Wait would
// return it at once.
func (r *Request) Answered() bool { return len(r.ch) > 0 }

// Wait waits for the response or for ctx. A session that ends while waiting
// fails it with ErrClosed.
func (r *Request) Wait(ctx context.Context) (json.RawMessage, error) {
	defer r.p.Forget(r.echo)
	select {
	case resp, ok := <-r.ch:
		if !ok {
			return nil, ErrClosed
		}
		return resp, nil
	case <-r.s.Done():
		// The response may have raced the end of the session.
		select {
		case resp, ok := <-r.ch:
			if ok {
				return resp, nil
			}
		default:
		}
		return nil, ErrClosed
	case <-ctx.Done():
		// An answer that arrived as the time ran out still counts.
		select {
		case resp, ok := <-r.ch:
			if ok {
				return resp, nil
			}
		default:
		}
		return nil, context.Cause(ctx)
	}
}
