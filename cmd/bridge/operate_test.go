package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// -version prints the version (devel unless set with -ldflags) and needs no
// configuration.
func TestVersionFlag(t *testing.T) {
	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-version"}, nil, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got := strings.TrimSpace(out.String())
	if !strings.HasPrefix(got, "bridge devel") || !strings.HasSuffix(got, runtime.Version()) {
		t.Fatalf("-version printed %q", got)
	}
}

// -healthcheck asks /healthz on HTTP_LISTEN; with HTTP_LISTEN=none there is
// nothing to ask and it reports healthy, so a container is not marked
// unhealthy for good.
func TestHealthcheck(t *testing.T) {
	t.Chdir(t.TempDir())
	var healthy atomic.Bool
	healthy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || !healthy.Load() {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	base := []string{"QQ_URL=ws://127.0.0.1:3001/", "MC_0_NAME=survival", "MC_0_WS_URL=ws://127.0.0.1:8080", "MC_0_GROUPS=1"}
	check := func(listen string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"-healthcheck"}, append(base, "HTTP_LISTEN="+listen), &out, &errOut)
		return code, errOut.String()
	}
	addr := strings.TrimPrefix(srv.URL, "http://")
	if code, msg := check(addr); code != exitOK {
		t.Errorf("healthy bridge: exit %d %s", code, msg)
	}
	healthy.Store(false)
	if code, _ := check(addr); code != exitFail {
		t.Errorf("unhealthy bridge: exit %d", code)
	}
	if code, msg := check(freeAddr(t)); code != exitFail {
		t.Errorf("nothing listening: exit %d %s", code, msg)
	}
	if code, msg := check("none"); code != exitOK || !strings.Contains(msg, "HTTP_LISTEN is none") {
		t.Errorf("HTTP_LISTEN=none: exit %d %q", code, msg)
	}
}
