// Package rcon is a loopback stand-in for a Minecraft server's RCON
// console, speaking the Source RCON protocol as vanilla does.
package rcon

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"

	gorcon "github.com/gorcon/rcon"
)

// maxPayload is where Minecraft cuts a reply into further packets,
// with no end marker (docs/protocols.md#rcon-replies).
const maxPayload = 4096

// Server stands in for a Minecraft server's RCON console: vanilla's auth reply
// (a single AUTH_RESPONSE echoing the request ID, -1 on a wrong password),
// replies cut into 4096-byte packets, and the ability to crash (Stop) and
// come back on the same port (Restart), which gorcon's rcontest cannot do.
// OnAuth lets a test hold a client at the login and drop it just after.
// Each connection is served on its own goroutine. Safe for concurrent use.
type Server struct {
	password string
	handler  func(cmd string) string

	mu       sync.Mutex
	onAuth   func() (keep bool) // nil lets every login through
	addr     string             // first bound address, reused by Restart
	ln       net.Listener       // nil while stopped
	conns    map[net.Conn]struct{}
	commands []string
	serving  sync.WaitGroup // accept loop and connection goroutines
}

// New returns a stopped console that checks password and answers each
// command with handler (nil answers "").
func New(password string, handler func(cmd string) string) *Server {
	if handler == nil {
		handler = func(string) string { return "" }
	}
	return &Server{password: password, handler: handler, conns: make(map[net.Conn]struct{})}
}

// Start listens on addr ("127.0.0.1:0" picks a free port).
func (r *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("rcon stand-in: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != nil {
		ln.Close()
		return errors.New("rcon stand-in: already started")
	}
	if r.addr == "" {
		r.addr = ln.Addr().String()
	}
	r.ln = ln
	r.serving.Add(1)
	go r.accept(ln)
	return nil
}

// Addr is the host:port the console listens on.
func (r *Server) Addr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

// Stop simulates a crash: it stops listening and drops every connection.
// It returns when all connection goroutines have ended, so a handler that is
// still blocked must be released first.
func (r *Server) Stop() {
	r.mu.Lock()
	ln := r.ln
	r.ln = nil
	conns := make([]net.Conn, 0, len(r.conns))
	for c := range r.conns {
		conns = append(conns, c)
	}
	clear(r.conns)
	r.mu.Unlock()

	if ln != nil {
		ln.Close()
	}
	for _, c := range conns {
		c.Close()
	}
	r.serving.Wait()
}

// Restart listens again on the port of the first Start.
func (r *Server) Restart() error {
	addr := r.Addr()
	if addr == "" {
		return errors.New("rcon stand-in: Restart before Start")
	}
	return r.Start(addr)
}

// OnAuth sets hook, run on a connection's goroutine each time a client
// gives the right password, before the answer goes out. The hook may block
// to hold that client at the login (Stop waits for it, so release it
// first). If it returns false the client is let in and then dropped at
// once, as by a server that goes down just after the login.
func (r *Server) OnAuth(hook func() (keep bool)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onAuth = hook
}

// Commands returns every command received from an authenticated client, in
// order, across restarts.
func (r *Server) Commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.commands)
}

func (r *Server) authHook() func() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.onAuth
}

func (r *Server) accept(ln net.Listener) {
	defer r.serving.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return // listener closed by Stop
		}
		if !r.track(ln, c) {
			c.Close()
			continue
		}
		go r.serve(c)
	}
}

// track registers a connection unless Stop has already run for ln.
func (r *Server) track(ln net.Listener, c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != ln {
		return false
	}
	r.conns[c] = struct{}{}
	r.serving.Add(1) // the accept loop is still counted, so the counter is not zero
	return true
}

func (r *Server) serve(c net.Conn) {
	defer r.serving.Done()
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		c.Close()
	}()
	reply := func(id, typ int32, body string) error {
		_, err := gorcon.NewPacket(typ, id, body).WriteTo(c)
		return err
	}
	authed := false
	for {
		var p gorcon.Packet
		if _, err := p.ReadFrom(c); err != nil {
			return
		}
		var err error
		switch p.Type {
		case gorcon.SERVERDATA_AUTH:
			authed = p.Body() == r.password
			id, keep := p.ID, true
			if !authed {
				id = -1
			} else if hook := r.authHook(); hook != nil {
				keep = hook()
			}
			err = reply(id, gorcon.SERVERDATA_AUTH_RESPONSE, "")
			if !keep {
				return
			}
		case gorcon.SERVERDATA_EXECCOMMAND:
			if !authed {
				err = reply(-1, gorcon.SERVERDATA_AUTH_RESPONSE, "")
				break
			}
			cmd := p.Body()
			r.mu.Lock()
			r.commands = append(r.commands, cmd)
			r.mu.Unlock()
			out := r.handler(cmd)
			for first := true; err == nil && (first || out != ""); first = false {
				n := min(len(out), maxPayload)
				err = reply(p.ID, gorcon.SERVERDATA_RESPONSE_VALUE, out[:n])
				out = out[n:]
			}
		default:
			err = reply(p.ID, gorcon.SERVERDATA_RESPONSE_VALUE, "Unknown request "+strconv.FormatInt(int64(p.Type), 16))
		}
		if err != nil {
			return
		}
	}
}
