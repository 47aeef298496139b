// Package listener bounds what a flood of slow or unwanted requests can
// cost one of the bridge's listeners (QQ_LISTEN, MC_LISTEN, HTTP_LISTEN):
// a deadline for the headers and one for the body, a small number of
// bodies being read at once (fewer large ones, and fewer from any one
// address, so one sender cannot take every turn), a largest body, a
// bounded number of connections (per address too), and connections cut as
// soon as a request is refused, so a refused body is never read. Handlers refuse what they can from the headers alone (tokens,
// signatures) before reading a body: such a refusal costs no turn, so a
// flood of unsigned posts cannot delay a real peer's.
package listener

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Limits bound one listener. Zero values take the defaults.
type Limits struct {
	// HeaderTimeout bounds reading a request's headers (default 10 s).
	HeaderTimeout time.Duration
	// BodyTimeout bounds reading its body, from when its handler starts
	// (default 10 s). A handler still running then (not hijacked) sees its
	// request's context end, so handlers that outlive a request use a
	// context of their own.
	BodyTimeout time.Duration
	// MaxReading is how many request bodies may be read at once (default
	// 32). A request counts from its handler's first read of the body
	// until the body is read to its end, fails, or the handler returns, so
	// a request refused from its headers, or one without a body (a
	// WebSocket upgrade, /metrics), never counts. A read that finds no
	// turn within SlotWait fails with ErrBusy.
	MaxReading int
	// MaxReadingPerPeer is how many of them may come from one remote
	// address at once (default 8): a sender that gets past the header
	// checks (a signature of the right shape, say) but never finishes its
	// bodies holds at most that many turns, and the bot, posting from
	// another address, still gets one.
	MaxReadingPerPeer int
	// MaxLargeReading is how many of them may have a large body (over
	// LargeBody, or of unknown length) at once (default 8): bodies are
	// read into memory, so this bounds what slow senders can hold to
	// about MaxLargeReading×MaxBody + MaxReading×LargeBody.
	MaxLargeReading int
	// LargeBody is the size above which a body is large (default 256 KiB;
	// events are a few KiB).
	LargeBody int64
	// SlotWait is how long a request beyond MaxReading waits for its turn
	// (default 1 s).
	SlotWait time.Duration
	// MaxBody is the largest body (default 4 MiB); a larger declared one is
	// refused with 413 before anything of it is read.
	MaxBody int64
	// IdleTimeout closes a kept-alive connection with no request (default
	// 60 s).
	IdleTimeout time.Duration
	// MaxConns is how many connections LimitConns keeps open at once
	// (default 1024), and MaxConnsPerPeer how many from one remote address
	// (default 64): each costs a goroutine and header buffers while it
	// dawdles over its headers. One beyond is closed as soon as accepted.
	MaxConns, MaxConnsPerPeer int
}

// Defaults.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultMaxReading = 32
	DefaultMaxLarge   = 8
	DefaultLargeBody  = 256 << 10
	DefaultSlotWait   = time.Second
	DefaultMaxBody    = 4 << 20
	DefaultIdle       = 60 * time.Second
	DefaultPerPeer    = 8
	DefaultMaxConns   = 1024
	DefaultConnsPeer  = 64
	// maxHeaderBytes bounds a request's headers: the bots' and QueQiao's
	// are well under 1 KiB, tokens included.
	maxHeaderBytes = 16 << 10
)

func (l Limits) withDefaults() Limits {
	if l.HeaderTimeout <= 0 {
		l.HeaderTimeout = DefaultTimeout
	}
	if l.BodyTimeout <= 0 {
		l.BodyTimeout = DefaultTimeout
	}
	if l.MaxReading <= 0 {
		l.MaxReading = DefaultMaxReading
	}
	if l.MaxLargeReading <= 0 {
		l.MaxLargeReading = DefaultMaxLarge
	}
	if l.LargeBody <= 0 {
		l.LargeBody = DefaultLargeBody
	}
	if l.SlotWait <= 0 {
		l.SlotWait = DefaultSlotWait
	}
	if l.MaxBody <= 0 {
		l.MaxBody = DefaultMaxBody
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdle
	}
	if l.MaxReadingPerPeer <= 0 {
		l.MaxReadingPerPeer = DefaultPerPeer
	}
	if l.MaxConns <= 0 {
		l.MaxConns = DefaultMaxConns
	}
	if l.MaxConnsPerPeer <= 0 {
		l.MaxConnsPerPeer = DefaultConnsPeer
	}
	return l
}

// NewServer returns an http.Server for h within l. Its error log goes to
// log at debug level (net/http reports every broken client there).
func NewServer(h http.Handler, l Limits, log *slog.Logger) *http.Server {
	l = l.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           Guard(h, l),
		ReadHeaderTimeout: l.HeaderTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

// Guard wraps h with the per-request limits of l (all but the header
// timeout and the idle timeout, which belong to the server). It is safe
// for concurrent use.
func Guard(h http.Handler, l Limits) http.Handler {
	l = l.withDefaults()
	return &guard{next: h, l: l, slots: make(chan struct{}, l.MaxReading), large: make(chan struct{}, l.MaxLargeReading),
		peers: newPeerSlots(l.MaxReadingPerPeer)}
}

type guard struct {
	next  http.Handler
	l     Limits
	slots chan struct{} // one token per request being read
	large chan struct{} // one more per request with a large body
	peers *peerSlots    // and one of its remote address's
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	if r.ContentLength > g.l.MaxBody {
		cut(w, rc, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	_ = rc.SetReadDeadline(time.Now().Add(g.l.BodyTimeout))
	var body *countedBody
	if r.Body != nil && r.Body != http.NoBody {
		body = &countedBody{
			ReadCloser: http.MaxBytesReader(w, r.Body, g.l.MaxBody),
			g:          g, ctx: r.Context(), peer: remoteHost(r.RemoteAddr),
			large: r.ContentLength > g.l.LargeBody || r.ContentLength < 0, // < 0: unknown (chunked)
		}
		defer body.release()
		r.Body = body
	}
	g.next.ServeHTTP(&guardedWriter{ResponseWriter: w, rc: rc, body: body}, r)
}

// ErrBusy is the error of reading a body when MaxReading requests are
// being read already and none finished within SlotWait. Handlers answer it
// with 503 (the connection is then closed).
var ErrBusy = errors.New("too many requests being read; try again")

// acquire waits until deadline for a token of slots.
func acquire(ctx context.Context, slots chan struct{}, deadline time.Time) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case slots <- struct{}{}:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// cut answers status and makes sure nothing more is read from the
// connection: no body left to drain, no next request.
func cut(w http.ResponseWriter, rc *http.ResponseController, status int, msg string) {
	w.Header().Set("Connection", "close")
	// net/http drains up to 256 KiB of an unread body after the handler;
	// a read deadline in the past makes that fail at once instead of
	// waiting on a sender that never finishes.
	_ = rc.SetReadDeadline(time.Now())
	http.Error(w, msg, status)
}

// countedBody is a request body that counts as being read from its first
// Read until it is read to its end, fails, is closed, or its handler
// returns: a request refused from its headers never takes a turn. Only the
// handler's goroutine uses it.
type countedBody struct {
	io.ReadCloser
	g     *guard
	ctx   context.Context
	peer  string
	large bool

	peerSlot chan struct{} // the peer's token, while held
	held     int           // tokens taken: 0, 1 (slots) or 2 (slots and large)
	finished bool          // no more turns: read to the end, failed or released
	busy     bool          // no turn was found: every later read fails too
	done     atomic.Bool   // read to the end; read by the writer
}

func (b *countedBody) Read(p []byte) (int, error) {
	if b.busy {
		return 0, ErrBusy
	}
	if b.finished {
		return b.ReadCloser.Read(p) // after the end or a failure: just the error again
	}
	if b.held == 0 {
		if err := b.take(); err != nil {
			b.finished, b.busy = true, true
			return 0, err
		}
	}
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		if errors.Is(err, io.EOF) {
			b.done.Store(true)
		}
		b.release()
	}
	return n, err
}

// take waits up to SlotWait for a turn of its peer's, then one of all (and,
// for a large body, a large one).
func (b *countedBody) take() error {
	deadline := time.Now().Add(b.g.l.SlotWait)
	b.peerSlot = b.g.peers.get(b.peer)
	if !acquire(b.ctx, b.peerSlot, deadline) {
		b.g.peers.put(b.peer, b.peerSlot, false)
		b.peerSlot = nil
		return ErrBusy
	}
	if !acquire(b.ctx, b.g.slots, deadline) {
		b.release()
		return ErrBusy
	}
	b.held = 1
	if b.large {
		if !acquire(b.ctx, b.g.large, deadline) {
			b.release()
			return ErrBusy
		}
		b.held = 2
	}
	return nil
}

func (b *countedBody) release() {
	b.finished = true
	if b.held == 2 {
		<-b.g.large
	}
	if b.held >= 1 {
		<-b.g.slots
	}
	if b.peerSlot != nil {
		b.g.peers.put(b.peer, b.peerSlot, true)
		b.peerSlot = nil
	}
	b.held = 0
}

func (b *countedBody) Close() error {
	b.release()
	return b.ReadCloser.Close()
}

// guardedWriter cuts the connection when a request is refused with its
// body unread, so that a refused body costs nothing.
type guardedWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	body    *countedBody // nil without a body
	written bool
}

func (w *guardedWriter) WriteHeader(status int) {
	if !w.written {
		w.written = true
		if status >= 400 && w.body != nil && !w.body.done.Load() {
			w.Header().Set("Connection", "close")
			if status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "1")
			}
			_ = w.rc.SetReadDeadline(time.Now()) // see cut
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *guardedWriter) Write(p []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Flush sends what is buffered.
func (w *guardedWriter) Flush() {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	_ = w.rc.Flush()
}

// Hijack hands the connection over (gorilla/websocket asserts
// http.Hijacker). An upgrade has no body, so it never held a turn.
func (w *guardedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.rc.Hijack()
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *guardedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
