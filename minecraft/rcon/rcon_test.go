package rcon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mcqq/bridge/internal/link"
	rconstandin "github.com/mcqq/bridge/internal/standin/rcon"
	"github.com/mcqq/bridge/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const listReply = "There are 0 of a max of 20 players online: "

// startServer starts a Minecraft-like RCON console; handler nil answers
// "list" like vanilla and echoes anything else.
func startServer(t *testing.T, handler func(string) string) *rconstandin.Server {
	t.Helper()
	if handler == nil {
		handler = func(cmd string) string {
			if cmd == "list" {
				return listReply
			}
			return "echo: " + cmd
		}
	}
	srv := rconstandin.New("pw", handler)
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// startStallingServer starts a server on which "stall" hangs until release
// is called (also at cleanup, before the server's Stop, which waits for
// handlers) and then answers "late reply to stall"; "list" answers at once.
func startStallingServer(t *testing.T) (srv *rconstandin.Server, release func()) {
	t.Helper()
	stalled := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(stalled) }) }
	srv = startServer(t, func(cmd string) string {
		if cmd == "stall" {
			<-stalled
			return "late reply to stall"
		}
		return listReply
	})
	t.Cleanup(release)
	return srv, release
}

// runConsole starts a console's Run; cleanup stops it.
func runConsole(t *testing.T, o Options) *Console {
	t.Helper()
	o.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := New(o)
	testutil.RunInBackground(t, c.Run, 10*time.Second)
	return c
}

func TestExecute(t *testing.T) {
	srv := startServer(t, nil)
	c := runConsole(t, Options{Addr: srv.Addr(), Password: "pw"})
	testutil.WaitFor(t, "the console to connect", c.State().Up, 5*time.Second)

	out, err := c.Execute(t.Context(), "list")
	if err != nil || out != listReply {
		t.Fatalf("Execute = %q, %v", out, err)
	}
	// UTF-8 passes as it is.
	if out, err := c.Execute(t.Context(), "say 你好"); err != nil || out != "echo: say 你好" {
		t.Errorf("Execute = %q, %v", out, err)
	}
	if got := srv.Commands(); !slices.Equal(got, []string{"list", "say 你好"}) {
		t.Errorf("server ran %q", got)
	}
}

func TestExecuteRefusesBadCommands(t *testing.T) {
	srv := startServer(t, nil)
	c := runConsole(t, Options{Addr: srv.Addr(), Password: "pw"})
	cases := map[string]string{
		"newline":        "say hi\nop Steve",
		"carriage ret":   "say hi\r",
		"NUL":            "say \x00",
		"escape":         "say \x1b[31m",
		"DEL":            "say \x7f",
		"C1 next line":   "say hi\u0085op Steve",
		"tab":            "say\thi",
		"bidi override":  "say \u202eevil",
		"bidi isolate":   "say \u2066x\u2069",
		"line separator": "say hi\u2028op Steve",
		"para separator": "say hi\u2029op Steve",
		"empty":          "",
		"1001 bytes":     "say " + strings.Repeat("a", 997),
		"334 CJK (1002)": strings.Repeat("你", 334),
	}
	for name, cmd := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := c.Execute(t.Context(), cmd); err == nil {
				t.Errorf("Execute(%q) was accepted", cmd)
			}
		})
	}
	if got := srv.Commands(); len(got) != 0 {
		t.Errorf("refused commands reached the server: %q", got)
	}
	// Exactly 1000 bytes is fine.
	ok := "say " + strings.Repeat("a", 996)
	if _, err := c.Execute(t.Context(), ok); err != nil {
		t.Errorf("1000-byte command: %v", err)
	}
}

func TestExecuteAfterServerRestart(t *testing.T) {
	srv := startServer(t, nil)
	c := runConsole(t, Options{Addr: srv.Addr(), Password: "pw"})
	if out, err := c.Execute(t.Context(), "list"); err != nil || out != listReply {
		t.Fatalf("Execute = %q, %v", out, err)
	}

	srv.Stop() // the idle connection dies with the server
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	out, err := c.Execute(t.Context(), "list")
	if err != nil || out != listReply {
		t.Fatalf("Execute after restart = %q, %v", out, err)
	}
	// Retried on a fresh connection, and run exactly once.
	if got := srv.Commands(); !slices.Equal(got, []string{"list", "list"}) {
		t.Errorf("server ran %q", got)
	}
	testutil.WaitFor(t, "the state to be up", c.State().Up, 5*time.Second)
}

// holdLogins makes srv hold every login until the test decides, through
// the channel each one arrives on, whether the client stays connected
// (true) or is dropped just after getting in (false). Logins still held
// when the test ends are dropped.
func holdLogins(t *testing.T, srv *rconstandin.Server) <-chan chan<- bool {
	logins := make(chan chan<- bool)
	srv.OnAuth(func() bool {
		keep := make(chan bool)
		select {
		case logins <- keep:
		case <-t.Context().Done():
			return false
		}
		select {
		case k := <-keep:
			return k
		case <-t.Context().Done():
			return false
		}
	})
	return logins
}

// TestCommandKeepsItsOwnConnection replays a race seen after server
// restarts: Run's session logs in to a server that goes down right after,
// while a command is dialling the server that is up; the session's
// connection is stored first. The command must run on the connection it
// dialled itself, not on the session's dead one.
func TestCommandKeepsItsOwnConnection(t *testing.T) {
	srv := startServer(t, nil)
	logins := holdLogins(t, srv)
	c := runConsole(t, Options{Addr: srv.Addr(), Password: "pw"})
	sessionLogin := <-logins // Run's session dialled first

	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := c.Execute(t.Context(), "list")
		done <- result{out, err}
	}()
	commandLogin := <-logins // no connection yet, so the command dials its own

	sessionLogin <- false // in, then the server drops it
	testutil.WaitFor(t, "Run's session to store its connection", c.State().Up, 5*time.Second)
	commandLogin <- true

	if r := <-done; r.err != nil || r.out != listReply {
		t.Fatalf("Execute = %q, %v", r.out, r.err)
	}
	if got := srv.Commands(); !slices.Equal(got, []string{"list"}) {
		t.Errorf("server ran %q", got)
	}
	if out, err := c.Execute(t.Context(), "list"); err != nil || out != listReply {
		t.Errorf("next Execute = %q, %v", out, err)
	}
}

func TestExecuteTimeoutIsNotRetriedAndDoesNotLeak(t *testing.T) {
	srv, releaseStall := startStallingServer(t)
	c := runConsole(t, Options{Addr: srv.Addr(), Password: "pw", Timeout: 300 * time.Millisecond})

	_, err := c.Execute(t.Context(), "stall")
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("Execute(stall) = %v, want a timeout", err)
	}
	// Let the late reply go out: on a reused connection it would be read
	// as the answer to the next command.
	releaseStall()
	out, err := c.Execute(t.Context(), "list")
	if err != nil || out != listReply {
		t.Fatalf("Execute after a timeout = %q, %v; want its own reply", out, err)
	}
	if got := srv.Commands(); !slices.Equal(got, []string{"stall", "list"}) {
		t.Errorf("server ran %q; a timed-out command must not be retried", got)
	}
}

func TestExecuteCutReply(t *testing.T) {
	srv := startServer(t, func(cmd string) string {
		if cmd == "help" {
			return strings.Repeat("a", 4096) + "TAIL"
		}
		return listReply
	})
	c := runConsole(t, Options{Addr: srv.Addr(), Password: "pw"})

	out, err := c.Execute(t.Context(), "help")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("a", 4096) + Truncated; out != want {
		t.Errorf("cut reply: %d bytes ending %q, want 4096 bytes + %q", len(out), out[max(0, len(out)-8):], Truncated)
	}
	if out, err := c.Execute(t.Context(), "list"); err != nil || out != listReply {
		t.Errorf("next command = %q, %v; the tail leaked", out, err)
	}
}

func TestExecuteCancel(t *testing.T) {
	srv, releaseStall := startStallingServer(t)
	c := runConsole(t, Options{Addr: srv.Addr(), Password: "pw"})

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Execute(ctx, "stall"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Execute = %v, want the context's deadline", err)
	}
	// Well before the command's own timeout, which an ignored ctx would
	// leave it to.
	if elapsed := time.Since(start); elapsed > link.DefaultRequestTimeout/2 {
		t.Errorf("cancelled command returned after %s", elapsed)
	}
	releaseStall()
	if out, err := c.Execute(t.Context(), "list"); err != nil || out != listReply {
		t.Errorf("next command = %q, %v", out, err)
	}
}

// TestExecuteConcurrent checks that callers sharing the console each get
// their own reply (gorcon mixes them up when used concurrently).
func TestExecuteConcurrent(t *testing.T) {
	srv := startServer(t, nil)
	c := runConsole(t, Options{Addr: srv.Addr(), Password: "pw"})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				cmd := fmt.Sprintf("say %d-%d", g, i)
				if out, err := c.Execute(t.Context(), cmd); err != nil || out != "echo: "+cmd {
					t.Errorf("Execute(%q) = %q, %v", cmd, out, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNotConnected(t *testing.T) {
	srv := startServer(t, nil)
	addr := srv.Addr()
	srv.Stop()
	c := runConsole(t, Options{Addr: addr, Password: "pw"})
	if _, err := c.Execute(t.Context(), "list"); !errors.Is(err, link.ErrNotConnected) {
		t.Errorf("Execute with no server = %v, want ErrNotConnected", err)
	}
	testutil.WaitFor(t, "the dial error to be recorded", func() bool {
		return strings.Contains(c.State().Get().LastError, "refused")
	}, 5*time.Second)

	// Run brings it up by itself once the server is back.
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "Run to reconnect", c.State().Up, 10*time.Second)
	if out, err := c.Execute(t.Context(), "list"); err != nil || out != listReply {
		t.Errorf("Execute = %q, %v", out, err)
	}
}

func TestWrongPassword(t *testing.T) {
	srv := startServer(t, nil)
	c := runConsole(t, Options{Addr: srv.Addr(), Password: "wrong"})
	testutil.WaitFor(t, "the auth failure", func() bool {
		return strings.Contains(c.State().Get().LastError, "authentication failed")
	}, 5*time.Second)
	_, err := c.Execute(t.Context(), "list")
	if !errors.Is(err, link.ErrNotConnected) || !strings.Contains(err.Error(), "wrong RCON password") {
		t.Errorf("Execute = %v, want not connected with a password hint", err)
	}
	// gorcon's own "rcon: " is not repeated after ours.
	if !errors.Is(err, ErrAuthFailed) || !strings.HasSuffix(err.Error(), ": authenticating: authentication failed (wrong RCON password?)") {
		t.Errorf("Execute = %v, want it to end in one plain reason", err)
	}
	if got := srv.Commands(); len(got) != 0 {
		t.Errorf("unauthenticated commands ran: %q", got)
	}
}

func TestExecuteAfterRunEnded(t *testing.T) {
	srv := startServer(t, nil)
	c := New(Options{Addr: srv.Addr(), Password: "pw"})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	testutil.WaitFor(t, "the console to connect", c.State().Up, 5*time.Second)
	cancel()
	<-done
	if _, err := c.Execute(t.Context(), "list"); !errors.Is(err, link.ErrNotConnected) {
		t.Errorf("Execute after Run = %v, want ErrNotConnected", err)
	}
	if len(srv.Commands()) != 0 {
		t.Error("a command ran after Run ended")
	}
}
