package fake

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mcqq/bridge/internal/testutil"
)

// standInWaitConnected waits until the stand-in counts n open connections.
func standInWaitConnected(t *testing.T, s interface{ Connected() int }, n int) {
	t.Helper()
	testutil.WaitFor(t, fmt.Sprintf("Connected() == %d", n), func() bool { return s.Connected() == n }, 5*time.Second)
}

// standInStart starts s on a free loopback port and stops it when the test
// ends, then checks that nothing started since this call is left running.
// The stand-ins share this package, so leaks are checked per test (no test
// here is parallel, so no other test runs meanwhile).
func standInStart[S interface {
	Start(addr string) error
	Stop()
}](t *testing.T, s S) S {
	t.Helper()
	testutil.VerifyNoLeaks(t)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// standInFixture reads testdata/<protocol>/<name>.
func standInFixture(t *testing.T, protocol, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", protocol, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// standInRead reads the next frame, failing the test after 5 s.
func standInRead(t *testing.T, conn *websocket.Conn) []byte {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, frame, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return frame
}
