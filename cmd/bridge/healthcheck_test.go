package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// -healthcheck exits 0 or 1, never 2 (Docker reserves it), and reads
// HTTP_LISTEN only: a configuration the bridge would refuse, a .env with
// lines it cannot read, or a missing required variable do not make the
// check fail, and run as Docker's HEALTHCHECK, without the -env-file the
// bridge was started with, it finds HTTP_LISTEN in that file.
func TestHealthcheckReadsOnlyHTTPListen(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	dead := freeAddr(t)
	noInit := t.TempDir() // a first process that is not the bridge
	must(t, os.WriteFile(filepath.Join(noInit, "cmdline"), []byte("/sbin/init\x00"), 0o600))

	// The container's first process: "/bridge -env-file config/bridge.env"
	// in its working directory.
	initDir, initCwd := t.TempDir(), t.TempDir()
	must(t, os.MkdirAll(filepath.Join(initCwd, "config"), 0o700))
	must(t, os.WriteFile(filepath.Join(initCwd, "config", "bridge.env"), []byte("QQ_URL=ws://x\nHTTP_LISTEN="+addr+"\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(initDir, "cmdline"), []byte("/bridge\x00-env-file\x00config/bridge.env\x00"), 0o600))
	must(t, os.Symlink(initCwd, filepath.Join(initDir, "cwd")))

	cases := []struct {
		name    string
		args    []string
		environ []string
		dotenv  string // written as .env when set
		init    string // procInit
		code    int
	}{
		{"nothing else configured", nil, []string{"HTTP_LISTEN=" + addr}, "", noInit, exitOK},
		{"a configuration the bridge refuses", nil, []string{"HTTP_LISTEN=" + addr, "QQ_PROTOCOL=napcat", "MC_0_GROUPS=x"}, "", noInit, exitOK},
		{"spaces around the value", nil, []string{"HTTP_LISTEN= " + addr + " "}, "", noInit, exitOK},
		{".env with unreadable lines", nil, nil, "this is not a setting\nHTTP_LISTEN=" + addr + "\nQQ_URL=\"unclosed\nHTTP_LISTEN_X=" + dead + "\n", noInit, exitOK},
		{".env with unreadable lines, exported", nil, nil, "QQ_URL=\"unclosed\n\ufeffexport  HTTP_LISTEN = " + addr + "\n", noInit, exitOK},
		{"the environment wins over .env", nil, []string{"HTTP_LISTEN=" + addr}, "HTTP_LISTEN=" + dead + "\n", noInit, exitOK},
		{"not listening", nil, []string{"HTTP_LISTEN=" + dead}, "", noInit, exitFail},
		{"the running bridge's -env-file", nil, nil, "", initDir, exitOK},
		{"the running bridge's -env-file, not a stray .env", nil, nil, "HTTP_LISTEN=" + dead + "\n", initDir, exitOK},
		{"a missing -env-file", []string{"-env-file", "missing.env"}, []string{"HTTP_LISTEN=" + addr}, "", noInit, exitOK},
		{"a missing -env-file, HTTP_LISTEN from it", []string{"-env-file", "missing.env"}, nil, "", noInit, exitFail},
		{"an unknown flag", []string{"-bogus"}, []string{"HTTP_LISTEN=" + addr}, "", noInit, exitFail},
		{"a stray word", []string{"now"}, []string{"HTTP_LISTEN=" + addr}, "", noInit, exitFail},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			old := procInit
			procInit = c.init
			t.Cleanup(func() { procInit = old })
			if c.dotenv != "" {
				must(t, os.WriteFile(".env", []byte(c.dotenv), 0o600))
			}
			var out, errOut bytes.Buffer
			if code := run(context.Background(), append([]string{"-healthcheck"}, c.args...), c.environ, &out, &errOut); code != c.code {
				t.Errorf("exit %d, want %d: %s", code, c.code, errOut.String())
			}
		})
	}

	// The default is the configuration's.
	t.Chdir(t.TempDir())
	procInit = noInit
	t.Cleanup(func() { procInit = "/proc/1" })
	listen, err := healthcheckListen(nil, "")
	must(t, err)
	cfg, _, err := LoadConfig(minimalEnv())
	must(t, err)
	if listen != cfg.HTTPListen {
		t.Errorf("HTTP_LISTEN unset: the health check asks %q, the bridge listens on %q", listen, cfg.HTTPListen)
	}
}
