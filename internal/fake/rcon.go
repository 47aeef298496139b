package fake

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"

	"github.com/gorcon/rcon"
)

// rconMaxPayload is where Minecraft cuts a reply into further packets,
// with no end marker (wiki.vg RCON; groundwork §2.1).
const rconMaxPayload = 4096

// RCON stands in for a Minecraft server's RCON console: vanilla's auth reply
// (a single AUTH_RESPONSE echoing the request ID, -1 on a wrong password),
// replies cut into 4096-byte packets, and the ability to crash (Stop) and
// come back on the same port (Restart), which gorcon's rcontest cannot do.
// Each connection is served on its own goroutine. Safe for concurrent use.
type RCON struct {
	password string
	handler  func(cmd string) string

	mu       sync.Mutex
	addr     string       // first bound address, reused by Restart
	ln       net.Listener // nil while stopped
	conns    map[net.Conn]struct{}
	commands []string
	serving  sync.WaitGroup // accept loop and connection goroutines
}

// NewRCON returns a stopped console that checks password and answers each
// command with handler (nil answers "").
func NewRCON(password string, handler func(cmd string) string) *RCON {
	if handler == nil {
		handler = func(string) string { return "" }
	}
	return &RCON{password: password, handler: handler, conns: make(map[net.Conn]struct{})}
}

// Start listens on addr ("127.0.0.1:0" picks a free port).
func (r *RCON) Start(addr string) error {
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
func (r *RCON) Addr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

// Stop simulates a crash: it stops listening and drops every connection.
// It returns when all connection goroutines have ended, so a handler that is
// still blocked must be released first.
func (r *RCON) Stop() {
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
func (r *RCON) Restart() error {
	addr := r.Addr()
	if addr == "" {
		return errors.New("rcon stand-in: Restart before Start")
	}
	return r.Start(addr)
}

// Commands returns every command received from an authenticated client, in
// order, across restarts.
func (r *RCON) Commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.commands)
}

func (r *RCON) accept(ln net.Listener) {
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
func (r *RCON) track(ln net.Listener, c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != ln {
		return false
	}
	r.conns[c] = struct{}{}
	r.serving.Add(1) // the accept loop is still counted, so the counter is not zero
	return true
}

func (r *RCON) serve(c net.Conn) {
	defer r.serving.Done()
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		c.Close()
	}()
	reply := func(id, typ int32, body string) error {
		_, err := rcon.NewPacket(typ, id, body).WriteTo(c)
		return err
	}
	authed := false
	for {
		var p rcon.Packet
		if _, err := p.ReadFrom(c); err != nil {
			return
		}
		var err error
		switch p.Type {
		case rcon.SERVERDATA_AUTH:
			authed = p.Body() == r.password
			id := p.ID
			if !authed {
				id = -1
			}
			err = reply(id, rcon.SERVERDATA_AUTH_RESPONSE, "")
		case rcon.SERVERDATA_EXECCOMMAND:
			if !authed {
				err = reply(-1, rcon.SERVERDATA_AUTH_RESPONSE, "")
				break
			}
			cmd := p.Body()
			r.mu.Lock()
			r.commands = append(r.commands, cmd)
			r.mu.Unlock()
			out := r.handler(cmd)
			for first := true; err == nil && (first || out != ""); first = false {
				n := min(len(out), rconMaxPayload)
				err = reply(p.ID, rcon.SERVERDATA_RESPONSE_VALUE, out[:n])
				out = out[n:]
			}
		default:
			err = reply(p.ID, rcon.SERVERDATA_RESPONSE_VALUE, "Unknown request "+strconv.FormatInt(int64(p.Type), 16))
		}
		if err != nil {
			return
		}
	}
}
