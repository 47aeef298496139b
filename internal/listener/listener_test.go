package listener

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mcqq/bridge/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve runs h behind NewServer on a loopback port until the test ends.
func serve(t *testing.T, h http.Handler, l Limits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h, l, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(LimitConns(ln, l, nil))
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

// post opens a connection and sends a POST's headers declaring length
// bytes of body, then the first sent of them; the rest never comes unless
// the test writes it.
func post(t *testing.T, addr string, length, sent int, extra string) net.Conn {
	t.Helper()
	return postFrom(t, "127.0.0.1", addr, length, sent, extra)
}

// postFrom is post from the loopback address from (127.0.0.1, 127.0.0.2…),
// a peer of its own.
func postFrom(t *testing.T, from, addr string, length, sent int, extra string) net.Conn {
	t.Helper()
	c := dialFrom(t, from, addr)
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: bridge\r\nContent-Length: %d\r\n%s\r\n%s", length, extra, strings.Repeat("x", sent))
	return c
}

// dialFrom opens a connection to addr from the loopback address from,
// closed when the test ends.
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// status reads the status code of the answer on c, or 0 when the
// connection ends without one; it gives up after limit.
func status(c net.Conn, limit time.Duration) int {
	_ = c.SetReadDeadline(time.Now().Add(limit))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// closedWithin reports whether the server closes c within limit (reading
// whatever it still sends).
func closedWithin(c net.Conn, limit time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

func readAll(w http.ResponseWriter, r *http.Request) {
	_, err := io.ReadAll(r.Body)
	switch {
	case errors.Is(err, ErrBusy):
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
	}
}

// takingTurns is readAll saying on reading when a body holds its turn (its
// first read takes one), so a test can go on once it surely does.
func takingTurns(reading chan<- struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		first := make([]byte, 1)
		if _, err := r.Body.Read(first); errors.Is(err, ErrBusy) {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		reading <- struct{}{}
		readAll(w, r)
	}
}

// Headers that never end are cut at HeaderTimeout.
func TestSlowHeadersAreCut(t *testing.T) {
	addr := serve(t, http.HandlerFunc(readAll), Limits{HeaderTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "POST / HTTP/1.1\r\nHost: bridge\r\nX-Slow: ")
	start := time.Now()
	if !closedWithin(c, 5*time.Second) {
		t.Fatal("not closed")
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("closed after %s, before the header timeout", d)
	}
}

// A body that never ends fails the handler's read at BodyTimeout and the
// connection is closed.
func TestSlowBodyIsCut(t *testing.T) {
	readErr := make(chan error, 1)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
		if err != nil {
			http.Error(w, "slow", http.StatusBadRequest)
		}
	}), Limits{BodyTimeout: 300 * time.Millisecond})
	c := post(t, addr, 1000, 10, "")
	select {
	case err := <-readErr:
		if err == nil {
			t.Fatal("the handler read a whole body that was never sent")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's read never failed")
	}
	// Left open, it would stay until the idle timeout of a minute.
	if !closedWithin(c, 5*time.Second) {
		t.Error("connection still open after the body timeout")
	}
}

// A request refused from its headers is answered and closed at once: its
// body is never read, even one small enough for net/http to drain.
func TestRefusedBodyIsNeverRead(t *testing.T) {
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Signature") == "" {
			http.Error(w, "X-Signature required", http.StatusUnauthorized)
			return
		}
		readAll(w, r)
	}), Limits{})
	for _, length := range []int{100 << 10, 4 << 20} {
		c := post(t, addr, length, 1000, "")
		start := time.Now()
		if got := status(c, 5*time.Second); got != http.StatusUnauthorized {
			t.Fatalf("status %d", got)
		}
		// Bounds well under DefaultTimeout, which a server waiting for the
		// body would take, and well over what a loaded machine adds.
		if !closedWithin(c, DefaultTimeout/2) {
			t.Errorf("Content-Length %d: still open %s after the refusal", length, DefaultTimeout/2)
		}
		if d := time.Since(start); d > DefaultTimeout/2 {
			t.Errorf("Content-Length %d: took %s", length, d)
		}
	}
}

// A body larger than MaxBody is refused from its Content-Length alone; one
// that only turns out larger is cut at the limit.
func TestOversizedBody(t *testing.T) {
	addr := serve(t, http.HandlerFunc(readAll), Limits{MaxBody: 1000})
	c := post(t, addr, 5000, 10, "")
	if got := status(c, 5*time.Second); got != http.StatusRequestEntityTooLarge {
		t.Errorf("declared too large: status %d", got)
	}
	chunked, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer chunked.Close()
	fmt.Fprintf(chunked, "POST / HTTP/1.1\r\nHost: bridge\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", 2000, strings.Repeat("x", 2000))
	if got := status(chunked, 5*time.Second); got != http.StatusBadRequest {
		t.Errorf("chunked too large: status %d", got)
	}
}

// At most MaxReading requests are read at once; the rest wait SlotWait and
// get 503, and those being read still complete.
func TestAtMostMaxReadingAtOnce(t *testing.T) {
	const maxReading, total = 4, 10
	var active, peak atomic.Int32
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := make([]byte, 1)
		if _, err := io.ReadFull(r.Body, first); err != nil { // takes a turn, or fails
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		n := active.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		_, err := io.ReadAll(r.Body)
		active.Add(-1) // the turn ends with the body
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	}), Limits{MaxReading: maxReading, SlotWait: 200 * time.Millisecond})

	conns := make([]net.Conn, total)
	statuses := make(chan int, total)
	var wg sync.WaitGroup
	for i := range conns {
		conns[i] = post(t, addr, 100, 10, "")
		wg.Go(func() { statuses <- status(conns[i], 10*time.Second) })
	}
	for range total - maxReading {
		if got := <-statuses; got != http.StatusServiceUnavailable {
			t.Fatalf("an excess request got %d; want 503", got)
		}
	}
	for _, c := range conns {
		_, _ = io.WriteString(c, strings.Repeat("x", 90)) // the refused ones are closed: ignore
	}
	wg.Wait()
	close(statuses)
	for got := range statuses {
		if got != http.StatusOK {
			t.Errorf("a request being read got %d; want 200", got)
		}
	}
	if p := peak.Load(); p > maxReading {
		t.Errorf("%d requests read at once; limit %d", p, maxReading)
	}
}

// A request stops counting once its body is read, even while its handler
// goes on (e.g. handing the event over).
func TestSlotFreedOnceTheBodyIsRead(t *testing.T) {
	release := make(chan struct{})
	handlers := make(chan struct{}, 2)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		readAll(w, r)
		handlers <- struct{}{}
		<-release
	}), Limits{MaxReading: 1, SlotWait: 100 * time.Millisecond})
	defer close(release)
	post(t, addr, 10, 10, "")
	<-handlers
	second := post(t, addr, 10, 10, "")
	select {
	case <-handlers:
	case <-time.After(5 * time.Second):
		t.Fatalf("the second request never got its turn (status %d)", status(second, time.Second))
	}
}

// Requests without a body (a WebSocket, /metrics) and requests refused
// from their headers take no turn: with the one turn held by a slow body,
// a bot's WebSocket still upgrades, a health check is answered, and an
// unsigned post is refused at once rather than after SlotWait.
func TestOnlyBodiesBeingReadTakeTurns(t *testing.T) {
	upgraded := make(chan *websocket.Conn, 1)
	reading := make(chan struct{}, 4)
	bodies := takingTurns(reading)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case websocket.IsWebSocketUpgrade(r):
			c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
			if err != nil {
				return
			}
			upgraded <- c
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		case r.Method == http.MethodGet:
			w.WriteHeader(http.StatusNoContent)
		case r.Header.Get("X-Signature") == "":
			http.Error(w, "X-Signature required", http.StatusUnauthorized)
		default:
			bodies(w, r)
		}
	}), Limits{MaxReading: 1, SlotWait: 2 * time.Second})
	post(t, addr, 100, 10, "X-Signature: x\r\n") // holds the one turn
	<-reading

	start := time.Now()
	client, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	server := <-upgraded
	defer server.Close()
	defer client.Close()
	resp, err := http.Get("http://" + addr + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("a request beside a body being read got %d", resp.StatusCode)
	}
	if got := status(post(t, addr, 4<<20, 1000, ""), 5*time.Second); got != http.StatusUnauthorized {
		t.Errorf("unsigned post: %d", got)
	}
	// One that had waited for the turn would have waited SlotWait.
	if d := time.Since(start); d >= 2*time.Second {
		t.Errorf("took %s: something waited for the turn", d)
	}
	if got := status(post(t, addr, 100, 100, "X-Signature: x\r\n"), 5*time.Second); got != http.StatusServiceUnavailable {
		t.Errorf("a second body while the turn is held: %d; want 503 after SlotWait", got)
	}
}

// Few large bodies are read at once, whatever the small ones do.
func TestFewLargeBodiesAtOnce(t *testing.T) {
	// The handler says when it holds its turn (a body's first read takes
	// it), so the second large body surely comes after the first has it.
	reading := make(chan struct{}, 8)
	h := takingTurns(reading)
	addr := serve(t, h, Limits{MaxReading: 4, MaxLargeReading: 1, LargeBody: 1000, SlotWait: 100 * time.Millisecond})
	post(t, addr, 5000, 10, "") // a large body holds the one large turn
	<-reading
	if got := status(post(t, addr, 5000, 10, ""), 5*time.Second); got != http.StatusServiceUnavailable {
		t.Errorf("a second large body: %d; want 503", got)
	}
	if got := status(post(t, addr, 100, 100, ""), 5*time.Second); got != http.StatusOK {
		t.Errorf("a small body beside it: %d; want 200", got)
	}
}

// A sender that gets past the header checks but never finishes its bodies
// holds at most MaxReadingPerPeer turns; the bot, from its own address,
// still gets one at once.
func TestOnePeerCannotTakeEveryTurn(t *testing.T) {
	reading := make(chan struct{}, 16)
	addr := serve(t, takingTurns(reading), Limits{MaxReading: 4, MaxReadingPerPeer: 2, SlotWait: 200 * time.Millisecond})

	statuses := make(chan int, 4)
	for range 4 {
		c := post(t, addr, 100, 10, "X-Signature: x\r\n")
		go func() { statuses <- status(c, 10*time.Second) }()
	}
	<-reading
	<-reading
	for range 2 {
		if got := <-statuses; got != http.StatusServiceUnavailable {
			t.Fatalf("a slow body beyond MaxReadingPerPeer from one address: %d; want 503", got)
		}
	}
	if got := status(postFrom(t, "127.0.0.2", addr, 10, 10, "X-Signature: x\r\n"), 5*time.Second); got != http.StatusOK {
		t.Errorf("the bot's post from another address: %d; want 200", got)
	}
}

// A body that found no turn stays refused: reading it again does not read
// past the limit.
func TestNoTurnStaysNoTurn(t *testing.T) {
	holding := make(chan struct{})
	second := make(chan error, 1)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 1)
		if _, err := r.Body.Read(buf); err == nil {
			close(holding)
			readAll(w, r)
			return
		}
		_, err := r.Body.Read(buf)
		second <- err
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}), Limits{MaxReading: 1, SlotWait: 50 * time.Millisecond})
	post(t, addr, 100, 10, "")
	<-holding
	post(t, addr, 10, 10, "")
	if err := <-second; !errors.Is(err, ErrBusy) {
		t.Fatalf("reading again after ErrBusy: %v; want ErrBusy", err)
	}
}

// Connections beyond MaxConnsPerPeer from one address are closed as soon as
// accepted, and other addresses still get in; a closed one frees its place.
func TestConnectionsPerAddressAreBounded(t *testing.T) {
	addr := serve(t, http.HandlerFunc(readAll), Limits{MaxConns: 5, MaxConnsPerPeer: 3})
	var idle []net.Conn
	for range 3 {
		idle = append(idle, dialFrom(t, "127.0.0.1", addr))
	}
	get := func(from string) int {
		c := dialFrom(t, from, addr)
		defer c.Close()
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: bridge\r\n\r\n")
		return status(c, 5*time.Second)
	}
	// The three idle ones may not be accepted yet when the fourth comes;
	// one of the four is refused all the same.
	if got := get("127.0.0.1"); got != 0 {
		t.Errorf("a fourth connection from one address: status %d; want closed", got)
	}
	if got := get("127.0.0.2"); got != http.StatusOK {
		t.Errorf("a connection from another address: %d; want 200", got)
	}
	idle[0].Close()
	testutil.WaitFor(t, "a place freed by a closed connection", func() bool {
		return get("127.0.0.1") == http.StatusOK
	}, 5*time.Second)
	// Five in all: two from 127.0.0.1 and three more idle ones fill them.
	for _, from := range []string{"127.0.0.3", "127.0.0.4", "127.0.0.6"} {
		dialFrom(t, from, addr)
	}
	testutil.WaitFor(t, "all five places taken", func() bool {
		return get("127.0.0.5") == 0
	}, 5*time.Second)
}
