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

// Pending matches responses to requests by their echo string.
type Pending struct {
	prefix string
	mu     sync.Mutex
	waits  map[string]chan json.RawMessage
}

// NewPending returns an empty table whose echoes start with prefix.
func NewPending(prefix string) *Pending {
	return &Pending{prefix: prefix, waits: make(map[string]chan json.RawMessage)}
}

// Add registers a new request and returns its echo and the channel its
// response arrives on. The channel is closed without a value by FailAll.
func (p *Pending) Add() (string, <-chan json.RawMessage) {
	echo := p.prefix + strconv.FormatUint(echoCounter.Add(1), 10)
	ch := make(chan json.RawMessage, 1)
	p.mu.Lock()
	p.waits[echo] = ch
	p.mu.Unlock()
	return echo, ch
}

// Resolve delivers a response. It reports false for an unknown or late echo.
func (p *Pending) Resolve(echo string, frame json.RawMessage) bool {
	p.mu.Lock()
	ch, ok := p.waits[echo]
	delete(p.waits, echo)
	p.mu.Unlock()
	if ok {
		ch <- frame
	}
	return ok
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
	for echo, ch := range p.waits {
		close(ch)
		delete(p.waits, echo)
	}
	p.mu.Unlock()
}

// Call sends one request built by build (which embeds the echo) on s and waits
// for its response or for ctx. A session that ends while waiting fails the
// call with ErrClosed.
func Call(ctx context.Context, s *Session, p *Pending, build func(echo string) ([]byte, error)) (json.RawMessage, error) {
	echo, ch := p.Add()
	defer p.Forget(echo)
	frame, err := build(echo)
	if err != nil {
		return nil, err
	}
	if err := s.Send(ctx, frame); err != nil {
		return nil, err
	}
	select {
	case resp, ok := <-ch:
		if !ok {
			return nil, ErrClosed
		}
		return resp, nil
	case <-s.Done():
		// The response may have raced the end of the session.
		select {
		case resp, ok := <-ch:
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
