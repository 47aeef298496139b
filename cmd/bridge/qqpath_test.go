package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/standin/queqiao"
	"github.com/mcqq/bridge/internal/testutil"
)

// A OneBot QQ_URL on /api or /event connects, yet one direction is dead:
// NapCat and LLBot send no events on /api, LLBot ignores actions on /event.
// -check fails /api and says to use the root path for both; a start logs
// the same warning.
func TestOneBotPathThatLeavesADirectionDead(t *testing.T) {
	mc := started(t, queqiao.New(queqiao.Options{ServerName: "survival"}))
	napcat := onebot.New(onebot.Options{})
	llbot := onebot.New(onebot.Options{Flavor: "llbot"})
	for _, b := range []*onebot.Bot{napcat, llbot} {
		must(t, b.Start("127.0.0.1:0"))
		t.Cleanup(b.Stop)
		b.AddMember(groupA, alice)
		b.SetGroupName(groupA, "MC服务器交流群")
	}
	env := func(qqURL string) []string {
		return []string{"QQ_URL=" + qqURL, "HTTP_LISTEN=none", "REQUEST_TIMEOUT=2s", "DATA_DIR=" + t.TempDir(),
			"MC_0_NAME=survival", "MC_0_WS_URL=" + mc.URL(), "MC_0_GROUPS=" + strconv.Itoa(groupA)}
	}
	apiWarning := "qq (onebot): QQ_URL ends in /api, where NapCat and LLBot send no events, so QQ messages would never reach the game: use the root path, " + napcat.URL()
	cases := []struct {
		name, url string
		code      int
		want      []string
	}{
		{"NapCat /api", napcat.URL() + "api", exitFail, []string{"FAIL: connected, but the bot sends no events on this path", apiWarning}},
		{"LLBot /api/", llbot.URL() + "api/", exitFail, []string{"FAIL: connected, but the bot sends no events on this path",
			strings.ReplaceAll(apiWarning, napcat.URL(), llbot.URL())}},
		{"LLBot /event", llbot.URL() + "event", exitFail, []string{"qq (onebot): QQ_URL ends in /event, where LLBot ignores the bridge's actions, so nothing would reach QQ: use the root path, " + llbot.URL()}},
		// NapCat serves both directions on /event: the check passes, with the warning.
		{"NapCat /event", napcat.URL() + "event", exitOK, []string{"QQ_URL ends in /event, where LLBot ignores"}},
		{"root", napcat.URL(), exitOK, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"-check"}, env(c.url), &out, &errOut)
			if code != c.code {
				t.Errorf("-check exit %d, want %d", code, c.code)
			}
			for _, want := range c.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("-check output lacks %q", want)
				}
			}
			if c.want == nil && strings.Contains(out.String(), "QQ_URL ends in") {
				t.Errorf("a warning for the root path")
			}
			if t.Failed() {
				t.Logf("output:\n%s%s", out.String(), errOut.String())
			}
		})
	}

	t.Run("start", func(t *testing.T) {
		t.Chdir(t.TempDir())
		var logs testutil.LogBuffer
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int)
		go func() {
			var out bytes.Buffer
			done <- run(ctx, nil, append(env(napcat.URL()+"api"), "LOG_FORMAT=json"), &out, &logs)
		}()
		testutil.WaitFor(t, "the warning logged", func() bool {
			return strings.Contains(logs.String(), "QQ_URL ends in /api, where NapCat and LLBot send no events")
		}, 10*time.Second)
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the bridge did not stop")
		}
	})
}
