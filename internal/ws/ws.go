// Package ws is the one WebSocket session every transport uses (OneBot forward
// and reverse, QueQiao forward and reverse): exactly one reader and one writer
// goroutine per connection, as gorilla/websocket requires, pings with a read
// deadline so a silent peer is noticed, a read limit, a graceful close, and a
// table of pending requests matched by echo.
package ws

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mcqq/bridge/internal/safetext"
)

// Options tune a session. Zero values take the defaults.
type Options struct {
	// ReadLimit is the largest frame accepted (default 4 MiB).
	// A larger frame is read to its end, keeping no more than the limit,
	// logged and skipped; the connection stays up.
	ReadLimit int64
	// PingPeriod is how often the writer pings the peer (default 30 s).
	PingPeriod time.Duration
	// PongWait is how long the reader waits for any frame, pong included,
	// before declaring the peer dead (default 75 s).
	PongWait time.Duration
	// WriteWait bounds each write (default 10 s).
	WriteWait time.Duration
	// Logger receives one line per skipped frame; nil discards.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.ReadLimit <= 0 {
		o.ReadLimit = 4 << 20
	}
	if o.PingPeriod <= 0 {
		o.PingPeriod = 30 * time.Second
	}
	if o.PongWait <= 0 {
		o.PongWait = 75 * time.Second
	}
	if o.WriteWait <= 0 {
		o.WriteWait = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// HandshakeError is a WebSocket upgrade the server refused with an HTTP
// answer, e.g. 401 for a wrong token.
type HandshakeError struct {
	StatusCode int
	Status     string // "401 Unauthorized"
	Body       string // the start of the response body, on one line
}

func (e *HandshakeError) Error() string {
	msg := "handshake: " + e.Status
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// NoHandshakeError is a dial whose TCP connection was made but which then
// got neither a WebSocket nor an HTTP answer (a timeout, a closed
// connection, bytes that are not HTTP): something listens on the port, but
// not a WebSocket server. Its text is the underlying error's.
type NoHandshakeError struct{ Err error }

func (e *NoHandshakeError) Error() string { return e.Err.Error() }
func (e *NoHandshakeError) Unwrap() error { return e.Err }

// ErrClosed is returned by Send once the session has ended.
var ErrClosed = errors.New("websocket session closed")

// Session is one WebSocket connection. Send and Close may be called from any
// goroutine; Run must be called exactly once.
type Session struct {
	conn  *websocket.Conn
	batch *batchConn // the dialled connection under conn; nil for accepted ones
	opts  Options
	out   chan []byte
	done  chan struct{} // closed when Run is over
	once  sync.Once
}

func newSession(c *websocket.Conn, o Options) *Session {
	o = o.withDefaults()
	return &Session{conn: c, opts: o, out: make(chan []byte, 64), done: make(chan struct{})}
}

// Dial opens a client session. A refused handshake is reported with the HTTP
// status, e.g. "handshake: 401 Unauthorized", a connection that got no HTTP
// answer as a *NoHandshakeError. Credentials in the URL
// ("ws://user:password@host") go as Basic authorization unless header has an
// Authorization already (gorilla refuses a URL carrying them).
func Dial(ctx context.Context, rawURL string, header http.Header, o Options) (*Session, error) {
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		header = header.Clone()
		if header == nil {
			header = http.Header{}
		}
		if header.Get("Authorization") == "" {
			password, _ := u.User.Password()
			req := http.Request{Header: header}
			req.SetBasicAuth(u.User.Username(), password)
		}
		u.User = nil
		rawURL = u.String()
	}
	var batch *batchConn
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var nd net.Dialer
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			batch = &batchConn{Conn: c}
			return batch, nil
		}}
	c, resp, err := d.DialContext(ctx, rawURL, header)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
			resp.Body.Close()
			return nil, &HandshakeError{StatusCode: resp.StatusCode, Status: resp.Status,
				Body: safetext.OneLine(strings.ToValidUTF8(string(body), "?"))}
		}
		if batch != nil && ctx.Err() == nil && !tlsFailure(err) {
			return nil, &NoHandshakeError{Err: err}
		}
		return nil, err
	}
	s := newSession(c, o)
	s.batch = batch
	return s, nil
}

// tlsFailure reports whether err is TLS failing (a certificate not trusted,
// wss:// to a plain port): the port is right, so it is not another
// protocol's.
func tlsFailure(err error) bool {
	var cert *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var alert tls.AlertError
	return errors.As(err, &cert) || errors.As(err, &record) || errors.As(err, &unknown) ||
		errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &alert)
}

// Accept upgrades an HTTP request to a server session. Callers check tokens
// before calling it: a peer with a wrong token gets 401/403 and never a
// WebSocket.
func Accept(w http.ResponseWriter, r *http.Request, o Options) (*Session, error) {
	up := websocket.Upgrader{} // nil CheckOrigin: bots send no Origin header
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return nil, err
	}
	return newSession(c, o), nil
}

// RemoteAddr is the peer's address.
func (s *Session) RemoteAddr() string { return s.conn.RemoteAddr().String() }

// Send queues one text frame for the writer. It fails with ErrClosed once the
// session is over, or with the context's error.
func (s *Session) Send(ctx context.Context, frame []byte) error {
	select {
	case <-s.done:
		return ErrClosed
	default:
	}
	select {
	case s.out <- frame:
		return nil
	case <-s.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Close sends a close frame with code and reason and drops the connection.
// Safe from any goroutine and more than once.
func (s *Session) Close(code int, reason string) {
	s.once.Do(func() {
		_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason),
			time.Now().Add(time.Second))
		_ = s.conn.Close()
	})
}

// Run reads frames and hands each text frame to onFrame, while a writer
// goroutine sends queued frames and pings. onFrame runs in the reader
// goroutine and must never block: while it waits nothing more is read, so
// the answers to the client's own requests would stay unread behind the
// frame (the clients hand events to an internal/inbox queue, whose Push
// never blocks, and answers to their Pending table). Run returns when the
// connection fails, with the reason, or when ctx ends, after a normal close
// (1000), with nil.
func (s *Session) Run(ctx context.Context, onFrame func([]byte)) error {
	defer close(s.done)
	writerDone := make(chan error, 1)
	stopWriter := make(chan struct{})
	go func() { writerDone <- s.write(stopWriter) }()

	readDone := make(chan error, 1)
	go func() { readDone <- s.read(onFrame) }()

	var err error
	select {
	case err = <-readDone:
		s.Close(websocket.CloseNormalClosure, "")
		close(stopWriter)
		<-writerDone
	case err = <-writerDone:
		close(stopWriter)
		s.Close(websocket.CloseGoingAway, "")
		<-readDone
	case <-ctx.Done():
		close(stopWriter)
		<-writerDone
		// A normal close; give the peer a moment to echo it so the reader
		// ends cleanly, then drop the connection regardless.
		_ = s.conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		select {
		case <-readDone:
			s.Close(websocket.CloseNormalClosure, "")
		case <-time.After(time.Second):
			s.Close(websocket.CloseNormalClosure, "")
			<-readDone
		}
		return nil
	}
	return err
}

func (s *Session) read(onFrame func([]byte)) error {
	// Frames are read into one reused buffer and handed on as an exact-size
	// copy (onFrame may keep it): one allocation per frame instead of
	// io.ReadAll's growing series. A buffer grown by a rare large frame is
	// not kept.
	var buf bytes.Buffer
	var limited io.LimitedReader // reused: one per frame would be an allocation each
	const keepBuffer = 64 << 10
	extend := func() { _ = s.conn.SetReadDeadline(time.Now().Add(s.opts.PongWait)) }
	extend()
	s.conn.SetPongHandler(func(string) error { extend(); return nil })
	defaultPing := s.conn.PingHandler()
	s.conn.SetPingHandler(func(data string) error { extend(); return defaultPing(data) })
	for {
		_, r, err := s.conn.NextReader() // text or binary; control frames go to the handlers
		if err != nil {
			return err
		}
		extend()
		if buf.Cap() > keepBuffer {
			buf = bytes.Buffer{}
		}
		buf.Reset()
		limited.R, limited.N = r, s.opts.ReadLimit+1
		if _, err := buf.ReadFrom(&limited); err != nil {
			return err
		}
		data := buf.Bytes()
		if int64(len(data)) > s.opts.ReadLimit {
			// The rest is discarded as it streams in, so an oversized frame
			// costs no more memory than the limit and not the connection.
			rest, err := io.Copy(io.Discard, r)
			if err != nil {
				return err
			}
			s.opts.Logger.Warn("skipped a frame over the size limit",
				"bytes", int64(len(data))+rest, "limit", s.opts.ReadLimit, "peer", s.RemoteAddr())
			continue
		}
		onFrame(bytes.Clone(data))
	}
}

func (s *Session) write(stop <-chan struct{}) error {
	ping := time.NewTicker(s.opts.PingPeriod)
	defer ping.Stop()
	for {
		select {
		case <-stop:
			// Flush what is already queued so a graceful shutdown delivers it.
			for {
				select {
				case f := <-s.out:
					if err := s.writeFrame(f); err != nil {
						return err
					}
				default:
					return nil
				}
			}
		case f := <-s.out:
			if err := s.writeFrames(f); err != nil {
				return err
			}
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.opts.WriteWait)); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		}
	}
}

// writeFrames writes f and whatever else is queued right now (up to a
// channel's worth), with one write to the connection where it can.
func (s *Session) writeFrames(f []byte) error {
	if s.batch == nil {
		return s.writeFrame(f)
	}
	s.batch.begin()
	err := s.writeFrame(f)
	for n := 1; err == nil && n < cap(s.out); n++ {
		select {
		case next := <-s.out:
			err = s.writeFrame(next)
			continue
		default:
		}
		break
	}
	if ferr := s.batch.flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write: %w", ferr)
	}
	return err
}

func (s *Session) writeFrame(f []byte) error {
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.opts.WriteWait))
	if err := s.conn.WriteMessage(websocket.TextMessage, f); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// CloseText returns the close code and reason when err is a WebSocket close,
// e.g. QueQiao's 1008 "Authorization Header is wrong".
func CloseText(err error) (code int, reason string, ok bool) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Text, true
	}
	return 0, "", false
}
