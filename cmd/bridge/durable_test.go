package main

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/standin/queqiao"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/store"
)

// buildBridge builds the bridge binary for a test that needs a process of
// its own (to kill it, or to measure it).
func buildBridge(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bridge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runningBridge is a bridge process a test started.
type runningBridge struct {
	cmd      *exec.Cmd
	exited   <-chan struct{} // closed once it has exited
	logs     *testutil.LogBuffer
	httpAddr string // its HTTP_LISTEN
}

// bridgeProcess runs the built bridge with env until the test stops it; it
// returns once the bridge is alive (/healthz answers).
func bridgeProcess(t testing.TB, bin string, env []string) *runningBridge {
	t.Helper()
	httpAddr := freeAddr(t)
	cmd := exec.Command(bin)
	cmd.Env = append(env, "HTTP_LISTEN="+httpAddr, "LOG_LEVEL=debug", "LOG_FORMAT=text")
	logs := &testutil.LogBuffer{}
	cmd.Stderr = logs
	must(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("bridge (pid %d) log:\n%s", cmd.Process.Pid, logs.String())
		}
	})
	testutil.WaitFor(t, "the bridge to answer /healthz", func() bool {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second)
	return &runningBridge{cmd: cmd, exited: exited, logs: logs, httpAddr: httpAddr}
}

// Messages for a server that is down are in the database before the
// bridge moves on: killed (SIGKILL) or stopped (SIGTERM) and started again
// on the same DATA_DIR, it delivers every one, in order, once.
func TestQueuedMessagesSurviveARestart(t *testing.T) {
	bin := buildBridge(t)
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			bot := started(t, onebot.New(onebot.Options{}))
			bot.AddMember(groupA, alice)
			mc := queqiao.New(queqiao.Options{ServerName: "survival"})
			must(t, mc.Start("127.0.0.1:0"))
			mcURL := mc.URL()
			mc.Stop() // the server is down; Restart brings it back on the same port
			t.Cleanup(mc.Stop)

			dataDir := t.TempDir()
			env := []string{"QQ_URL=" + bot.URL(), "MC_0_NAME=survival", "MC_0_WS_URL=" + mcURL,
				"MC_0_GROUPS=" + strconv.Itoa(groupA), "QQ_GROUP_RATE=0", "DATA_DIR=" + dataDir}
			first := bridgeProcess(t, bin, env)
			testutil.WaitFor(t, "the bridge to reach the bot", func() bool { return bot.Connected() == 1 }, 10*time.Second)
			for i := range 20 {
				bot.GroupMessage(groupA, alice, []qq.Segment{qq.Text(numbered(i))})
			}
			waitQueued(t, dataDir, "mc:survival", 20)

			must(t, first.cmd.Process.Signal(sig))
			select {
			case <-first.exited:
			case <-time.After(10 * time.Second):
				t.Fatal("the first bridge did not end within 10 s")
			}

			bridgeProcess(t, bin, env)
			must(t, mc.Restart())
			w := &world{t: t, mc: map[string]*queqiao.Server{"survival": mc}}
			w.waitBurst("survival", 20, 10*time.Second)
			if got := w.arrivals("survival"); len(got) != 20 {
				t.Fatalf("arrivals %v: want each of the 20 once", got)
			}
			waitQueued(t, dataDir, "mc:survival", 0) // delivered, so gone from the database
		})
	}
}

// waitQueued waits until the database in dir holds n messages for dest,
// reading it beside the running bridge as anyone with sqlite3 could.
func waitQueued(t *testing.T, dir, dest string, n int) {
	t.Helper()
	got := -1
	testutil.WaitFor(t, fmt.Sprintf("%d messages queued for %s in the database", n, dest), func() bool {
		db, err := store.Open(context.Background(), dir, store.Options{})
		if err != nil {
			return false
		}
		defer db.Close()
		got, _, err = db.Queue().Count(context.Background(), dest)
		return err == nil && got == n
	}, 10*time.Second)
}
