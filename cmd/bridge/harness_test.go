package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/standin/queqiao"
	"github.com/mcqq/bridge/internal/standin/rcon"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(noStrayDataDir{m}) }

// noStrayDataDir fails the run when a test left the default DATA_DIR
// ("data") in the package directory: every bridge a test starts gets a
// DATA_DIR of its own.
type noStrayDataDir struct{ m *testing.M }

func (r noStrayDataDir) Run() int {
	code := r.m.Run()
	if _, err := os.Stat("data"); err == nil {
		fmt.Fprintln(os.Stderr, "a test created ./data: give its bridge a DATA_DIR (t.TempDir())")
		os.RemoveAll("data")
		return 1
	}
	return code
}

// Two groups and the people in them, shared by the end-to-end tests.
const (
	groupA = 712345678
	groupB = 723456789
)

var (
	alice = qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}
	bob   = qq.Member{UserID: 1357924680, Nickname: "Bob", Role: "member"}
	owner = qq.Member{UserID: 10001, Nickname: "Root", Role: "member"} // in QQ_ADMINS
)

// world is a running bridge wired to stand-ins over loopback sockets.
type world struct {
	t      testing.TB
	bot    *onebot.Bot
	mc     map[string]*queqiao.Server
	rcon   map[string]*rcon.Server
	bridge *bridge
	logs   *testutil.LogBuffer
	env    map[string]string
	// stopBridge stops the running bridge as SIGTERM does (once; the test's
	// end does it too).
	stopBridge func()
}

type serverSpec struct {
	name    string
	groups  string
	rcon    bool   // give it a direct RCON stand-in
	version string // server_version the stand-in reports
	// reverse: the stand-in dials the bridge's MC_LISTEN (with token
	// "rev-secret") instead of being dialled; the test calls dialIn.
	reverse bool
	// whitelist: MC_<n>_WHITELIST=true (its whitelist follows the bindings)
	whitelist bool
}

// startWorld starts the stand-ins, configures the bridge through the same
// variables a user sets (extra overrides them) and waits until every
// connection is up. hooks see the bridge before it runs.
func startWorld(t testing.TB, servers []serverSpec, extra map[string]string, hooks ...func(*bridge)) *world {
	t.Helper()
	w := &world{t: t, mc: map[string]*queqiao.Server{}, rcon: map[string]*rcon.Server{}, logs: &testutil.LogBuffer{}}
	w.bot = onebot.New(onebot.Options{})
	must(t, w.bot.Start("127.0.0.1:0"))
	t.Cleanup(w.bot.Stop)
	for _, m := range []qq.Member{alice, bob, owner} {
		w.bot.AddMember(groupA, m)
		w.bot.AddMember(groupB, m)
	}
	w.bot.SetGroupName(groupA, "MC服务器交流群")

	env := map[string]string{
		"QQ_URL":          w.bot.URL(),
		"QQ_ADMINS":       strconv.FormatInt(owner.UserID, 10),
		"HTTP_LISTEN":     "none",
		"REQUEST_TIMEOUT": "2s",
		"QQ_GROUP_RATE":   "0",
		"DATA_DIR":        t.TempDir(),
	}
	// Benchmarks measure the bridge: the stand-ins skip checking every
	// component with the game's strict codec, and debug logging is off.
	_, bench := t.(*testing.B)
	for i, s := range servers {
		version := s.version
		if version == "" {
			version = "1.21.1"
		}
		p := "MC_" + strconv.Itoa(i) + "_"
		env[p+"NAME"] = s.name
		env[p+"GROUPS"] = s.groups
		if s.reverse {
			q := queqiao.New(queqiao.Options{ServerName: s.name, Version: version, Token: "rev-secret", StrictComponents: !bench})
			w.mc[s.name] = q
			env[p+"TOKEN"] = "rev-secret"
			if env["MC_LISTEN"] == "" {
				env["MC_LISTEN"] = freeAddr(t)
			}
		} else {
			q := started(t, queqiao.New(queqiao.Options{ServerName: s.name, Version: version, StrictComponents: !bench}))
			w.mc[s.name] = q
			env[p+"WS_URL"] = q.URL()
		}
		if s.whitelist {
			env[p+"WHITELIST"] = "true"
		}
		if s.rcon {
			r := rcon.New("pw", func(cmd string) string {
				if cmd == "list" {
					return "There are 1 of a max of 20 players online: §aSteve"
				}
				return "ran " + cmd
			})
			must(t, r.Start("127.0.0.1:0"))
			t.Cleanup(r.Stop)
			w.rcon[s.name] = r
			env[p+"RCON_ADDR"] = r.Addr()
			env[p+"RCON_PASSWORD"] = "pw"
		}
	}
	maps.Copy(env, extra)
	w.env = env
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bridge log:\n%s", w.logs.String())
		}
	})
	w.runBridge(hooks...)
	w.waitReady()
	return w
}

// runBridge builds a bridge from w.env and runs it until the test ends or
// w.stopBridge is called; hooks see it before it runs.
func (w *world) runBridge(hooks ...func(*bridge)) {
	t := w.t
	t.Helper()
	cfg, warnings, err := LoadConfig(w.env)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Fatal(warnings)
	}
	level := slog.LevelDebug
	if _, bench := t.(*testing.B); bench {
		level = slog.LevelWarn // a debug line per message would be what is measured
	}
	log := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: level}))
	w.bridge, err = build(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hooks {
		h(w.bridge)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.bridge.run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("bridge stopped with %v", err)
			}
		})
	}
	w.stopBridge = stop
	t.Cleanup(stop)
}

// waitReady waits until every connection is up, or with MC_LISTEN until it
// listens.
func (w *world) waitReady() {
	w.t.Helper()
	if w.env["MC_LISTEN"] == "" {
		w.waitFor("every connection up", w.bridge.everyConnectionUp)
	} else {
		w.waitListening(w.env["MC_LISTEN"])
	}
}

// startWithBot runs the bridge for one server, "survival" in groupA, against
// a QQ bot stand-in the test made and names in qqEnv (QQ_PROTOCOL, QQ_URL,
// QQ_LISTEN, …), and waits until it is connected and listening.
func startWithBot(t testing.TB, qqEnv map[string]string) *world {
	t.Helper()
	mc := started(t, queqiao.New(queqiao.Options{ServerName: "survival", StrictComponents: true}))
	env := map[string]string{
		"MC_0_NAME": "survival", "MC_0_WS_URL": mc.URL(), "MC_0_GROUPS": strconv.Itoa(groupA),
		"HTTP_LISTEN": "none", "QQ_GROUP_RATE": "0", "DATA_DIR": t.TempDir(),
	}
	maps.Copy(env, qqEnv)
	cfg, _, err := LoadConfig(env)
	must(t, err)
	b, err := build(cfg, discardLogger())
	must(t, err)
	testutil.RunInBackground(t, b.run, 10*time.Second)
	w := &world{t: t, mc: map[string]*queqiao.Server{"survival": mc}, bridge: b, env: env}
	w.waitFor("every connection up", b.everyConnectionUp)
	if env["QQ_LISTEN"] != "" {
		w.waitListening(env["QQ_LISTEN"])
	}
	return w
}

// everyConnectionUp reports whether every connection is up, the RCON
// consoles too: readiness counts only the QQ bot and the plugins, and a
// command or /bind right after start would find a console still dialling.
func (b *bridge) everyConnectionUp() bool {
	_, body := b.readiness()
	for _, c := range body.Connections {
		if !c.Up {
			return false
		}
	}
	return true
}

// waitListening waits until addr accepts TCP connections.
func (w *world) waitListening(addr string) {
	w.t.Helper()
	w.waitFor(addr+" to accept", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// started starts a stand-in on a free loopback port and stops it when the
// test ends.
func started[S interface {
	Start(addr string) error
	Stop()
}](t testing.TB, s S) S {
	t.Helper()
	must(t, s.Start("127.0.0.1:0"))
	t.Cleanup(s.Stop)
	return s
}

// freeAddr finds a loopback address with a free port.
func freeAddr(t testing.TB) string {
	t.Helper()
	// Below the kernel's ephemeral range (Linux: 32768 and up), where no
	// "port 0" listener of a stand-in and no outgoing connection is given a
	// port meanwhile; each port at most once in this process.
	freePorts.Lock()
	defer freePorts.Unlock()
	for range 1000 {
		port := 20000 + rand.IntN(12000)
		if freePorts.given[port] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // taken
		}
		ln.Close()
		freePorts.given[port] = true
		return ln.Addr().String()
	}
	t.Fatal("no free port found between 20000 and 32000")
	return ""
}

// freePorts are the ports freeAddr has handed out.
var freePorts = struct {
	sync.Mutex
	given map[int]bool
}{given: map[int]bool{}}

// dialIn makes the reverse-mode stand-in q dial the bridge's MC_LISTEN; the
// returned channel yields DialReverse's result when the connection ends.
func (w *world) dialIn(q *queqiao.Server) (stop func(), done <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- q.DialReverse(ctx, "ws://"+w.env["MC_LISTEN"]+"/minecraft/ws") }()
	w.t.Cleanup(func() { cancel(); <-ch })
	return cancel, ch
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or 10 s pass.
func (w *world) waitFor(what string, cond func() bool) {
	w.t.Helper()
	testutil.WaitFor(w.t, what, cond, 10*time.Second)
}

// say posts a group message as member and returns its message id.
func (w *world) say(group int64, m qq.Member, segs ...qq.Segment) int64 {
	return w.bot.GroupMessage(group, m, segs)
}

// requests returns what server name was asked to do with api.
func (w *world) requests(name, api string) []queqiao.Request {
	var out []queqiao.Request
	for _, r := range w.mc[name].Requests() {
		if r.API == api {
			out = append(out, r)
		}
	}
	return out
}

// waitRequests waits until server name got n requests of api.
func (w *world) waitRequests(name, api string, n int) []queqiao.Request {
	w.t.Helper()
	w.waitFor(name+" "+api, func() bool { return len(w.requests(name, api)) >= n })
	return w.requests(name, api)
}

// lines returns every line the bot was asked to send to group, in order.
func (w *world) lines(group int64) []string {
	var out []string
	for _, s := range w.bot.Sent() {
		if s.GroupID == group {
			out = append(out, strings.Split(s.Text, "\n")...)
		}
	}
	return out
}

// waitLine waits for a line in group containing want and returns it.
func (w *world) waitLine(group int64, want string) string {
	w.t.Helper()
	var found string
	w.waitFor("a line with "+strconv.Quote(want)+" in group "+strconv.Itoa(int(group)), func() bool {
		for _, l := range w.lines(group) {
			if strings.Contains(l, want) {
				found = l
				return true
			}
		}
		return false
	})
	return found
}

// reply waits for the bot's reply to message id in group and returns its text.
func (w *world) reply(group int64, id int64) string {
	w.t.Helper()
	var text string
	w.waitFor("a reply to message "+strconv.FormatInt(id, 10), func() bool {
		for _, s := range w.bot.Sent() {
			if s.GroupID == group && len(s.Message) > 0 && s.Message[0].Type == qq.SegReply &&
				s.Message[0].ID == strconv.FormatInt(id, 10) {
				text = s.Text
				return true
			}
		}
		return false
	})
	return text
}

// component is a decoded text component as a server receives it.
type component struct {
	Text        string          `json:"text"`
	Color       string          `json:"color"`
	Extra       []component     `json:"extra"`
	ClickEvent  json.RawMessage `json:"clickEvent"`
	HoverEvent  json.RawMessage `json:"hoverEvent"`
	ClickEvent2 json.RawMessage `json:"click_event"`
	HoverEvent2 json.RawMessage `json:"hover_event"`
}

// flatten lists a component tree depth-first.
func flatten(cs []component) []component {
	var out []component
	for _, c := range cs {
		out = append(out, c)
		out = append(out, flatten(c.Extra)...)
	}
	return out
}

func decodeMessage(t testing.TB, data json.RawMessage, field string) []component {
	t.Helper()
	var m map[string]json.RawMessage
	must(t, json.Unmarshal(data, &m))
	raw := m[field]
	var list []component
	if json.Unmarshal(raw, &list) != nil {
		var one component
		must(t, json.Unmarshal(raw, &one))
		list = []component{one}
	}
	return list
}

func plain(cs []component) string {
	var b strings.Builder
	for _, c := range flatten(cs) {
		b.WriteString(c.Text)
	}
	return b.String()
}
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
