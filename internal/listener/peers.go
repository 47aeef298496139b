package listener

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// remoteHost is the address part of a remote "host:port".
func remoteHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// peerSlots hands out per-address turns: a channel of per tokens for each
// remote address with a body being read or waiting, dropped when none is.
// It is safe for concurrent use.
type peerSlots struct {
	per int
	mu  sync.Mutex
	m   map[string]*peerEntry
}

type peerEntry struct {
	slots chan struct{}
	users int // requests holding or waiting for one of slots
}

func newPeerSlots(per int) *peerSlots {
	return &peerSlots{per: per, m: map[string]*peerEntry{}}
}

// get returns the turns of host, counting the caller as a user until put.
func (p *peerSlots) get(host string) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.m[host]
	if e == nil {
		e = &peerEntry{slots: make(chan struct{}, p.per)}
		p.m[host] = e
	}
	e.users++
	return e.slots
}

// put ends a use of get, giving back the token when held.
func (p *peerSlots) put(host string, slots chan struct{}, held bool) {
	if held {
		<-slots
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.m[host]; e != nil && e.slots == slots {
		if e.users--; e.users == 0 {
			delete(p.m, host)
		}
	}
}

// LimitConns returns ln keeping at most l.MaxConns connections open, and
// at most l.MaxConnsPerPeer from one remote address; a connection beyond
// either is closed as soon as it is accepted, so a flood of idle
// connections costs neither goroutines nor buffers and the real peers,
// from their own addresses, still get in. Refusals are logged to log
// (the first, then a count at most once a minute). Closing a connection
// (by the server, or by whoever hijacked it) frees its place.
func LimitConns(ln net.Listener, l Limits, log *slog.Logger) net.Listener {
	l = l.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &limitedListener{Listener: ln, l: l, log: log, perPeer: map[string]int{}}
}

type limitedListener struct {
	net.Listener
	l   Limits
	log *slog.Logger

	mu       sync.Mutex
	open     int
	perPeer  map[string]int
	refused  int       // since the last log line
	loggedAt time.Time // of the last log line
}

func (ll *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := remoteHost(c.RemoteAddr().String())
		if ll.admit(host) {
			return &limitedConn{Conn: c, ll: ll, host: host}, nil
		}
		_ = c.Close()
	}
}

// admit counts a connection from host in, or reports it refused.
func (ll *limitedListener) admit(host string) bool {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	if ll.open < ll.l.MaxConns && ll.perPeer[host] < ll.l.MaxConnsPerPeer {
		ll.open++
		ll.perPeer[host]++
		return true
	}
	ll.refused++
	if now := time.Now(); now.Sub(ll.loggedAt) >= time.Minute {
		ll.log.Warn("refusing connections: too many open", "addr", ll.Addr().String(), "from", host,
			"open", ll.open, "from_that_address", ll.perPeer[host], "refused", ll.refused)
		ll.loggedAt, ll.refused = now, 0
	}
	return false
}

func (ll *limitedListener) leave(host string) {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	ll.open--
	if ll.perPeer[host]--; ll.perPeer[host] <= 0 {
		delete(ll.perPeer, host)
	}
}

// limitedConn gives its place back on its first Close.
type limitedConn struct {
	net.Conn
	ll     *limitedListener
	host   string
	closed atomic.Bool
}

func (c *limitedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.ll.leave(c.host)
	}
	return c.Conn.Close()
}
