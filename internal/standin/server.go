package standin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Server is the restartable HTTP server behind the OneBot, QueQiao, Milky
// and Satori stand-ins. Start keeps the first bound address so Restart comes
// back on the same port; Stop simulates a crash and returns only once every
// goroutine it counts has ended. It also tracks the stand-in's open
// WebSocket connections, accepted or dialled, under the same lock as the
// running state, so Stop never misses one it must drop. Safe for concurrent
// use.
type Server struct {
	what    string                      // error prefix, e.g. "onebot stand-in"
	log     *slog.Logger                // gets the http.Server's own errors
	handler func(run *Run) http.Handler // builds each run's handler

	mu       sync.Mutex
	addr     string // first bound address, reused by Restart
	run      *Run   // nil while stopped
	stopping bool   // Stop is dropping connections; none may join
	conns    map[*Conn]struct{}
	handlers sync.WaitGroup // Serve loops and every counted handler
}

// Run is one Start…Stop period of a Server.
type Run struct {
	srv *http.Server
	// stop is closed when Stop begins, to end what srv.Close cannot reach:
	// streams on hijacked connections.
	stop chan struct{}
}

// Stopping is closed when Stop begins for this run. Handlers that hold a
// request open (event streams, silenced actions) end when it is.
func (r *Run) Stopping() <-chan struct{} { return r.stop }

// NewServer returns a stopped server. what prefixes its errors (e.g.
// "onebot stand-in"), log gets the http.Server's own errors, and handler
// builds the handler of each Start…Stop period.
func NewServer(what string, log *slog.Logger, handler func(run *Run) http.Handler) *Server {
	return &Server{what: what, log: log, handler: handler, conns: make(map[*Conn]struct{})}
}

// Start listens on addr and serves. Every request is counted, and refused
// with 503 once Stop has begun for its run.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: %w", s.what, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != nil || s.stopping {
		ln.Close()
		return fmt.Errorf("%s: already started", s.what)
	}
	if s.addr == "" {
		s.addr = ln.Addr().String()
	}
	run := &Run{stop: make(chan struct{})}
	handler := s.handler(run)
	run.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !s.Enter(run) {
				http.Error(w, "stopping", http.StatusServiceUnavailable)
				return
			}
			defer s.Leave()
			handler.ServeHTTP(w, r)
		}),
	}
	s.run = run
	s.handlers.Add(1)
	go func() {
		defer s.handlers.Done()
		_ = run.srv.Serve(ln)
	}()
	return nil
}

// Restart listens again on the address of the first Start.
func (s *Server) Restart() error {
	addr := s.Address()
	if addr == "" {
		return fmt.Errorf("%s: Restart before Start", s.what)
	}
	return s.Start(addr)
}

// Address is the first bound host:port, "" before the first Start.
func (s *Server) Address() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Stop closes the server and drops every tracked connection without a close
// frame, then waits for every counted goroutine.
func (s *Server) Stop() {
	s.mu.Lock()
	run := s.run
	s.run = nil
	s.stopping = true
	conns := s.connectionsLocked()
	clear(s.conns)
	s.mu.Unlock()

	if run != nil {
		close(run.stop)
		_ = run.srv.Close()
	}
	for _, c := range conns {
		_ = c.ws.Close()
	}
	s.handlers.Wait()
	s.mu.Lock()
	s.stopping = false
	s.mu.Unlock()
}

// Enter counts a goroutine in, so Stop waits for it, unless Stop is under
// way or run (nil for a dialled connection) is no longer the running one.
// A goroutine that entered calls Leave.
func (s *Server) Enter(run *Run) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.liveLocked(run) {
		return false
	}
	s.handlers.Add(1)
	return true
}

// Leave counts out a goroutine that Enter counted in.
func (s *Server) Leave() { s.handlers.Done() }

// addConn tracks an open connection under the same condition as Enter.
func (s *Server) addConn(c *Conn, run *Run) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.liveLocked(run) {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) liveLocked(run *Run) bool {
	return !s.stopping && (run == nil || s.run == run)
}

// ServeAccepted tracks conn, accepted by run, while serve runs on it. A
// connection that comes once Stop has begun is dropped at once.
func (s *Server) ServeAccepted(run *Run, conn *Conn, serve func(*Conn) error) {
	if !s.addConn(conn, run) {
		_ = conn.ws.Close()
		return
	}
	defer s.removeConn(conn)
	_ = serve(conn)
}

// removeConn stops tracking c and drops it.
func (s *Server) removeConn(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	_ = c.ws.Close()
}

// Connected is the number of tracked connections.
func (s *Server) Connected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) connectionsLocked() []*Conn {
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns
}

// Emit writes frame to every tracked connection; a failed write is logged
// and the connection's reader notices the failure.
func (s *Server) Emit(frame []byte) {
	s.mu.Lock()
	conns := s.connectionsLocked()
	s.mu.Unlock()
	for _, c := range conns {
		if c.noEvents.Load() {
			continue
		}
		if err := c.Write(frame); err != nil {
			s.log.Debug("emit failed", "err", err)
		}
	}
}

// DialAndServe connects to a bridge's reverse WebSocket listener as the
// real peer does, tracks the connection and runs serve on it. It returns
// nil once ctx has ended, which closes the connection with a normal close
// frame, or an error when the handshake is refused (with the HTTP status and
// the start of the body) or the connection drops.
func (s *Server) DialAndServe(ctx context.Context, url string, h http.Header, handshakeTimeout time.Duration,
	serve func(*Conn) error) error {
	d := websocket.Dialer{HandshakeTimeout: handshakeTimeout}
	ws, resp, err := d.DialContext(ctx, url, h)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			return fmt.Errorf("%s: dial %s: %s: %s", s.what, url, resp.Status, strings.TrimSpace(string(body)))
		}
		return fmt.Errorf("%s: dial %s: %w", s.what, url, err)
	}
	conn := &Conn{ws: ws}
	if !s.addConn(conn, nil) {
		_ = ws.Close()
		return fmt.Errorf("%s: stopping", s.what)
	}
	defer s.removeConn(conn)

	closed := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(closed)
		conn.Close(websocket.CloseNormalClosure, "")
	})
	err = serve(conn)
	if !stop() {
		<-closed
		return nil
	}
	return fmt.Errorf("%s: connection to %s dropped: %w", s.what, url, err)
}

// PostWebhook posts frame to url as a bot's HTTP event reporter does: a JSON
// body with header added. A failed request or an answer other than 2xx is
// an error with the status and the start of the body.
func (s *Server) PostWebhook(ctx context.Context, url string, frame []byte, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(frame))
	if err != nil {
		return fmt.Errorf("%s webhook: %w", s.what, err)
	}
	req.Header = header.Clone()
	req.Header.Set("Content-Type", "application/json")
	// No keep-alive: nothing of the stand-in outlives the call.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s webhook: %w", s.what, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s webhook: HTTP %s: %s", s.what, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// Conn is one open WebSocket connection, accepted or dialled.
// gorilla/websocket allows one writer at a time, so every writer (replies,
// pushed events, heartbeats) takes wmu; the one reader is the connection's
// serve loop.
type Conn struct {
	ws       *websocket.Conn
	wmu      sync.Mutex
	noEvents atomic.Bool // Emit skips it (a bot's actions-only socket)
}

// MuteEvents makes Emit skip c, as a bot does for a socket that carries
// actions only.
func (c *Conn) MuteEvents() { c.noEvents.Store(true) }

// NewConn wraps an accepted WebSocket connection.
func NewConn(ws *websocket.Conn) *Conn { return &Conn{ws: ws} }

// WriteWait bounds every write to a client: a frame, or an SSE event.
const WriteWait = 5 * time.Second

// Write sends frame as one text message.
func (c *Conn) Write(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(WriteWait))
	return c.ws.WriteMessage(websocket.TextMessage, frame)
}

// ReadMessage reads the next message; only the serve loop calls it.
func (c *Conn) ReadMessage() (messageType int, frame []byte, err error) {
	return c.ws.ReadMessage()
}

// Close sends a close frame, then drops the connection.
func (c *Conn) Close(code int, reason string) {
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason),
		time.Now().Add(time.Second))
	_ = c.ws.Close()
}
