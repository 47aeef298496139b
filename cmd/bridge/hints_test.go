package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/standin/milky"
	"github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/standin/queqiao"
	"github.com/mcqq/bridge/internal/standin/rcon"
	"github.com/mcqq/bridge/internal/standin/satori"
	"github.com/mcqq/bridge/internal/testutil"
)

// checkOutput runs bridge -check with env and returns its output.
func checkOutput(t *testing.T, env map[string]string) string {
	t.Helper()
	t.Chdir(t.TempDir()) // no .env
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-check"}, environ, &out, &errOut)
	if code != exitFail {
		t.Fatalf("-check exit %d, want %d\n%s%s", code, exitFail, out.String(), errOut.String())
	}
	return out.String()
}

// Each failure a server owner meets while setting up names the variable and
// the setting on the other side to compare, or what to switch on.
func TestCheckExplainsWhatToChange(t *testing.T) {
	// The peers that answer, each with its own expectation.
	bot := started(t, onebot.New(onebot.Options{Token: "bot-token"}))
	llbot := started(t, onebot.New(onebot.Options{Token: "bot-token", Flavor: "llbot"}))
	mb := started(t, milky.New(milky.Options{Token: "bot-token"}))
	mc := started(t, queqiao.New(queqiao.Options{ServerName: "survival", Token: "mc-token"}))
	console := started(t, rcon.New("rcon-pw", func(string) string { return "" }))
	// The bot is in the group, so only the failure under test shows.
	bot.SetGroupName(groupA, "MC服务器交流群")
	llbot.SetGroupName(groupA, "MC服务器交流群")
	mb.AddMember(groupA, alice)
	closed := freeAddr(t) // nothing listens here
	_, closedPort, _ := net.SplitHostPort(closed)

	base := func(qqURL, qqToken, mcName, mcURL, mcToken string) map[string]string {
		return map[string]string{
			"QQ_URL": qqURL, "QQ_ACCESS_TOKEN": qqToken, "HTTP_LISTEN": "none", "REQUEST_TIMEOUT": "3s",
			"MC_0_NAME": mcName, "MC_0_WS_URL": mcURL, "MC_0_TOKEN": mcToken, "MC_0_GROUPS": strconv.Itoa(groupA),
		}
	}
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"QQ token (NapCat)", base(bot.URL(), "wrong", "survival", mc.URL(), "mc-token"),
			[]string{`qq (onebot): QQ_ACCESS_TOKEN must equal the token of NapCat's WebSocket server (LLBot: of its "ws" connection)`}},
		{"QQ token (LLBot)", base(llbot.URL(), "wrong", "survival", mc.URL(), "mc-token"),
			[]string{`qq (onebot): QQ_ACCESS_TOKEN must equal the token of NapCat's WebSocket server`}},
		{"QQ token (Milky)", func() map[string]string {
			e := base(mb.URL(), "wrong", "survival", mc.URL(), "mc-token")
			e["QQ_PROTOCOL"] = "milky"
			return e
		}(), []string{"qq (milky): QQ_ACCESS_TOKEN must equal LLBot's milky.http.accessToken"}},
		{"QueQiao token", base(bot.URL(), "bot-token", "survival", mc.URL(), "wrong"),
			[]string{"queqiao survival: MC_0_TOKEN must equal access_token in QueQiao's config.yml"}},
		{"QueQiao name", base(bot.URL(), "bot-token", "lobby", mc.URL(), "mc-token"),
			[]string{"queqiao lobby: MC_0_NAME (lobby) must equal server_name in QueQiao's config.yml"}},
		{"nothing listening", base("ws://"+closed+"/", "", "survival", "ws://"+closed, ""),
			[]string{
				`qq (onebot): nothing accepts connections on ` + closed + `: is NapCat's WebSocket server (LLBot: its "ws" connection) enabled on port ` + closedPort,
				`queqiao survival: nothing accepts connections on ` + closed + `: is QueQiao's websocket_server (config.yml) enabled on port ` + closedPort,
			}},
		{"RCON password", func() map[string]string {
			e := base(bot.URL(), "bot-token", "survival", mc.URL(), "mc-token")
			e["MC_0_RCON_ADDR"] = console.Addr()
			e["MC_0_RCON_PASSWORD"] = "wrong"
			return e
		}(), []string{"rcon survival: MC_0_RCON_PASSWORD must equal rcon.password in server.properties"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := checkOutput(t, c.env)
			if !strings.Contains(out, "What to check:") {
				t.Fatalf("no hints:\n%s", out)
			}
			for _, want := range c.want {
				if !strings.Contains(out, want) {
					t.Errorf("-check output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// The running bridge logs the hint with the failure, and /readyz carries it.
func TestRunningBridgeLogsTheHint(t *testing.T) {
	mc := started(t, queqiao.New(queqiao.Options{ServerName: "survival", Token: "mc-token"}))
	cfg, _, err := LoadConfig(map[string]string{
		"QQ_URL": "ws://" + freeAddr(t) + "/", "HTTP_LISTEN": "none", "DATA_DIR": t.TempDir(),
		"MC_0_NAME": "survival", "MC_0_WS_URL": mc.URL(), "MC_0_TOKEN": "wrong", "MC_0_GROUPS": strconv.Itoa(groupA),
	})
	must(t, err)
	var logs testutil.LogBuffer
	b, err := build(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	must(t, err)
	testutil.RunInBackground(t, b.run, 10*time.Second)
	testutil.WaitFor(t, "both failures logged", func() bool {
		return strings.Count(logs.String(), "cannot connect") == 2
	}, 10*time.Second)
	for _, want := range []string{
		`hint="MC_0_TOKEN must equal access_token in QueQiao's config.yml"`,
		`hint="nothing accepts connections on`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
	_, body := b.readiness()
	for _, c := range body.Connections {
		if c.Hint == "" {
			t.Errorf("/readyz: %s has no hint: %+v", c.Name, c)
		}
	}
}

// -check fails a configured group the bot is not in, names the variable
// and says what to do, whichever way the bot answers: its group list
// (NapCat, LLBot, Milky), or, for a bot without get_group_list, what it says
// about the group itself.
func TestCheckFailsAGroupTheBotIsNotIn(t *testing.T) {
	survival := started(t, queqiao.New(queqiao.Options{ServerName: "survival"}))
	creative := started(t, queqiao.New(queqiao.Options{ServerName: "creative"}))
	const stranger = 111111
	env := func(protocol, url string) map[string]string {
		return map[string]string{
			"QQ_PROTOCOL": protocol, "QQ_URL": url, "HTTP_LISTEN": "none", "REQUEST_TIMEOUT": "3s",
			"MC_0_NAME": "survival", "MC_0_WS_URL": survival.URL(), "MC_0_GROUPS": strconv.Itoa(groupA),
			"MC_1_NAME": "creative", "MC_1_WS_URL": creative.URL(), "MC_1_GROUPS": strconv.Itoa(groupA) + "," + strconv.Itoa(stranger),
		}
	}
	napcat := onebot.New(onebot.Options{})
	llbot := onebot.New(onebot.Options{Flavor: "llbot"})
	old := onebot.New(onebot.Options{})
	old.SetUnsupported("get_group_list")
	mb := milky.New(milky.Options{})
	for _, b := range []*onebot.Bot{napcat, llbot, old} {
		must(t, b.Start("127.0.0.1:0"))
		t.Cleanup(b.Stop)
		b.AddMember(groupA, alice)
		b.SetGroupName(groupA, "MC服务器交流群")
	}
	must(t, mb.Start("127.0.0.1:0"))
	t.Cleanup(mb.Stop)
	mb.AddMember(groupA, alice)

	cases := []struct {
		name, protocol, url, want string
	}{
		{"NapCat", "onebot", napcat.URL(), "FAIL: the bot is not in group 111111 (MC_1_GROUPS)"},
		{"LLBot", "onebot", llbot.URL(), "FAIL: the bot is not in group 111111 (MC_1_GROUPS)"},
		{"Milky", "milky", mb.URL(), "FAIL: the bot is not in group 111111 (MC_1_GROUPS)"},
		{"no get_group_list", "onebot", old.URL(), "FAIL: the bot is not in group 111111 (MC_1_GROUPS): 群111111不存在"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := checkOutput(t, env(c.protocol, c.url))
			if !strings.Contains(out, c.want) || !strings.Contains(out, "add the bot's QQ account to group 111111") {
				t.Fatalf("-check output:\n%s", out)
			}
			if strings.Contains(out, strconv.Itoa(groupA)+" (") || strings.Count(out, "FAIL") != 1 {
				t.Errorf("more than the missing group failed:\n%s", out)
			}
		})
	}
}

// Satori's failures get hints that agree with the error: a rejected token
// names the Satori server's token, and a 404 (Koishi's /satori left out of
// QQ_URL) says to add the path prefix rather than blaming the port. An HTTP
// body quoted in a result (Go's "404 page not found\n", OneBot's 404 too)
// keeps every connection on one line of the table.
func TestCheckSatoriHintsAndOneLineResults(t *testing.T) {
	llbot := started(t, satori.New(satori.Options{Token: "bot-token"}))
	koishi := started(t, satori.New(satori.Options{Token: "bot-token", Koishi: true}))
	mc := started(t, queqiao.New(queqiao.Options{ServerName: "survival"}))
	koishiRoot := strings.TrimSuffix(koishi.URL(), "/satori")
	env := func(protocol, qqURL, token string) map[string]string {
		return map[string]string{
			"QQ_PROTOCOL": protocol, "QQ_URL": qqURL, "QQ_ACCESS_TOKEN": token, "HTTP_LISTEN": "none", "REQUEST_TIMEOUT": "3s",
			"MC_0_NAME": "survival", "MC_0_WS_URL": mc.URL(), "MC_0_GROUPS": strconv.Itoa(groupA),
		}
	}
	cases := []struct {
		name      string
		env       map[string]string
		want, not string
	}{
		{"Satori token", env("satori", llbot.URL(), "wrong"),
			"qq (satori): QQ_ACCESS_TOKEN must equal the token of LLBot's satori section (Koishi: of its Satori server plugin)", ""},
		{"Koishi without /satori", env("satori", koishiRoot, "bot-token"),
			"qq (satori): QQ_URL must be the Satori base URL, path prefix included: Koishi's Satori server mounts under /satori (" + koishi.URL() + ")",
			"instead of a WebSocket"},
		{"OneBot at a port answering 404", env("onebot", "ws"+strings.TrimPrefix(koishiRoot, "http")+"/", ""),
			"answered HTTP 404 instead of a WebSocket", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := checkOutput(t, c.env)
			if !strings.Contains(out, c.want) || (c.not != "" && strings.Contains(out, c.not)) {
				t.Errorf("want %q (and not %q) in\n%s", c.want, c.not, out)
			}
			// The table: a header, then one line per connection up to a blank line.
			table, _, _ := strings.Cut(strings.TrimSpace(out[strings.Index(out, "CONNECTION"):]), "\n\n")
			for _, line := range strings.Split(table, "\n")[1:] {
				if !strings.HasPrefix(line, "database ") && !strings.HasPrefix(line, "qq (") && !strings.HasPrefix(line, "queqiao survival ") {
					t.Errorf("table line %q is not a connection's", line)
				}
			}
			if n := strings.Count(table, "\n"); n != 3 {
				t.Errorf("table has %d lines after its header; want 3:\n%s", n, out)
			}
		})
	}
}

// A URL a hint suggests keeps what the user wrote but the path: the scheme
// (https stays https), the port as written (none added) and the query, its
// token hidden, so copying it loses nothing but the secret to put back.
func TestSuggestedURLsKeepSchemePortAndQuery(t *testing.T) {
	for _, c := range []struct{ raw, path, want string }{
		{"https://koishi.example.com/", "/satori", "https://koishi.example.com/satori"},
		{"http://127.0.0.1:5140", "/satori", "http://127.0.0.1:5140/satori"},
		{"ws://127.0.0.1:3001/api?access_token=k7Qz9xWv2abc", "/", "ws://127.0.0.1:3001/?access_token=***"},
	} {
		if got := withPath(c.raw, c.path); got != c.want {
			t.Errorf("withPath(%q, %q) = %q; want %q", c.raw, c.path, got, c.want)
		}
	}
	cfg := &Config{QQProtocol: ProtocolOneBot, QQURL: "wss://bot.example.com/api?access_token=k7Qz9xWv2abc"}
	if warning, _ := oneBotPathProblem(cfg); !strings.HasSuffix(warning, "use the root path, wss://bot.example.com/?access_token=***") {
		t.Errorf("warning: %s", warning)
	}
}
