package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/standin/queqiao"
	"github.com/mcqq/bridge/internal/standin/rcon"
)

// A port that accepts the connection but speaks another protocol is named
// as such, not blamed on a firewall: QueQiao's URL at the RCON port, RCON at
// QueQiao's port, QQ_URL at QueQiao (which refuses with its own words).
func TestCheckNamesAPortThatSpeaksAnotherProtocol(t *testing.T) {
	bot := started(t, onebot.New(onebot.Options{}))
	bot.SetGroupName(groupA, "MC服务器交流群")
	mc := started(t, queqiao.New(queqiao.Options{ServerName: "survival"}))
	console := started(t, rcon.New("rcon-pw", nil))
	mcAddr := strings.TrimSuffix(strings.TrimPrefix(mc.URL(), "ws://"), "/")

	env := func(qqURL, mcURL, rconAddr string) map[string]string {
		e := map[string]string{
			"QQ_URL": qqURL, "HTTP_LISTEN": "none", "REQUEST_TIMEOUT": "2s",
			"MC_0_NAME": "survival", "MC_0_WS_URL": mcURL, "MC_0_GROUPS": strconv.Itoa(groupA),
		}
		if rconAddr != "" {
			e["MC_0_RCON_ADDR"], e["MC_0_RCON_PASSWORD"] = rconAddr, "rcon-pw"
		}
		return e
	}
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"MC_0_WS_URL at RCON", env(bot.URL(), "ws://"+console.Addr(), ""),
			"queqiao survival: something answers on " + console.Addr() + " but it is not QueQiao's websocket_server (config.yml): check the port in MC_0_WS_URL"},
		{"RCON_ADDR at QueQiao", env(bot.URL(), mc.URL(), mcAddr),
			"rcon survival: something answers on " + mcAddr + " but it is not the game's RCON: check the port in MC_0_RCON_ADDR (rcon.port in server.properties)"},
		{"QQ_URL at QueQiao", env(mc.URL(), mc.URL(), ""),
			"qq (onebot): QQ_URL points at QueQiao's websocket_server, not the bot: use the port of NapCat's WebSocket server"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := checkOutput(t, c.env)
			if !strings.Contains(out, c.want) || strings.Contains(out, "no firewall blocks the port") {
				t.Errorf("want %q in\n%s", c.want, out)
			}
		})
	}
}

// A hint names the host and port of a URL even when the URL does not parse,
// never the whole value (which may carry a token).
func TestHostPortOfAnUnparsableURL(t *testing.T) {
	for raw, want := range map[string][2]string{
		"ws://127.0.0.1:3001/%zz":                {"127.0.0.1", "3001"},
		"ws://user:secret@example.com/%zz?t=1":   {"example.com", "80"},
		"wss://[::1]:8443/%zz":                   {"::1", "8443"},
		"tcp://127.0.0.1:25575":                  {"127.0.0.1", "25575"},
		"http://127.0.0.1:3000/api?access_token": {"127.0.0.1", "3000"},
	} {
		if host, port := hostPort(raw); host != want[0] || port != want[1] {
			t.Errorf("hostPort(%q) = %q, %q; want %q, %q", raw, host, port, want[0], want[1])
		}
	}
}
