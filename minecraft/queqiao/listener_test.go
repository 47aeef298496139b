package queqiao

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	queqiaostandin "github.com/mcqq/bridge/internal/standin/queqiao"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/internal/ws"
)

// dialIn makes plugin dial the listener in the background and returns
// DialReverse's result; cleanup ends the connection and waits for it.
func dialIn(t *testing.T, plugin *queqiaostandin.Server, url string) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		result <- plugin.DialReverse(ctx, url)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
			t.Error("DialReverse did not return")
		}
	})
	return result
}

func newPlugin(t *testing.T, name, token string) *queqiaostandin.Server {
	return queqiaostandin.New(queqiaostandin.Options{ServerName: name, Token: token, Logger: testLogger(t)})
}

func TestListener(t *testing.T) {
	const survival, creative = "Survival World", "创造"
	// Register the HTTP server first, so its cleanup (which waits for the
	// handlers) runs after the clients' and the plugins' have ended them.
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	a := runClient(t, Options{Name: survival, Token: "tokA"})
	b := runClient(t, Options{Name: creative})
	fwd, err := New(Options{Name: "Lobby", URL: "ws://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = NewListener([]*Client{a, b, fwd}, testLogger(t))
	srv.Start()
	url := "ws://" + srv.Listener.Addr().String() + "/minecraft/ws"

	refusals := []struct {
		name, server, token, want string
	}{
		{"wrong token", survival, "nope", "403"},
		{"missing token", survival, "", "401"},
		{"unknown name", "Nether", "tokA", "404"},
		{"forward-mode server", "Lobby", "", "404"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			// A refusal with an HTTP status proves it came before the upgrade.
			err := newPlugin(t, tc.server, tc.token).DialReverse(ctx, url)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("DialReverse = %v, want HTTP %s", err, tc.want)
			}
		})
	}
	if a.State().Up() || b.State().Up() {
		t.Fatal("a refused plugin brought a server up")
	}

	t.Run("right token is bridged to the right server", func(t *testing.T) {
		pa := newPlugin(t, survival, "tokA")
		dialIn(t, pa, url)
		waitUp(t, a)
		pa.Chat("Steve", "hello from survival")
		ev := nextEvent(t, a)
		if ev.Server != survival || ev.Message != "hello from survival" {
			t.Errorf("event %+v", ev)
		}

		pb := newPlugin(t, creative, "")
		dialIn(t, pb, url)
		waitUp(t, b)
		pb.Join("Alex")
		if ev := nextEvent(t, b); ev.Server != creative || ev.Player != "Alex" {
			t.Errorf("event %+v", ev)
		}
		if ev, ok := a.Events().Pop(); ok {
			t.Errorf("server %q got the other server's event %+v", survival, ev)
		}

		// Requests go back over the reverse connection.
		pa.SetRCON(func(string) string { return "pong" })
		if out, err := a.RunCommand(t.Context(), "list"); err != nil || out != "pong" {
			t.Errorf("RunCommand = %q, %v", out, err)
		}

		t.Run("duplicate name is refused", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			err := newPlugin(t, survival, "tokA").DialReverse(ctx, url)
			if err == nil || !strings.Contains(err.Error(), "409") || !strings.Contains(err.Error(), "already connected") {
				t.Errorf("DialReverse = %v, want 409 already connected", err)
			}
			if !a.State().Up() {
				t.Error("the refused duplicate took the first connection down")
			}
		})
	})
}

func TestListenerSessionEndsWithPlugin(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	c := runClient(t, Options{Name: "Server"})
	srv.Config.Handler = NewListener([]*Client{c}, testLogger(t))
	srv.Start()
	url := "ws://" + srv.Listener.Addr().String() + "/"

	plugin := newPlugin(t, "Server", "")
	done := dialIn(t, plugin, url)
	waitUp(t, c)
	plugin.Stop() // the plugin process dies
	testutil.WaitFor(t, "the server to go down", func() bool { return !c.State().Up() }, 5*time.Second)
	if err := <-done; err == nil {
		t.Error("DialReverse returned nil after its connection was dropped")
	}
	// The name is free again: the plugin reconnects.
	dialIn(t, plugin, url)
	waitUp(t, c)
}

func TestAttachRefusesForwardModeClient(t *testing.T) {
	fwd, err := New(Options{Name: "Lobby", URL: "ws://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := attachOverWebSocket(t, fwd)
	if err == nil {
		t.Error("a forward-mode client accepted a reverse session")
	}
	// The refused session is closed, not left hanging.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn.ReadMessage()
	if code, _, ok := ws.CloseText(err); !ok || code != websocket.ClosePolicyViolation {
		t.Errorf("read after refusal: %v, want close 1008", err)
	}
}

func TestAttachRefusesOnceRunHasEnded(t *testing.T) {
	c, err := New(Options{Name: "Server"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run = %v", err)
	}

	conn, err := attachOverWebSocket(t, c)
	if !errors.Is(err, errStopped) {
		t.Errorf("Attach after Run = %v, want errStopped", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn.ReadMessage()
	if code, _, ok := ws.CloseText(err); !ok || code != websocket.CloseGoingAway {
		t.Errorf("read after refusal: %v, want close 1001", err)
	}
	if c.State().Up() {
		t.Error("a refused session brought the server up")
	}
}

// attachOverWebSocket hands c a freshly upgraded server session, as the
// Listener would, and returns the peer's side of it with Attach's result.
func attachOverWebSocket(t *testing.T, c *Client) (*websocket.Conn, error) {
	t.Helper()
	attached := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := ws.Accept(w, r, ws.Options{})
		if err != nil {
			attached <- err
			return
		}
		attached <- c.Attach(r.Context(), s)
	}))
	t.Cleanup(srv.Close)
	conn, _, err := websocket.DefaultDialer.DialContext(t.Context(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, <-attached
}
