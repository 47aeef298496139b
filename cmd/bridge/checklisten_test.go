package main

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
)

// In reverse mode -check binds QQ_LISTEN and MC_LISTEN, where the peers
// dial in, and lets them go: "free", or failing "in use by another
// process" with what to do, instead of "not checked".
func TestCheckBindsTheListeners(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	t.Cleanup(func() { taken.Close() })
	qqListen, mcListen := freeAddr(t), freeAddr(t)
	env := func(mcListen string) []string {
		return []string{"QQ_LISTEN=" + qqListen, "MC_LISTEN=" + mcListen, "HTTP_LISTEN=none", "DATA_DIR=" + t.TempDir(),
			"MC_0_NAME=survival", "MC_0_GROUPS=" + strconv.Itoa(groupA),
			"MC_1_NAME=creative", "MC_1_GROUPS=" + strconv.Itoa(groupA)}
	}
	check := func(mcListen string) (int, string) {
		t.Chdir(t.TempDir())
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"-check"}, env(mcListen), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	line := func(out, prefix string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		return ""
	}

	code, out := check(mcListen)
	for _, prefix := range []string{"qq (onebot)", "queqiao survival", "queqiao creative"} {
		if l := line(out, prefix); !strings.HasSuffix(l, "ok: free") {
			t.Errorf("%s: %q; want ok: free\n%s", prefix, l, out)
		}
	}
	if code != exitOK {
		t.Errorf("exit %d with both listeners free\n%s", code, out)
	}
	// Released: the bridge could bind both now.
	for _, addr := range []string{qqListen, mcListen} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("-check left %s bound: %v", addr, err)
		}
		ln.Close()
	}

	busy := taken.Addr().String()
	code, out = check(busy)
	for _, prefix := range []string{"queqiao survival", "queqiao creative"} {
		if l := line(out, prefix); !strings.HasSuffix(l, "FAIL: in use by another process") {
			t.Errorf("%s: %q; want FAIL: in use by another process\n%s", prefix, l, out)
		}
	}
	if want := "queqiao survival: stop what listens on " + busy + " (a bridge already running?) or choose another port"; !strings.Contains(out, want) {
		t.Errorf("no %q in\n%s", want, out)
	}
	if l := line(out, "qq (onebot)"); !strings.HasSuffix(l, "ok: free") || code != exitFail {
		t.Errorf("exit %d, qq %q\n%s", code, l, out)
	}
}
