package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/standin/milky"
	"github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/standin/queqiao"
	"github.com/mcqq/bridge/internal/standin/rcon"
	"github.com/mcqq/bridge/internal/testutil"
)

// Secrets written anywhere in the configuration (token variables, RCON
// password, access_token in QQ_URL and MC_<n>_WS_URL, the password of an
// http://user:password@ URL) never appear in the real bridge's log at debug
// level, through a failed start and a successful reconnect, nor in -check's
// output, up or down. The masked URLs do appear, so the test sees them.
func TestSecretsNeverReachLogsOrCheck(t *testing.T) {
	secrets := []string{"qq-url-secret", "mc-url-secret", "mc-token-secret", "rcon-pw-secret", "qq-token-secret", "basic-pw-secret"}
	type qqBot interface {
		Stop()
		Restart() error
		Connected() int
	}
	cases := []struct {
		name   string
		format string
		bot    func(t *testing.T) (qqBot, map[string]string)
		masked string // how QQ_URL shows up
	}{
		{"onebot ws, token in the URL", "json", func(t *testing.T) (qqBot, map[string]string) {
			b := onebot.New(onebot.Options{Token: "qq-url-secret"}) // NapCat reads the query first
			b.SetGroupName(groupA, "MC服务器交流群")
			must(t, b.Start("127.0.0.1:0"))
			t.Cleanup(b.Stop)
			return b, map[string]string{"QQ_URL": b.URL() + "?access_token=qq-url-secret"}
		}, "access_token=***"},
		{"onebot http, password in the URL", "text", func(t *testing.T) (qqBot, map[string]string) {
			b := onebot.New(onebot.Options{Token: "qq-token-secret"})
			b.SetGroupName(groupA, "MC服务器交流群")
			must(t, b.Start("127.0.0.1:0"))
			t.Cleanup(b.Stop)
			return b, map[string]string{"QQ_URL": strings.Replace(b.HTTPURL(), "http://", "http://bot:basic-pw-secret@", 1),
				"QQ_ACCESS_TOKEN": "qq-token-secret"}
		}, "bot:***@"},
		{"milky, password in the URL", "json", func(t *testing.T) (qqBot, map[string]string) {
			m := milky.New(milky.Options{Token: "qq-token-secret"})
			m.SetGroupName(groupA, "MC服务器交流群")
			must(t, m.Start("127.0.0.1:0"))
			t.Cleanup(m.Stop)
			return m, map[string]string{"QQ_PROTOCOL": "milky", "QQ_ACCESS_TOKEN": "qq-token-secret",
				"QQ_URL": strings.Replace(m.URL(), "http://", "http://bot:basic-pw-secret@", 1)}
		}, "bot:***@"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir()) // no .env; DATA_DIR=data lands here
			bot, qqEnv := c.bot(t)
			mc := started(t, queqiao.New(queqiao.Options{ServerName: "survival", Token: "mc-token-secret"}))
			console := started(t, rcon.New("rcon-pw-secret", func(string) string { return "" }))
			environ := []string{"MC_0_NAME=survival", "MC_0_WS_URL=" + mc.URL() + "?access_token=mc-url-secret",
				"MC_0_TOKEN=mc-token-secret", "MC_0_RCON_ADDR=" + console.Addr(), "MC_0_RCON_PASSWORD=rcon-pw-secret",
				"MC_0_GROUPS=" + strconv.Itoa(groupA), "HTTP_LISTEN=none", "REQUEST_TIMEOUT=2s",
				"LOG_LEVEL=debug", "LOG_FORMAT=" + c.format}
			for k, v := range qqEnv {
				environ = append(environ, k+"="+v)
			}
			var outputs []string
			check := func(want int) {
				t.Helper()
				var out, errOut bytes.Buffer
				if code := run(context.Background(), []string{"-check"}, environ, &out, &errOut); code != want {
					t.Errorf("-check exit %d; want %d\n%s%s", code, want, out.String(), errOut.String())
				}
				outputs = append(outputs, "-check:\n"+out.String()+errOut.String())
			}

			// Everything down: every connection fails, and says so.
			bot.Stop()
			mc.Stop()
			console.Stop()
			check(exitFail)
			logs := &testutil.LogBuffer{}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan int, 1)
			go func() { done <- run(ctx, nil, environ, &bytes.Buffer{}, logs) }()
			stopped := false
			stop := func() int {
				cancel()
				if stopped {
					return exitOK
				}
				stopped = true
				return <-done
			}
			defer stop()
			testutil.WaitFor(t, "three connections failing", func() bool {
				return strings.Count(logs.String(), "cannot connect") >= 3
			}, 10*time.Second)

			// Back up: the bridge reconnects.
			must(t, bot.Restart())
			must(t, mc.Restart())
			must(t, console.Restart())
			t.Cleanup(func() {
				if t.Failed() {
					t.Log(logs.String())
				}
			})
			testutil.WaitFor(t, "three connections up", func() bool {
				return len(connectedLine.FindAllString(logs.String(), -1)) >= 3
			}, 20*time.Second)
			if code := stop(); code != exitOK {
				t.Errorf("bridge exit %d", code)
			}
			outputs = append(outputs, "log:\n"+logs.String())
			check(exitOK)

			all := strings.Join(outputs, "\n")
			for _, s := range secrets {
				if strings.Contains(all, s) {
					t.Errorf("%s appears:\n%s", s, all)
				}
			}
			for _, want := range []string{c.masked, "?access_token=***", "MC_0_TOKEN=***", "MC_0_RCON_PASSWORD=***"} {
				if !strings.Contains(all, want) {
					t.Errorf("%s does not appear (were the URLs shown at all?):\n%s", want, all)
				}
			}
		})
	}
}

// connectedLine is the "connected" state change in JSON or text logs.
var connectedLine = regexp.MustCompile(`"msg":"connected"|INF connected\b`)
