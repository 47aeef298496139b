package ws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// peer is a plain gorilla server the session under test dials.
type peer struct {
	srv   *httptest.Server
	conns chan *websocket.Conn
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	p := &peer{conns: make(chan *websocket.Conn, 4)}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		p.conns <- c
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *peer) url() string { return "ws" + strings.TrimPrefix(p.srv.URL, "http") }

func (p *peer) accept(t *testing.T) *websocket.Conn {
	t.Helper()
	select {
	case c := <-p.conns:
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("peer: no connection")
		return nil
	}
}

// runSession dials the peer and runs the session in the background; the
// returned channel yields Run's result.
func runSession(t *testing.T, ctx context.Context, p *peer, o Options, onFrame func([]byte)) (*Session, *websocket.Conn, <-chan error) {
	t.Helper()
	s, err := Dial(ctx, p.url(), nil, o)
	if err != nil {
		t.Fatal(err)
	}
	c := p.accept(t)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, onFrame) }()
	return s, c, done
}

func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func TestConcurrentSendsAllArriveInOrderPerSender(t *testing.T) {
	p := newPeer(t)
	ctx, cancel := context.WithCancel(t.Context())
	s, c, done := runSession(t, ctx, p, Options{}, func([]byte) {})

	const senders, each = 8, 50
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				if err := s.Send(ctx, fmt.Appendf(nil, "%d:%d", g, i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	next := make([]int, senders)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range senders * each {
		_, data, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var g, i int
		fmt.Sscanf(string(data), "%d:%d", &g, &i)
		if i != next[g] {
			t.Fatalf("sender %d: got frame %d, want %d", g, i, next[g])
		}
		next[g]++
	}
	wg.Wait()
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
}

func TestOversizedFrameIsSkippedAndTheConnectionStays(t *testing.T) {
	p := newPeer(t)
	got := make(chan string, 4)
	ctx, cancel := context.WithCancel(t.Context())
	_, c, done := runSession(t, ctx, p, Options{ReadLimit: 1024}, func(f []byte) { got <- string(f) })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.WriteMessage(websocket.TextMessage, []byte("before")))
	must(c.WriteMessage(websocket.TextMessage, make([]byte, 5<<10)))
	must(c.WriteMessage(websocket.TextMessage, []byte("after")))
	for _, want := range []string{"before", "after"} {
		select {
		case f := <-got:
			if f != want {
				t.Fatalf("frame %q (len %d), want %q", f[:min(len(f), 10)], len(f), want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no frame %q", want)
		}
	}
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestPeerVanishingEndsRun(t *testing.T) {
	p := newPeer(t)
	_, c, done := runSession(t, t.Context(), p, Options{}, func([]byte) {})
	c.Close() // TCP gone without a close frame
	if err := wait(t, done); err == nil {
		t.Fatal("Run returned nil after the peer vanished")
	}
}

func TestSilentPeerIsDeclaredDead(t *testing.T) {
	p := newPeer(t)
	// The peer never reads, so it never answers our pings.
	_, _, done := runSession(t, t.Context(), p, Options{PingPeriod: 20 * time.Millisecond, PongWait: 100 * time.Millisecond}, func([]byte) {})
	err := wait(t, done)
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("Run = %v, want a read timeout", err)
	}
}

func TestCancelSendsNormalClosure(t *testing.T) {
	p := newPeer(t)
	ctx, cancel := context.WithCancel(t.Context())
	_, c, done := runSession(t, ctx, p, Options{}, func([]byte) {})
	got := make(chan error, 1)
	go func() {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err := c.ReadMessage()
		got <- err
	}()
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if err := <-got; !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("peer saw %v, want close 1000", err)
	}
}

func TestCallMatchesResponsesByEcho(t *testing.T) {
	p := newPeer(t)
	pend := NewPending("t-")
	s, c, done := runSession(t, t.Context(), p, Options{}, func(f []byte) {
		var r struct{ Echo string }
		if json.Unmarshal(f, &r) == nil {
			pend.Resolve(r.Echo, f)
		}
	})
	// The peer answers requests in reverse order of arrival, two at a time.
	go func() {
		for {
			var reqs [2]map[string]string
			for i := range reqs {
				if err := c.ReadJSON(&reqs[i]); err != nil {
					return
				}
			}
			for i := 1; i >= 0; i-- {
				_ = c.WriteJSON(map[string]string{"echo": reqs[i]["echo"], "answer": reqs[i]["q"]})
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			q := fmt.Sprint(i)
			resp, err := Call(t.Context(), s, pend, func(echo string) ([]byte, error) {
				return json.Marshal(map[string]string{"echo": echo, "q": q})
			})
			if err != nil {
				t.Error(err)
				return
			}
			var r map[string]string
			_ = json.Unmarshal(resp, &r)
			if r["answer"] != q {
				t.Errorf("request %s got answer %q", q, r["answer"])
			}
		})
	}
	wg.Wait()
	c.Close()
	wait(t, done)
}

func TestCallFailsFastWhenSessionEnds(t *testing.T) {
	p := newPeer(t)
	pend := NewPending("t-")
	s, c, done := runSession(t, t.Context(), p, Options{}, func([]byte) {})
	errc := make(chan error, 1)
	go func() {
		_, err := Call(t.Context(), s, pend, func(echo string) ([]byte, error) { return []byte(`{}`), nil })
		errc <- err
	}()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadMessage(); err != nil { // the request arrived; now vanish
		t.Fatal(err)
	}
	c.Close()
	wait(t, done)
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Call = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Call still waiting after the session ended")
	}
	if err := s.Send(t.Context(), []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after end = %v, want ErrClosed", err)
	}
}

func TestCallTimesOutAndLateReplyIsIgnored(t *testing.T) {
	p := newPeer(t)
	pend := NewPending("t-")
	s, c, done := runSession(t, t.Context(), p, Options{}, func(f []byte) {
		var r struct{ Echo string }
		_ = json.Unmarshal(f, &r)
		pend.Resolve(r.Echo, f)
	})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	var echo string
	_, err := Call(ctx, s, pend, func(e string) ([]byte, error) { echo = e; return []byte(`{}`), nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call = %v, want deadline exceeded", err)
	}
	if pend.Resolve(echo, []byte(`{}`)) {
		t.Fatal("a late reply was matched to a finished request")
	}
	c.Close()
	wait(t, done)
}

func TestDialReportsRefusedHandshake(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad token", http.StatusUnauthorized)
	}))
	defer srv.Close()
	_, err := Dial(t.Context(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "bad token") {
		t.Fatalf("Dial = %v, want the 401 and its body", err)
	}
}

// A URL with credentials dials (gorilla alone refuses it) and presents them
// as Basic authorization, unless the caller set an Authorization header.
func TestDialSendsURLCredentials(t *testing.T) {
	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Authorization")
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer srv.Close()
	withUser := "ws://bot:p%40ss@" + strings.TrimPrefix(srv.URL, "http://") + "/event"
	ctx := context.Background()
	if _, err := Dial(ctx, withUser, nil, Options{}); !errors.As(err, new(*HandshakeError)) {
		t.Fatalf("Dial = %v; want the server's refusal", err)
	}
	if a := <-got; a != "Basic Ym90OnBAc3M=" { // bot:p@ss
		t.Errorf("Authorization %q", a)
	}
	h := http.Header{"Authorization": {"Bearer tok"}}
	if _, err := Dial(ctx, withUser, h, Options{}); !errors.As(err, new(*HandshakeError)) {
		t.Fatalf("Dial = %v", err)
	}
	if a := <-got; a != "Bearer tok" {
		t.Errorf("Authorization %q; want the caller's", a)
	}
	if h.Get("Authorization") != "Bearer tok" || len(h) != 1 {
		t.Errorf("the caller's header was changed: %v", h)
	}
}

// A port that accepts the connection but answers in another protocol is a
// NoHandshakeError (the hint says "it is not …: check the port"); TLS
// failing (an untrusted certificate, wss:// to a plain port) is not, as the
// port is the right one.
func TestNoHandshakeErrorIsAnotherProtocolNotTLS(t *testing.T) {
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	go func() {
		for {
			c, err := other.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("\x00\x00\x00\x0aRCON-ish garbage\n"))
			c.Close()
		}
	}()
	untrusted := httptest.NewTLSServer(http.NotFoundHandler())
	defer untrusted.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()

	var nh *NoHandshakeError
	ctx := context.Background()
	if _, err := Dial(ctx, "ws://"+other.Addr().String()+"/", nil, Options{}); !errors.As(err, &nh) {
		t.Errorf("another protocol: %v (%T); want a NoHandshakeError", err, err)
	}
	for name, u := range map[string]string{
		"untrusted certificate": "wss://" + strings.TrimPrefix(untrusted.URL, "https://") + "/",
		"wss to a plain port":   "wss://" + strings.TrimPrefix(plain.URL, "http://") + "/",
	} {
		if _, err := Dial(ctx, u, nil, Options{}); err == nil || errors.As(err, &nh) {
			t.Errorf("%s: %v; want a TLS error, not a NoHandshakeError", name, err)
		}
	}
}
