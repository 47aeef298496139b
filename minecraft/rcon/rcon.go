// Package rcon runs console commands on a Minecraft server over its RCON
// port, with github.com/gorcon/rcon underneath. gorcon is not safe for
// concurrent use and reads exactly one packet per command, so a Console
// keeps one connection, runs one command at a time, and throws the
// connection away after any error or any reply that may have been cut
// (docs/protocols.md#rcon-replies, #rcon-and-gorcon).
package rcon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	gorcon "github.com/gorcon/rcon"

	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/minecraft"
)

// The library refuses longer commands than the bridge validates for (a
// compile-time check: the array length would be negative).
var _ [gorcon.MaxCommandLen - minecraft.MaxCommandBytes]struct{}

// ErrAuthFailed is wrapped by the error of a connection the server refused
// because the password is not its rcon.password.
var ErrAuthFailed = gorcon.ErrAuthFailed

// maxPacketPayload is where Minecraft cuts a reply into further packets
// without an end marker; gorcon reads only the first.
const maxPacketPayload = 4096

// Truncated is appended to a reply that filled a whole packet: the rest of
// the output was cut off.
const Truncated = "…"

// Options configure a Console.
type Options struct {
	Addr     string // host:port of the game's RCON
	Password string
	// Timeout bounds dialling and each packet read or write (default 10 s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Console is the RCON connection to one server. Run keeps it connected;
// Execute may be called from any goroutine (commands queue up).
//
// Only a command uses the connection, and only while it holds the turn.
// Run's session and a command may dial at the same time: the session stores
// its connection only if there is none, while a command keeps the one it
// dialled and closes any other, which the session may have opened to a
// server that has gone down since (the command knows its own is new, and
// holding the turn, that nobody is using the other).
type Console struct {
	opts  Options
	log   *slog.Logger
	state link.State

	// turn is held for a whole command: one command at a time on the one
	// connection. A channel, so waiting for it honours the caller's ctx.
	turn chan struct{}
	// broken wakes Run's session when a command found the server
	// unreachable.
	broken chan struct{}

	mu      sync.Mutex
	conn    *gorcon.Conn // nil while there is none
	lastErr error        // why the server was last unreachable
	stopped bool         // Run has returned; no more dialling
}

// New returns a Console for o; it does no I/O.
func New(o Options) *Console {
	if o.Timeout <= 0 {
		o.Timeout = link.DefaultRequestTimeout
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Console{
		opts:   o,
		log:    log.With("conn", "rcon", "addr", o.Addr),
		turn:   make(chan struct{}, 1),
		broken: make(chan struct{}, 1),
	}
}

// State is the connection state.
func (c *Console) State() *link.State { return &c.state }

// Run keeps a connection open until ctx ends, and returns nil then. RCON has
// no keep-alive, so a dead connection is noticed by the next command, which
// redials at once; Run redials in the background with backoff. Run may be
// called once.
func (c *Console) Run(ctx context.Context) error {
	link.Supervise(ctx, c.log, &c.state, c.session)
	c.mu.Lock()
	c.stopped = true
	conn := c.conn
	c.conn = nil
	c.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
	return nil
}

// session is one connection for link.Supervise: it lasts until a command
// reports the server unreachable and nobody has redialled since.
func (c *Console) session(ctx context.Context, up func()) error {
	if _, _, err := c.connection(ctx, false); err != nil {
		return err
	}
	up()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.broken:
			c.mu.Lock()
			alive, err := c.conn != nil, c.lastErr
			c.mu.Unlock()
			if !alive {
				return err
			}
			// A command has already redialled; keep watching.
		}
	}
}

// Execute runs one command and returns its output. Commands run one at a
// time; ctx bounds the wait for a turn and the command itself. Invalid
// commands (see minecraft.ValidateCommand) are refused before anything is
// sent.
//
// After any error the connection is closed, as gorcon would otherwise hand a
// late reply to the next command. If a connection that sat idle turns out
// dead (the server restarted), the command never reached a live server and
// is retried once on a new connection; a timeout is not retried, as the
// server may have run the command.
func (c *Console) Execute(ctx context.Context, cmd string) (string, error) {
	if err := minecraft.ValidateCommand(cmd); err != nil {
		return "", fmt.Errorf("rcon: %w", err)
	}
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("rcon: waiting for the previous command: %w", context.Cause(ctx))
	}
	defer func() { <-c.turn }()

	conn, fresh, err := c.connection(ctx, true)
	if err != nil {
		return "", err
	}
	out, err := c.execute(ctx, conn, cmd)
	if err != nil && !fresh && ctx.Err() == nil && neverDelivered(err) {
		c.log.Info("rcon connection had gone dead; retrying the command on a new one", "err", err.Error())
		// Dial even if the session has stored a connection meanwhile: it
		// may be as dead as this one.
		if conn, err = c.connect(ctx, true); err != nil {
			return "", err
		}
		out, err = c.execute(ctx, conn, cmd)
	}
	if err != nil {
		if ctx.Err() == nil { // not our own cancellation: the server is gone or stuck
			c.report(err)
		}
		return "", fmt.Errorf("rcon %q: %w", cmd, err)
	}
	return out, nil
}

// execute runs cmd once on conn. After an error conn is closed and
// forgotten.
func (c *Console) execute(ctx context.Context, conn *gorcon.Conn, cmd string) (string, error) {
	// gorcon knows no context; closing the connection interrupts it.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	out, err := conn.Execute(cmd)
	err = unprefixed(err)
	interrupted := !stop()
	switch {
	case err != nil && interrupted:
		c.forget(conn)
		return "", context.Cause(ctx)
	case err != nil:
		c.forget(conn)
		return "", err
	case interrupted:
		c.forget(conn) // the reply made it, but the connection is closed
	}
	// A reply that filled a whole packet may go on in further packets, which
	// would be read as the next command's reply: close the connection. (The
	// game cuts at 4096 bytes, then re-encodes the piece, so a cut inside a
	// multi-byte character can come out a few bytes longer.)
	if len(out) >= maxPacketPayload {
		c.log.Debug("rcon reply filled a packet; output cut", "cmd", cmd, "bytes", len(out))
		c.forget(conn)
		out += Truncated
	}
	return out, nil
}

// neverDelivered reports errors that show the connection was already dead
// when the command was written: the peer had closed or reset it.
func neverDelivered(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

// connection returns the open connection, or dials one inline so a command
// right after a server restart works without waiting for Run's backoff.
// fresh reports a connection dialled just now. A command calls it holding
// the turn; Run's session calls it without.
func (c *Console) connection(ctx context.Context, command bool) (conn *gorcon.Conn, fresh bool, err error) {
	c.mu.Lock()
	conn, stopped := c.conn, c.stopped
	c.mu.Unlock()
	if stopped {
		return nil, false, fmt.Errorf("rcon %s: console stopped: %w", c.opts.Addr, link.ErrNotConnected)
	}
	if conn != nil {
		return conn, false, nil
	}
	conn, err = c.connect(ctx, command)
	return conn, err == nil, err
}

// connect dials a connection and stores it as the open one. If another was
// stored meanwhile, a command (which holds the turn) closes that one and
// keeps its own; Run's session closes its own and returns the other.
func (c *Console) connect(ctx context.Context, command bool) (*gorcon.Conn, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.report(err)
		}
		return nil, fmt.Errorf("rcon %s: %w: %w", c.opts.Addr, link.ErrNotConnected, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		conn.Close()
		return nil, fmt.Errorf("rcon %s: console stopped: %w", c.opts.Addr, link.ErrNotConnected)
	}
	if other := c.conn; other != nil {
		if !command {
			conn.Close()
			return other, nil
		}
		other.Close()
	}
	c.conn, c.lastErr = conn, nil
	c.state.Set(true, nil)
	return conn, nil
}

// dial opens and authenticates a connection.
func (c *Console) dial(ctx context.Context) (*gorcon.Conn, error) {
	d := net.Dialer{Timeout: c.opts.Timeout}
	nc, err := d.DialContext(ctx, "tcp", c.opts.Addr)
	if err != nil {
		return nil, err
	}
	// gorcon's authentication knows no context either.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	conn, err := gorcon.Open(nc, c.opts.Password, gorcon.SetDeadline(c.opts.Timeout))
	if !stop() {
		nc.Close()
		return nil, fmt.Errorf("authenticating: %w", context.Cause(ctx))
	}
	if err != nil {
		err = unprefixed(err)
		nc.Close()
		if errors.Is(err, gorcon.ErrAuthFailed) {
			return nil, fmt.Errorf("authenticating: %w (wrong RCON password?)", err)
		}
		return nil, fmt.Errorf("authenticating: %w", &NotRCONError{Err: err})
	}
	return conn, nil
}

// NotRCONError is an authentication that got no answer RCON gives: the
// connection was made, but the peer let it time out, closed it or sent
// something that is no RCON packet, as another service's port does. Its
// text is the underlying error's.
type NotRCONError struct{ Err error }

func (e *NotRCONError) Error() string { return e.Err.Error() }
func (e *NotRCONError) Unwrap() error { return e.Err }

// gorconError is an error from gorcon without the "rcon: " it puts before
// its messages (twice on some paths): the bridge's own context says RCON
// already.
type gorconError struct{ err error }

func (e gorconError) Error() string {
	msg := e.err.Error()
	for strings.HasPrefix(msg, "rcon: ") {
		msg = strings.TrimPrefix(msg, "rcon: ")
	}
	return msg
}

func (e gorconError) Unwrap() error { return e.err }

// unprefixed wraps an error of gorcon's as a gorconError; nil stays nil.
func unprefixed(err error) error {
	if err == nil {
		return nil
	}
	return gorconError{err}
}

// forget closes conn and drops it if it is still the current connection.
func (c *Console) forget(conn *gorcon.Conn) {
	conn.Close()
	c.mu.Lock()
	if c.conn == conn {
		c.conn = nil
	}
	c.mu.Unlock()
}

// report records that the server could not be reached: the state goes down
// and Run's session hears about it.
func (c *Console) report(err error) {
	c.mu.Lock()
	c.lastErr = err
	c.mu.Unlock()
	c.state.Set(false, err)
	select {
	case c.broken <- struct{}{}:
	default: // a wake-up is already pending
	}
}
