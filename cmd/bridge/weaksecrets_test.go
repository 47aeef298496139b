package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/standin/queqiao"
	"github.com/mcqq/bridge/internal/standin/rcon"
)

// A secret that is a word ("wrong") no longer garbles what -check prints
// ("Authorization Header is ***", "(*** RCON password?)"): it stays hidden
// where it stands as a secret, and one warning line names the variables
// whose secrets are short or common words.
func TestWordLikeSecretsDoNotGarbleCheck(t *testing.T) {
	bot := started(t, onebot.New(onebot.Options{}))
	bot.SetGroupName(groupA, "MC服务器交流群")
	mc := started(t, queqiao.New(queqiao.Options{ServerName: "survival", Token: "mc-token-secret"}))
	console := started(t, rcon.New("rcon-pw-secret", nil))

	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-check"}, []string{
		"QQ_URL=" + bot.URL() + "?access_token=abc", "HTTP_LISTEN=none", "REQUEST_TIMEOUT=3s", "LOG_FORMAT=json",
		"MC_0_NAME=survival", "MC_0_WS_URL=" + mc.URL(), "MC_0_TOKEN=wrong", "MC_0_GROUPS=" + strconv.Itoa(groupA),
		"MC_0_RCON_ADDR=" + console.Addr(), "MC_0_RCON_PASSWORD=wrong",
	}, &out, &errOut)
	if code != exitFail {
		t.Errorf("exit %d", code)
	}
	for _, want := range []string{
		"rejected by plugin: Authorization Header is wrong",
		"authentication failed (wrong RCON password?)",
		"MC_0_TOKEN=***", "MC_0_RCON_PASSWORD=***", "QQ_URL=" + bot.URL() + "?access_token=***",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-check output lacks %q", want)
		}
	}
	warning := "QQ_URL, MC_0_TOKEN, MC_0_RCON_PASSWORD: shorter than 8 characters or a common word, so easy to guess (and a plain word or short number is hidden in logs only where it stands as a secret); use long random values on both sides"
	if n := strings.Count(errOut.String(), warning); n != 1 {
		t.Errorf("the warning appears %d times, want once", n)
	}
	if strings.Contains(out.String(), "access_token=abc") {
		t.Errorf("a short token in a URL shown")
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
}
