// Package link tracks the state of one connection (QQ, a QueQiao server, an
// RCON console) and keeps it alive: Supervise redials forever with
// exponential backoff and jitter, logging each state change once.
package link

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// ErrNotConnected is returned by calls made while a connection is down.
var ErrNotConnected = errors.New("not connected")

// State is the observable state of one connection. The zero value is a
// connection that has never been up. Safe for concurrent use.
type State struct {
	mu      sync.Mutex
	up      bool
	since   time.Time
	lastErr string
	hint    string
	explain func(error) string
	changed chan struct{}
}

// Snapshot is a State at one instant.
type Snapshot struct {
	Up        bool      `json:"up"`
	Since     time.Time `json:"since,omitzero"` // when it last went up or down
	LastError string    `json:"last_error,omitempty"`
	// Hint says what setting to compare or change for LastError, when the
	// error is a known one (a rejected token, nothing listening).
	Hint string `json:"hint,omitempty"`
}

// SetHint installs explain, which turns a connection error into advice for
// the operator ("" when it has none). Call it before the connection starts.
func (s *State) SetHint(explain func(error) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.explain = explain
}

// Explain is the advice SetHint's function gives for err, "" without one.
func (s *State) Explain(err error) string {
	s.mu.Lock()
	explain := s.explain
	s.mu.Unlock()
	if explain == nil {
		return ""
	}
	return explain(err)
}

func (s *State) ch() chan struct{} {
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

// Set records a change; err is the reason when going down.
func (s *State) Set(up bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.lastErr = err.Error()
		if s.explain != nil {
			s.hint = s.explain(err)
		}
	}
	if s.up == up && !s.since.IsZero() {
		return
	}
	s.up = up
	s.since = time.Now()
	if up {
		s.lastErr, s.hint = "", ""
	}
	close(s.ch())
	s.changed = make(chan struct{})
}

// Get returns the current state.
func (s *State) Get() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Snapshot{Up: s.up, Since: s.since, LastError: s.lastErr, Hint: s.hint}
}

// Up reports whether the connection is up.
func (s *State) Up() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.up
}

// Changed returns a channel closed at the next change.
func (s *State) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch()
}

// WaitUp blocks until the connection is up or ctx ends.
func (s *State) WaitUp(ctx context.Context) error {
	for {
		s.mu.Lock()
		up, ch := s.up, s.ch()
		s.mu.Unlock()
		if up {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// DefaultRequestTimeout bounds one request over a connection (an API call,
// an RCON command) when no other timeout is given: every client's default,
// and REQUEST_TIMEOUT's.
const DefaultRequestTimeout = 10 * time.Second

// Backoff limits: 1 s doubling to 60 s, with jitter.
const (
	MinBackoff = time.Second
	MaxBackoff = time.Minute
	// stableAfter is how long a connection must have stayed up for the next
	// loss to start again at MinBackoff instead of where it left off.
	stableAfter = 30 * time.Second
	// RemindEvery is how often a connection that stays down is reported
	// again, so that a log read later still shows it and why.
	RemindEvery = 5 * time.Minute
)

// Session is one connection attempt. It calls up() once the connection is
// established (handshake done) and then blocks until the connection ends,
// returning why; it returns nil only when ctx ended.
type Session func(ctx context.Context, up func()) error

// Supervise runs session again and again until ctx ends, waiting with
// exponential backoff and jitter between attempts, and records the state in
// st. It logs one line per state change — connected, lost (with the reason
// and st's hint), back after N attempts — not one per failed attempt, and
// while the connection stays down, one reminder every RemindEvery.
func Supervise(ctx context.Context, log *slog.Logger, st *State, session Session) {
	delay := MinBackoff
	failures := 0 // failed attempts since the connection was last up
	everUp := false
	var downSince, reported time.Time // zero while up
	for {
		var upAt time.Time
		err := session(ctx, func() {
			upAt = time.Now()
			st.Set(true, nil)
			switch {
			case !everUp:
				log.Info("connected")
			case failures > 0:
				log.Info("reconnected", "attempts", failures+1)
			default:
				log.Info("reconnected")
			}
			everUp, failures = true, 0
			downSince = time.Time{}
		})
		if ctx.Err() != nil {
			st.Set(false, nil)
			return
		}
		if err == nil {
			err = errors.New("session ended")
		}
		st.Set(false, err)
		if downSince.IsZero() {
			downSince, reported = time.Now(), time.Now()
		}
		if !upAt.IsZero() {
			log.Warn("connection lost, reconnecting", withHint(st, "err", err.Error())...)
			if time.Since(upAt) >= stableAfter {
				delay = MinBackoff
			}
		} else {
			failures++
			// Only the very first failure is a state change; after a loss,
			// "connection lost" already said the link is down.
			if !everUp && failures == 1 {
				log.Warn("cannot connect, retrying in the background", withHint(st, "err", err.Error())...)
			} else {
				log.Debug("connect attempt failed", "err", err.Error(), "attempt", failures)
			}
		}
		wait := jitter(delay)
		delay = min(delay*2, MaxBackoff)
		if !sleep(ctx, wait, func() time.Time { return reported.Add(RemindEvery) }, func() {
			reported = time.Now()
			log.Warn("still not connected", withHint(st,
				"for", time.Since(downSince).Round(time.Second), "err", st.Get().LastError)...)
		}) {
			return
		}
	}
}

// withHint appends st's hint, when it has one, to a log line's attributes.
func withHint(st *State, args ...any) []any {
	if h := st.Get().Hint; h != "" {
		return append(args, "hint", h)
	}
	return args
}

// sleep waits for d, calling remind whenever the time next() names comes
// first. It reports false when ctx ended.
func sleep(ctx context.Context, d time.Duration, next func() time.Time, remind func()) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		r := time.NewTimer(time.Until(next()))
		select {
		case <-ctx.Done():
			r.Stop()
			return false
		case <-t.C:
			r.Stop()
			return true
		case <-r.C:
			remind()
		}
	}
}

// jitter returns a duration in [d/2, d) ("equal jitter"), so servers that
// restart together do not all redial at the same instant.
func jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(d-half)
}
