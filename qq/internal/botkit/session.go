package botkit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcqq/bridge/internal/inbox"
	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/qq"
)

// HealthInterval is how often webhook mode, which has no stream to watch,
// asks the bot whether it still answers.
const HealthInterval = 30 * time.Second

// Ender lets an action that could not reach the bot end the running session
// at once. Over HTTP nothing else would notice before the next stream read
// or health check; so the session ends now (link.Supervise retries it with
// backoff) and the link goes down at once rather than when the session has
// returned: senders then hold their messages until the bot is back instead
// of retrying into the void.
type Ender struct {
	state *link.State

	mu  sync.Mutex
	end context.CancelCauseFunc // ends the running session; nil between sessions
}

// NewEnder returns an Ender that takes st down.
func NewEnder(st *link.State) *Ender { return &Ender{state: st} }

// Wrap makes session endable by Lost.
func (e *Ender) Wrap(session link.Session) link.Session {
	return func(ctx context.Context, up func()) error {
		sessionCtx, end := context.WithCancelCause(ctx)
		defer end(nil)
		e.mu.Lock()
		e.end = end
		e.mu.Unlock()
		defer func() {
			e.mu.Lock()
			e.end = nil
			e.mu.Unlock()
		}()
		err := session(sessionCtx, up)
		if err == nil && ctx.Err() == nil && sessionCtx.Err() != nil {
			return context.Cause(sessionCtx) // ended by Lost: say why
		}
		return err
	}
}

// Lost ends the running session with err and takes the link down.
func (e *Ender) Lost(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.end == nil {
		return // between sessions: the link is down already
	}
	e.end(err)
	// Under mu: the next session registers before it can come up, so this
	// cannot take down a newer session that is already up.
	e.state.Set(false, err)
}

// WebhookSession is the link in webhook mode, where events need no
// connection: up once check passes, then checked again every interval; the
// first failure ends the session.
func WebhookSession(check func(ctx context.Context) error, interval time.Duration) link.Session {
	return func(ctx context.Context, up func()) error {
		if err := check(ctx); err != nil {
			return err
		}
		up()
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-ticker.C:
				if err := check(ctx); err != nil {
					return fmt.Errorf("health check: %w", err)
				}
			}
		}
	}
}

// WatchQuiet watches a stream session whose peer may stop writing without
// closing (a hung bot keeps its TCP connection, so no read ever fails):
// whenever nothing has been read from r for interval, check asks the bot
// whether it still answers, and the first failure goes to lost (which ends
// the session). It returns r, noting each read, and stop, which ends the
// watch and must be called before the session returns.
func WatchQuiet(ctx context.Context, r io.Reader, interval time.Duration,
	check func(context.Context) error, lost func(error)) (watched io.Reader, stop func()) {
	q := &quietReader{r: r}
	q.last.Store(time.Now().UnixNano())
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		checked := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-ticker.C:
				last := time.Unix(0, q.last.Load())
				if now.Sub(last) < interval || now.Sub(checked) < interval {
					continue
				}
				checked = now
				if err := check(ctx); err != nil && ctx.Err() == nil {
					lost(fmt.Errorf("the event stream was quiet for %s and the bot did not answer: %w", now.Sub(last).Round(time.Second), err))
					return
				}
			}
		}
	}()
	return q, func() {
		cancel()
		<-done
	}
}

// quietReader notes when it last read something.
type quietReader struct {
	r    io.Reader
	last atomic.Int64 // unix nanoseconds
}

func (q *quietReader) Read(p []byte) (int, error) {
	n, err := q.r.Read(p)
	if n > 0 {
		q.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// Gate binds HTTP handlers (a reverse WebSocket, webhook posts) to Run:
// they start only while Run has the gate open, work with Run's context, and
// Run waits for them when it closes the gate, so none outlives it. An event
// a handler has read is therefore delivered even when the bot stops waiting
// for the answer.
type Gate struct {
	mu       sync.Mutex
	ctx      context.Context // Run's; nil while closed
	handlers sync.WaitGroup
}

// Open lets handlers start, bound to ctx.
func (g *Gate) Open(ctx context.Context) {
	g.mu.Lock()
	g.ctx = ctx
	g.mu.Unlock()
}

// Close refuses new handlers and waits for the running ones, which end with
// the context given to Open.
func (g *Gate) Close() {
	g.mu.Lock()
	g.ctx = nil // no handler starts after this, so Wait below is final
	g.mu.Unlock()
	g.handlers.Wait()
}

// Enter registers a handler and returns Run's context, or reports false
// while the gate is closed. A handler that entered calls Leave when done.
func (g *Gate) Enter() (context.Context, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ctx == nil || g.ctx.Err() != nil {
		return nil, false
	}
	g.handlers.Add(1)
	return g.ctx, true
}

// Leave marks a handler that entered as done.
func (g *Gate) Leave() { g.handlers.Done() }

// NewInbox makes a QQ client's event queue, named "qq" and logging to log
// unless o says otherwise.
func NewInbox(o inbox.Options, log *slog.Logger) *inbox.Inbox[qq.Event] {
	if o.Name == "" {
		o.Name = "qq"
	}
	if o.Logger == nil {
		o.Logger = log
	}
	return inbox.New[qq.Event](o)
}
