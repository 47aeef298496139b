// Package queqiao is a loopback stand-in for the QueQiao plugin (protocol
// V2) on a Minecraft server: the WebSocket server the bridge dials, or a
// client dialling the bridge's listener, answering API requests with the
// plugin's codes and shapes and pushing player events.
package queqiao

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mcqq/bridge/internal/standin"
)

// Options configures the QueQiao plugin stand-in.
type Options struct {
	ServerName string // the plugin's server_name, checked against x-self-name; default "Server"
	Token      string // the plugin's access_token; "" disables the check
	Version    string // server_version in events and get_status; default "1.21.1"
	ServerType string // server_type; default "fabric"
	// MessagePrefix is the plugin's message_prefix, put before every
	// broadcast in chat (see Shown); default "[鹊桥]", as the plugin's.
	MessagePrefix string
	Logger        *slog.Logger
	// StrictComponents parses broadcast messages like Fabric and NeoForge,
	// with the strict component codec of Version: a field in the wrong
	// spelling or shape fails the call as "解析消息失败".
	StrictComponents bool
}

// Request is one API request the stand-in received.
type Request struct {
	API  string
	Data json.RawMessage
	Echo string    // "" when the request had none
	At   time.Time // when it arrived
}

// Server stands in for the QueQiao plugin (QueQiaoTool 0.6.8, protocol V2):
// in forward mode it is the WebSocket server the bridge dials; DialReverse
// makes it dial the bridge like websocket_client does. It validates the
// handshake after the upgrade and answers requests with the plugin's exact
// codes, messages and null-filled shapes. Safe for concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger

	// server tracks the accepted and dialled connections; it counts only
	// the server's own goroutines, as DialReverse runs on the caller's.
	server *standin.Server

	mu       sync.Mutex
	requests []Request
	counts   map[string]int  // requests per API
	waiters  []requestWaiter // WaitRequests calls waiting, each woken once when its count is reached
	online   []string
	rcon     func(cmd string) string
	silent   map[string]bool
	reject   map[string]int // API → how many of its next requests fail with the plugin's 500
	latency  time.Duration  // network delay added to every answer
}

// New returns a stopped stand-in; call Start or DialReverse.
func New(o Options) *Server {
	if o.ServerName == "" {
		o.ServerName = "Server"
	}
	if o.Version == "" {
		o.Version = "1.21.1"
	}
	if o.ServerType == "" {
		o.ServerType = "fabric"
	}
	if o.MessagePrefix == "" {
		o.MessagePrefix = DefaultMessagePrefix
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &Server{
		opts:   o,
		log:    log.With("standin", "queqiao", "server", o.ServerName),
		silent: make(map[string]bool),
		reject: make(map[string]int),
		counts: make(map[string]int),
	}
	q.server = standin.NewServer("queqiao stand-in", q.log, func(run *standin.Run) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { q.serveHTTP(run, w, r) })
	})
	return q
}

// Start listens on addr ("127.0.0.1:0" picks a free port). Any request path
// is accepted, as the plugin ignores it.
func (q *Server) Start(addr string) error { return q.server.Start(addr) }

// URL is the forward-mode address, e.g. ws://127.0.0.1:41234/.
func (q *Server) URL() string { return "ws://" + q.server.Address() + "/" }

// Stop simulates a crash: it stops listening and drops every connection,
// accepted or dialled, without a close frame. It returns once the server's
// goroutines have ended.
func (q *Server) Stop() { q.server.Stop() }

// Restart listens again on the port of the first Start.
func (q *Server) Restart() error { return q.server.Restart() }

// Connected is the number of open connections that passed the handshake.
func (q *Server) Connected() int { return q.server.Connected() }

// Requests returns every API request received so far, in order.
func (q *Server) Requests() []Request {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.requests)
}

// SetOnline sets the players online (send_private_msg targets and the
// get_status counts).
func (q *Server) SetOnline(players ...string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.online = slices.Clone(players)
}

// SetRCON sets what answers send_rcon_command; nil gives the plugin's reply
// for a disabled RCON.
func (q *Server) SetRCON(fn func(cmd string) string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rcon = fn
}

// WaitRequests waits until n requests of api have arrived (across restarts),
// or fails when ctx ends. Benchmarks use it to see a message arrive without
// polling; Requests has the contents.
func (q *Server) WaitRequests(ctx context.Context, api string, n int) error {
	q.mu.Lock()
	if q.counts[api] >= n {
		q.mu.Unlock()
		return nil
	}
	w := requestWaiter{api: api, n: n, reached: make(chan struct{})}
	q.waiters = append(q.waiters, w)
	q.mu.Unlock()
	select {
	case <-w.reached:
		return nil
	case <-ctx.Done():
		q.mu.Lock()
		defer q.mu.Unlock()
		q.waiters = slices.DeleteFunc(q.waiters, func(o requestWaiter) bool { return o.reached == w.reached })
		if q.counts[api] >= n { // reached as ctx ended
			return nil
		}
		return fmt.Errorf("queqiao stand-in: %d of %d %s requests: %w", q.counts[api], n, api, ctx.Err())
	}
}

// requestWaiter is one WaitRequests call: reached is closed once n requests
// of api have arrived. Only the request that reaches n wakes it, so a
// benchmark waiting for thousands of requests is not woken by each.
type requestWaiter struct {
	api     string
	n       int
	reached chan struct{}
}

// wakeWaitersLocked wakes the waiters for api whose count is reached.
func (q *Server) wakeWaitersLocked(api string) {
	q.waiters = slices.DeleteFunc(q.waiters, func(w requestWaiter) bool {
		if w.api != api || q.counts[api] < w.n {
			return false
		}
		close(w.reached)
		return true
	})
}

// SetLatency delays every answer by d, as a network between the bridge and
// the plugin would: requests are still handled at once and in order, and
// their answers follow each other d later, so several requests can be in
// flight.
func (q *Server) SetLatency(d time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.latency = d
}

// RejectNext makes the next n requests of api fail the way the plugin fails
// a request the game refuses (a component its codec rejects): code 500,
// api and echo null, the raw request quoted in data.
func (q *Server) RejectNext(api string, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.reject[api] += n
}

// SetSilent makes the stand-in never answer api (for timeout tests).
func (q *Server) SetSilent(api string, silent bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.silent[api] = silent
}

// serveHTTP upgrades first and validates afterwards, as Java-WebSocket's
// onOpen does: a refused bot sees 101 and then close 1008 with a reason.
func (q *Server) serveHTTP(run *standin.Run, w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		q.log.Debug("upgrade failed", "err", err)
		return
	}
	conn := standin.NewConn(ws)
	if reason := q.handshakeRejection(r); reason != "" {
		q.log.Debug("refusing connection", "peer", r.RemoteAddr, "reason", reason)
		conn.Close(websocket.ClosePolicyViolation, reason)
		return
	}
	q.server.ServeAccepted(run, conn, q.readRequests)
}

// handshakeRejection returns the close reason the plugin would give, in the
// plugin's order of checks (fixture handshake_rejections.json), or "".
func (q *Server) handshakeRejection(r *http.Request) string {
	// Since 0.5.0 each field may come as a query parameter; the header wins.
	field := func(name string) string {
		if v := r.Header.Get(name); v != "" {
			return v
		}
		return r.URL.Query().Get(name)
	}
	rawName := field("x-self-name")
	if rawName == "" {
		return "Missing X-Self-name Header"
	}
	if strings.EqualFold(field("x-client-origin"), "minecraft") {
		return "X-Client-Origin Header cannot be minecraft"
	}
	name, err := url.QueryUnescape(rawName) // Java URLDecoder: "+" is a space
	if err != nil {
		return "X-Self-name Header decode failed"
	}
	if strings.TrimSpace(name) == "" {
		return "X-Self-name Header cannot be empty"
	}
	if name != q.opts.ServerName {
		return "X-Self-name Header is wrong"
	}
	if q.opts.Token != "" && field("Authorization") != "Bearer "+q.opts.Token {
		return "Authorization Header is wrong"
	}
	return ""
}

// DialReverse acts as the plugin's websocket_client dialling url (the
// bridge's MC_LISTEN). It returns nil when ctx ends, or an error when the
// handshake is refused (with the HTTP status and body) or the connection
// drops.
func (q *Server) DialReverse(ctx context.Context, target string) error {
	h := http.Header{}
	h.Set("x-self-name", url.QueryEscape(q.opts.ServerName)) // URLEncoder: space → "+"
	h.Set("x-client-origin", "minecraft")
	if q.opts.Token != "" {
		h.Set("Authorization", "Bearer "+q.opts.Token)
	}
	return q.server.DialAndServe(ctx, target, h, 10*time.Second, q.readRequests)
}

// readRequests answers requests on conn, in order, until it fails. Answers
// go out through a writer goroutine that adds the configured latency.
func (q *Server) readRequests(c *standin.Conn) error {
	type answer struct {
		frame []byte
		due   time.Time
	}
	answers := make(chan answer, 1024)
	writerDone := make(chan error, 1)
	go func() {
		for a := range answers {
			if d := time.Until(a.due); d > 0 {
				time.Sleep(d) // the simulated network; closing the connection ends the reader, then this
			}
			if err := c.Write(a.frame); err != nil {
				for range answers { // let the reader finish
				}
				writerDone <- err
				return
			}
		}
		writerDone <- nil
	}()
	err := func() error {
		for {
			typ, frame, err := c.ReadMessage()
			if err != nil {
				return err
			}
			if typ != websocket.TextMessage {
				continue // the plugin ignores binary frames
			}
			resp, ok := q.answer(frame)
			if !ok {
				continue
			}
			out, err := encodeAnswer(resp)
			if err != nil {
				return err
			}
			q.mu.Lock()
			due := time.Now().Add(q.latency)
			q.mu.Unlock()
			answers <- answer{out, due}
		}
	}()
	close(answers)
	if werr := <-writerDone; err == nil {
		err = werr
	}
	return err
}
