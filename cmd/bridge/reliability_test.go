package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/standin/queqiao"
	"github.com/mcqq/bridge/internal/standin/rcon"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
)

// The QueQiao server is down while 50 QQ messages are said; after it comes
// back on the same port all 50 arrive, in order, within 10 s.
func TestGameOutageLosesNothing(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}}, nil)
	mc := w.mc["survival"]
	mc.Stop()
	w.waitFor("the bridge to notice", func() bool { return !w.bridge.games[0].State().Up() })

	var want []string
	for i := range 50 {
		text := fmt.Sprintf("消息 %02d", i)
		want = append(want, text)
		w.say(groupA, bob, qq.Text(text))
	}
	// Every message has reached the bridge and waits in its queue.
	w.waitFor("50 queued", func() bool { return w.bridge.relay.Queued("mc:survival") == 50 })

	must(t, mc.Restart())
	restarted := time.Now()
	reqs := w.waitRequests("survival", "broadcast", 50)
	if took := time.Since(restarted); took > 10*time.Second {
		t.Fatalf("delivery took %v after the restart", took)
	}
	var got []string
	for _, r := range reqs {
		line := plain(decodeMessage(t, r.Data, "message"))
		got = append(got, line[strings.LastIndex(line, "：")+len("："):])
	}
	if !slices.Equal(got, want) {
		t.Fatalf("after the outage the game got\n%v\nwant\n%v", got, want)
	}
}

// The QQ bot is down while 50 game chat lines are said; after it comes back
// all 50 lines reach the group in order (merged into fewer messages).
func TestQQOutageLosesNothing(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}}, nil)
	w.bot.Stop()
	w.waitFor("the bridge to notice", func() bool { return !w.bridge.qq.State().Up() })

	var want []string
	for i := range 50 {
		w.mc["survival"].Chat("Steve", fmt.Sprintf("line %02d", i))
		want = append(want, fmt.Sprintf("Steve：line %02d", i))
	}
	w.waitFor("50 queued", func() bool { return w.bridge.relay.Queued(fmt.Sprintf("qq:%d", groupA)) == 50 })

	must(t, w.bot.Restart())
	restarted := time.Now()
	w.waitFor("50 lines", func() bool { return len(w.lines(groupA)) >= 50 })
	if took := time.Since(restarted); took > 10*time.Second {
		t.Fatalf("delivery took %v after the restart", took)
	}
	if got := w.lines(groupA); !slices.Equal(got, want) {
		t.Fatalf("after the outage QQ got\n%v\nwant\n%v", got, want)
	}
}

// A reverse connection with a wrong token or an unknown name is refused
// before the upgrade, a second one with a connected name is refused, and the
// right one is bridged.
func TestReverseQueQiaoConnections(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA), reverse: true}}, nil)
	url := "ws://" + w.env["MC_LISTEN"] + "/minecraft/ws"

	impostor := queqiao.New(queqiao.Options{ServerName: "survival", Token: "wrong"})
	if err := impostor.DialReverse(t.Context(), url); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("wrong token: %v, want a 403 before the upgrade", err)
	}
	stranger := queqiao.New(queqiao.Options{ServerName: "lobby", Token: "rev-secret"})
	if err := stranger.DialReverse(t.Context(), url); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("unknown name: %v, want a 404 before the upgrade", err)
	}

	w.dialIn(w.mc["survival"])
	w.waitFor("the plugin connected", func() bool { ready, _ := w.bridge.readiness(); return ready })
	twin := queqiao.New(queqiao.Options{ServerName: "survival", Token: "rev-secret"})
	if err := twin.DialReverse(t.Context(), url); err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("duplicate: %v, want a 409 before the upgrade", err)
	}

	w.mc["survival"].Chat("Steve", "反向连接可用")
	w.waitLine(groupA, "Steve：反向连接可用")
	w.say(groupA, bob, qq.Text("收到"))
	w.waitRequests("survival", "broadcast", 1)
}

// Garbage from either peer is skipped and the next valid message still goes
// through.
func TestGarbageDoesNotStopRelaying(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}}, nil)
	valid, err := os.ReadFile("testdata/event_player_chat.json")
	must(t, err)
	huge := append([]byte(`{"post_type":"message","pad":"`), bytes.Repeat([]byte("x"), 5<<20)...)
	huge = append(huge, `"}`...)

	qqGarbage := [][]byte{
		[]byte(`{not json`),
		huge,
		[]byte(`{"post_type":"message","message_type":"group","group_id":{"x":1},"user_id":"abc","message":7}`),
		[]byte(`{"post_type":"quantum","self_id":2401234567}`),
		[]byte(`[1,2,3]`),
		[]byte(`{"time":` + strconv.FormatInt(time.Now().Unix(), 10) + `,"self_id":2401234567,"post_type":"message","message_type":"group","sub_type":"normal",` +
			`"message_id":"77","group_id":"712345678","user_id":"1357924680","message":[{"type":"hologram","data":{"x":1}},{"type":"text","data":{"text":"有新段落"}}],` +
			`"sender":{"user_id":1357924680,"nickname":"Bob","card":"","role":"member"}}`),
	}
	for _, f := range qqGarbage {
		w.bot.Emit(f)
	}
	w.say(groupA, bob, qq.Text("垃圾之后"))
	reqs := w.waitRequests("survival", "broadcast", 2)
	first, second := plain(decodeMessage(t, reqs[0].Data, "message")), plain(decodeMessage(t, reqs[1].Data, "message"))
	if !strings.Contains(first, "[hologram]有新段落") || !strings.HasSuffix(second, "：垃圾之后") {
		t.Fatalf("game got %q then %q", first, second)
	}

	mcGarbage := [][]byte{
		[]byte(`}{`),
		huge,
		[]byte(`{"post_type":"message","sub_type":"player_chat","message":{"a":1},"player":"Steve"}`),
		[]byte(`{"post_type":"notice","sub_type":"player_teleport","player":{"nickname":"Steve"}}`),
	}
	for _, f := range mcGarbage {
		w.mc["survival"].Emit(f)
	}
	w.mc["survival"].Emit(valid)
	if got := w.waitLine(groupA, "Hello"); got != "Steve：Hello, world!" {
		t.Fatalf("line %q", got)
	}
	if !w.bridge.qq.State().Up() || !w.bridge.games[0].State().Up() {
		t.Fatal("garbage cost a connection")
	}
}

// /readyz turns 503 when a server goes away and 200 when it is back; /metrics
// counts relayed and dropped messages.
func TestReadinessAndMetrics(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}},
		map[string]string{"QUEUE_SIZE": "2"})
	srv := httptest.NewServer(w.bridge.httpHandler())
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		must(t, err)
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, body := get("/healthz"); code != 200 {
		t.Fatalf("/healthz %d %s", code, body)
	}
	if code, body := get("/readyz"); code != 200 {
		t.Fatalf("/readyz %d %s", code, body)
	}

	w.mc["survival"].Chat("Steve", "hi")
	w.waitLine(groupA, "Steve：hi")
	w.say(groupA, bob, qq.Text("one"))
	w.waitRequests("survival", "broadcast", 1)

	w.mc["survival"].Stop()
	w.waitFor("not ready", func() bool { code, _ := get("/readyz"); return code == 503 })
	_, body := get("/readyz")
	var ready readyBody
	must(t, json.Unmarshal([]byte(body), &ready))
	for _, c := range ready.Connections {
		if c.Name == "survival" && (c.Up || c.LastError == "") {
			t.Fatalf("survival reported %+v", c)
		}
		if c.Name == "qq" && !c.Up {
			t.Fatalf("qq reported %+v", c)
		}
	}

	for _, s := range []string{"a", "b", "c", "d", "e"} { // QUEUE_SIZE 2: three dropped
		w.say(groupA, bob, qq.Text(s))
	}
	w.waitFor("drops counted", func() bool {
		_, m := get("/metrics")
		return strings.Contains(m, `bridge_messages_dropped_total{queue="mc:survival"} 3`)
	})
	must(t, w.mc["survival"].Restart())
	w.waitFor("ready again", func() bool { code, _ := get("/readyz"); return code == 200 })
	w.waitRequests("survival", "broadcast", 3) // "d" and "e" survived
	// The stand-in holds the request a moment before the bridge has its
	// answer and counts the message.
	w.waitFor("the last delivery counted", func() bool {
		_, m := get("/metrics")
		return strings.Contains(m, `bridge_messages_relayed_total{direction="qq_to_mc",server="survival"} 3`)
	})

	_, metrics := get("/metrics")
	for _, want := range []string{
		`bridge_messages_relayed_total{direction="mc_to_qq",server="survival"} 1`,
		`bridge_messages_relayed_total{direction="qq_to_mc",server="survival"} 3`,
		`bridge_reconnects_total{conn="survival",kind="queqiao"} 1`,
		`bridge_connection_up{conn="survival",kind="queqiao"} 1`,
		`bridge_relay_latency_seconds_bucket{direction="qq_to_mc"`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// bridge -check reports each connection and fails when one is unreachable or
// refuses the token.
func TestCheckCommand(t *testing.T) {
	bot := onebot.New(onebot.Options{Token: "qq-secret"})
	must(t, bot.Start("127.0.0.1:0"))
	defer bot.Stop()
	bot.SetGroupName(groupA, "MC服务器交流群") // the bot is in the group
	mc := queqiao.New(queqiao.Options{ServerName: "survival", Token: "mc-secret"})
	must(t, mc.Start("127.0.0.1:0"))
	defer mc.Stop()
	console := rcon.New("pw", func(string) string { return "" })
	must(t, console.Start("127.0.0.1:0"))
	defer console.Stop()
	env := func(mcToken, rconAddr string) []string {
		return []string{"QQ_URL=" + bot.URL(), "QQ_ACCESS_TOKEN=qq-secret", "MC_0_NAME=survival",
			"MC_0_WS_URL=" + mc.URL(), "MC_0_TOKEN=" + mcToken, "MC_0_GROUPS=" + strconv.Itoa(groupA),
			"MC_0_RCON_ADDR=" + rconAddr, "MC_0_RCON_PASSWORD=pw", "REQUEST_TIMEOUT=2s"}
	}
	t.Chdir(t.TempDir())

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-check"}, env("mc-secret", console.Addr()), &out, &errOut); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"QQ_ACCESS_TOKEN=***", "MC_0_TOKEN=***", "qq (onebot)", "queqiao survival", "rcon survival",
		"database data/bridge.db ok: will be created at start (schema version 2)"} {
		if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "qq-secret") || strings.Contains(out.String(), "mc-secret") || strings.Contains(out.String(), "FAIL") {
		t.Errorf("output:\n%s", out.String())
	}

	out.Reset()
	unreachable := freeAddr(t)
	code := run(context.Background(), []string{"-check"}, env("wrong-token", unreachable), &out, &errOut)
	if code == exitOK {
		t.Fatalf("exit 0 with a wrong token and a dead RCON:\n%s", out.String())
	}
	for _, want := range []string{"Authorization Header is wrong", "connection refused"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// On shutdown the bridge stops accepting, delivers what is queued (here held
// back by the group rate limit) and returns cleanly.
func TestShutdownDeliversQueuedMessages(t *testing.T) {
	bot, mc := startStandIns(t)
	w, stop := startStoppable(t, bot, mc, map[string]string{"QQ_GROUP_RATE": "1/1h"})

	mc.Chat("Steve", "first")
	w.waitLine(groupA, "first")
	mc.Chat("Steve", "second")
	mc.Chat("Steve", "third")
	w.waitFor("two queued behind the rate limit", func() bool { return w.bridge.relay.Queued(fmt.Sprintf("qq:%d", groupA)) == 2 })

	if err := stop(); err != nil {
		t.Fatalf("run = %v", err)
	}
	if got := w.lines(groupA); !slices.Equal(got, []string{"Steve：first", "Steve：second", "Steve：third"}) {
		t.Fatalf("QQ got %v", got)
	}
	w.waitFor("connections closed", func() bool { return bot.Connected() == 0 && mc.Connected() == 0 })
}

// A command still running when shutdown begins gets its reply delivered: the
// group's queue is drained only once nothing can be queued any more.
func TestShutdownDeliversTheReplyOfARunningCommand(t *testing.T) {
	bot, mc := startStandIns(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before mc.Stop, which waits for the blocked handler
	mc.SetRCON(func(cmd string) string { <-release; return "ran " + cmd })
	w, stop := startStoppable(t, bot, mc, nil)

	id := w.say(groupA, bob, qq.Text("/mcc list"))
	w.waitRequests("survival", "send_rcon_command", 1) // the command now waits for the game
	if err := stop(); err != nil {
		t.Fatalf("run = %v", err)
	}
	for _, s := range bot.Sent() {
		if s.GroupID == groupA && len(s.Message) > 0 && s.Message[0].Type == qq.SegReply &&
			s.Message[0].ID == strconv.FormatInt(id, 10) {
			if s.Text != "[survival] 失败：桥接正在关闭" {
				t.Errorf("reply %q", s.Text)
			}
			return
		}
	}
	t.Fatalf("no reply to the running command; QQ got %v", w.lines(groupA))
}

// startStandIns starts a OneBot bot and the QueQiao server "survival", both
// stopped when the test ends.
func startStandIns(t *testing.T) (*onebot.Bot, *queqiao.Server) {
	t.Helper()
	bot := started(t, onebot.New(onebot.Options{}))
	mc := started(t, queqiao.New(queqiao.Options{ServerName: "survival", StrictComponents: true}))
	return bot, mc
}

// startStoppable runs the bridge for "survival" in groupA against bot and mc
// (extra overrides the variables) until every connection is up. stop
// cancels it as SIGTERM does and returns run's result, failing the test when
// shutdown takes more than 10 s; otherwise the bridge stops when the test
// ends, before the stand-ins.
func startStoppable(t *testing.T, bot *onebot.Bot, mc *queqiao.Server, extra map[string]string) (w *world, stop func() error) {
	t.Helper()
	env := map[string]string{"QQ_URL": bot.URL(), "MC_0_NAME": "survival", "MC_0_WS_URL": mc.URL(),
		"MC_0_GROUPS": strconv.Itoa(groupA), "HTTP_LISTEN": "none", "DATA_DIR": t.TempDir()}
	maps.Copy(env, extra)
	cfg, _, err := LoadConfig(env)
	must(t, err)
	logs := &testutil.LogBuffer{}
	b, err := build(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.run(ctx) }()
	returned := false
	t.Cleanup(func() {
		if !returned {
			cancel()
			<-done
		}
	})
	w = &world{t: t, bot: bot, bridge: b, mc: map[string]*queqiao.Server{"survival": mc}, logs: logs}
	w.waitFor("connected", func() bool { ready, _ := b.readiness(); return ready })
	return w, func() error {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			returned = true
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("shutdown took longer than 10 s")
			return nil
		}
	}
}

// A listener that cannot bind stops start-up at once with an error naming
// it, and nothing started before it is left running.
func TestListenerThatCannotBindStopsStartup(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer taken.Close()
	cfg, _, err := LoadConfig(map[string]string{"QQ_LISTEN": taken.Addr().String(), "MC_0_NAME": "survival",
		"MC_0_WS_URL": "ws://127.0.0.1:1", "MC_0_GROUPS": strconv.Itoa(groupA), "HTTP_LISTEN": freeAddr(t),
		"DATA_DIR": t.TempDir()})
	must(t, err)
	b, err := build(cfg, discardLogger())
	must(t, err)
	err = b.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "QQ_LISTEN") {
		t.Fatalf("run = %v, want an error naming QQ_LISTEN", err)
	}
	if c, err := net.Dial("tcp", string(cfg.HTTPListen)); err == nil {
		c.Close()
		t.Fatalf("HTTP_LISTEN %s still accepts after the failed start-up", cfg.HTTPListen)
	}
}
