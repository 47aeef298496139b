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

// Pending matches responses to requests by their echo string. It also knows
// the order requests were added in, for peers that answer in order and
// sometimes forget the echo (ResolveOldest). Safe for concurrent use.
type Pending struct {
	prefix string
	mu     sync.Mutex
	waits  map[string]waiter
}

type waiter struct {
	ch  chan json.RawMessage
	seq uint64 // from echoCounter: larger is newer
}

// NewPending returns an empty table whose echoes start with prefix.
func NewPending(prefix string) *Pending {
	return &Pending{prefix: prefix, waits: make(map[string]waiter)}
}

// Add registers a new request and returns its echo and the channel its
// response arrives on. The channel is closed without a value by FailAll.
func (p *Pending) Add() (string, <-chan json.RawMessage) {
	seq := echoCounter.Add(1)
	echo := p.prefix + strconv.FormatUint(seq, 10)
	ch := make(chan json.RawMessage, 1)
	p.mu.Lock()
	p.waits[echo] = waiter{ch, seq}
	p.mu.Unlock()
	return echo, ch
}

// Resolve delivers a response. It reports false for an unknown or late echo.
func (p *Pending) Resolve(echo string, frame json.RawMessage) bool {
	p.mu.Lock()
	w, ok := p.waits[echo]
	delete(p.waits, echo)
	p.mu.Unlock()
	if ok {
		w.ch <- frame
	}
	return ok
}

// ResolveOldest delivers frame to the oldest request still waiting and
// returns its echo; ok is false when none waits. It is for a peer that
// answers a connection's requests strictly in order but drops the echo from
// some answers (QueQiao's error replies), so such an answer can only belong
// to the oldest one outstanding.
func (p *Pending) ResolveOldest(frame json.RawMessage) (echo string, ok bool) {
	p.mu.Lock()
	var oldest waiter
	for e, w := range p.waits {
		if !ok || w.seq < oldest.seq {
			echo, oldest, ok = e, w, true
		}
	}
	if ok {
		delete(p.waits, echo)
	}
	p.mu.Unlock()
	if ok {
		oldest.ch <- frame
	}
	return echo, ok
}

// Forget drops a request that is no longer waited for.
func (p *Pending) Forget(echo string) {
	p.mu.Lock()
	delete(p.waits, echo)
	p.mu.Unlock()
}

// FailAll ends every waiting request; used when the session goes away so
// callers learn at once instead of waiting for their timeout.
func (p *Pending) FailAll() {
	p.mu.Lock()
	for echo, w := range p.waits {
		close(w.ch)
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
	echo, ch := p.Add()
	frame, err := build(echo)
	if err == nil {
		err = s.Send(ctx, frame)
	}
	if err != nil {
		p.Forget(echo)
		return nil, err
	}
	return &Request{s: s, p: p, echo: echo, ch: ch}, nil
}

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
		return nil, context.Cause(ctx)
	}
}
