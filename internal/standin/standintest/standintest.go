// Package standintest holds the helpers the stand-ins' own tests share:
// starting a stand-in for one test, waiting for its connections, reading a
// fixture and reading a frame with a deadline.
package standintest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mcqq/bridge/internal/testutil"
)

// WaitConnected waits until the stand-in counts n open connections.
func WaitConnected(t *testing.T, s interface{ Connected() int }, n int) {
	t.Helper()
	testutil.WaitFor(t, fmt.Sprintf("Connected() == %d", n), func() bool { return s.Connected() == n }, 5*time.Second)
}

// Start starts s on a free loopback port and stops it when the test ends,
// then checks that nothing started since this call is left running (on top
// of the package's TestMain check, this names the test that leaked; the
// stand-ins' tests are not parallel, so no other test runs meanwhile).
func Start[S interface {
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

// Fixture reads testdata/<name> of the calling test's package.
func Fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Read reads the next frame, failing the test after 5 s.
func Read(t *testing.T, conn *websocket.Conn) []byte {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, frame, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return frame
}
