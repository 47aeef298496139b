package relay

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/mcqq/bridge/format"
	botstandin "github.com/mcqq/bridge/internal/standin/onebot"
	mcstandin "github.com/mcqq/bridge/internal/standin/queqiao"
	rconstandin "github.com/mcqq/bridge/internal/standin/rcon"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/minecraft/queqiao"
	"github.com/mcqq/bridge/minecraft/rcon"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/onebot"
)

// The groups and people of the tests that run a relay against stand-ins.
const (
	groupA = 712345678
	groupB = 723456789
	groupC = 734567890 // bound to no server
)

var (
	alice = qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}
	bob   = qq.Member{UserID: 1357924680, Nickname: "Bob", Role: "member"}
	owner = qq.Member{UserID: 10001, Nickname: "Root", Role: "member"} // in QQ_ADMINS
)

// serverSpec is one Minecraft server of a world.
type serverSpec struct {
	name   string
	groups []int64
	rcon   bool // a direct RCON console
	// whitelist keeps the server's whitelist in step with the bindings
	// (needs Options.Accounts).
	whitelist bool
	// console answers the RCON console's commands; nil: "ran <command>".
	console func(cmd string) string
}

// world is a relay wired to the in-repo stand-ins over loopback sockets: a
// OneBot bot, a QueQiao plugin per server and, where asked, an RCON console,
// each reached by the real client the bridge uses.
type world struct {
	t        *testing.T
	bot      *botstandin.Bot
	qq       *onebot.Client
	mc       map[string]*mcstandin.Server
	games    map[string]*queqiao.Client
	consoles map[string]*rconstandin.Server
	rconCli  map[string]*rcon.Console
	relay    *Relay
	logs     *testutil.LogBuffer
	metrics  *metrics.Set

	stopOnce sync.Once
	cancel   context.CancelFunc
	done     chan error
}

// testOptions are the relay rules of the tests, as the configuration's
// defaults give them, with QQ_ADMINS = owner and short timeouts.
func testOptions() Options {
	return Options{
		Admins:           []int64{owner.UserID},
		AdminRoles:       []string{"owner", "admin"},
		SyncQQToMC:       true,
		SyncMCToQQ:       []minecraft.EventKind{minecraft.Chat, minecraft.Join, minecraft.Quit, minecraft.Death, minecraft.Advancement},
		MCIgnorePrefixes: []string{"!!"},
		Templates:        format.DefaultTemplates(),
		RCONPublic:       []string{"list"},
		RCONDeny:         []string{"stop", "restart", "op", "deop"},
		RequestTimeout:   2 * time.Second,
		DrainTimeout:     2 * time.Second,
	}
}

// newWorld starts the stand-ins and the clients and waits until every
// connection is up; the relay is made (with testOptions changed by adjust)
// but not run: see run.
func newWorld(t *testing.T, servers []serverSpec, adjust func(*Options)) *world {
	t.Helper()
	w := &world{t: t, mc: map[string]*mcstandin.Server{}, games: map[string]*queqiao.Client{},
		consoles: map[string]*rconstandin.Server{}, rconCli: map[string]*rcon.Console{},
		logs: &testutil.LogBuffer{}, metrics: metrics.NewSet()}
	log := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", w.logs.String())
		}
	})
	o := testOptions()
	if adjust != nil {
		adjust(&o)
	}
	o.Logger, o.Metrics = log, w.metrics

	w.bot = botstandin.New(botstandin.Options{})
	check(t, w.bot.Start("127.0.0.1:0"))
	t.Cleanup(w.bot.Stop)
	for _, g := range []int64{groupA, groupB, groupC} {
		for _, m := range []qq.Member{alice, bob, owner} {
			w.bot.AddMember(g, m)
		}
	}
	var err error
	w.qq, err = onebot.New(onebot.Options{URL: w.bot.URL(), RequestTimeout: o.RequestTimeout, Logger: log.With("conn", "qq")})
	check(t, err)
	testutil.RunInBackground(t, w.qq.Run, 10*time.Second)

	var rs []Server
	for _, s := range servers {
		mc := mcstandin.New(mcstandin.Options{ServerName: s.name, StrictComponents: true})
		check(t, mc.Start("127.0.0.1:0"))
		t.Cleanup(mc.Stop)
		w.mc[s.name] = mc
		g, err := queqiao.New(queqiao.Options{Name: s.name, URL: mc.URL(), RequestTimeout: o.RequestTimeout, Logger: log})
		check(t, err)
		testutil.RunInBackground(t, g.Run, 10*time.Second)
		w.games[s.name] = g
		srv := Server{Name: s.name, Groups: s.groups, Game: g, Whitelist: s.whitelist}
		if s.rcon {
			answer := s.console
			if answer == nil {
				answer = func(cmd string) string { return "ran " + cmd }
			}
			console := rconstandin.New("pw", answer)
			check(t, console.Start("127.0.0.1:0"))
			t.Cleanup(console.Stop)
			w.consoles[s.name] = console
			c := rcon.New(rcon.Options{Addr: console.Addr(), Password: "pw", Timeout: o.RequestTimeout, Logger: log})
			testutil.RunInBackground(t, c.Run, 10*time.Second)
			w.rconCli[s.name] = c
			srv.Console = c
		}
		rs = append(rs, srv)
	}
	w.relay, err = New(w.qq, rs, o)
	check(t, err)
	w.waitFor("every connection up", func() bool {
		if !w.qq.State().Up() {
			return false
		}
		for _, g := range w.games {
			if !g.State().Up() {
				return false
			}
		}
		for _, c := range w.rconCli {
			if !c.State().Up() {
				return false
			}
		}
		return true
	})
	return w
}

// startWorld is newWorld with the relay running until the test ends.
func startWorld(t *testing.T, servers []serverSpec, adjust func(*Options)) *world {
	t.Helper()
	w := newWorld(t, servers, adjust)
	w.run(t.Context())
	return w
}

// run runs the relay until stop or the end of the test, with a context of
// its own that starts cancelled when parent is. Cleanups run last first, so the relay stops
// before the clients it delivers through.
func (w *world) run(parent context.Context) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	if parent.Err() != nil {
		cancel() // Run starts already shutting down
	}
	w.cancel, w.done = cancel, make(chan error, 1)
	go func() { w.done <- w.relay.Run(ctx) }()
	w.t.Cleanup(w.stop)
}

// stop ends the relay's context and waits for Run to return; it fails the
// test when Run takes more than 10 s or returns an error.
func (w *world) stop() {
	w.stopOnce.Do(func() {
		w.cancel()
		select {
		case err := <-w.done:
			if err != nil {
				w.t.Errorf("Run returned %v", err)
			}
		case <-time.After(10 * time.Second):
			w.t.Fatal("Run did not return within 10s of its context's end")
		}
	})
}

// waitFor polls cond until it holds, for up to 10 s.
func (w *world) waitFor(what string, cond func() bool) {
	w.t.Helper()
	testutil.WaitFor(w.t, what, cond, 10*time.Second)
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// say posts a group message from m and returns its id.
func (w *world) say(group int64, m qq.Member, segs ...qq.Segment) int64 {
	return w.bot.GroupMessage(group, m, segs)
}

// sayText posts a group message of one text segment.
func (w *world) sayText(group int64, m qq.Member, text string) int64 {
	return w.say(group, m, qq.Text(text))
}

// reply waits for the bot to be asked to send a message quoting message id
// (in a group, or in private chat when group is 0) and returns its text.
func (w *world) reply(group, id int64) string {
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

// command posts text as m in group and returns the reply.
func (w *world) command(group int64, m qq.Member, text string) string {
	w.t.Helper()
	return w.reply(group, w.sayText(group, m, text))
}

// privateCommand sends text to the bot in private chat as m and returns the
// reply.
func (w *world) privateCommand(m qq.Member, text string) string {
	w.t.Helper()
	return w.reply(0, w.bot.PrivateMessage(m.UserID, m, []qq.Segment{qq.Text(text)}))
}

// lines is every line the bot was asked to send to group, in order.
func (w *world) lines(group int64) []string {
	var out []string
	for _, s := range w.bot.Sent() {
		if s.GroupID == group {
			out = append(out, strings.Split(s.Text, "\n")...)
		}
	}
	return out
}

// waitLines waits until group has n lines and returns them.
func (w *world) waitLines(group int64, n int) []string {
	w.t.Helper()
	w.waitFor(strconv.Itoa(n)+" lines in group "+strconv.FormatInt(group, 10), func() bool { return len(w.lines(group)) >= n })
	return w.lines(group)
}

// requests is what server was asked to do with api, in order.
func (w *world) requests(server, api string) []mcstandin.Request {
	var out []mcstandin.Request
	for _, r := range w.mc[server].Requests() {
		if r.API == api {
			out = append(out, r)
		}
	}
	return out
}

// texts is the plain text of field ("message", "title", …) of every api
// request server got.
func (w *world) texts(server, api, field string) []string {
	var out []string
	for _, r := range w.requests(server, api) {
		out = append(out, plainField(w.t, r.Data, field))
	}
	return out
}

// waitTexts waits until server got n requests of api and returns their
// field's plain text.
func (w *world) waitTexts(server, api, field string, n int) []string {
	w.t.Helper()
	w.waitFor(strconv.Itoa(n)+" "+api+" on "+server, func() bool { return len(w.requests(server, api)) >= n })
	return w.texts(server, api, field)
}

// shownComponent is a text component as the server receives it.
type shownComponent struct {
	Text  string           `json:"text"`
	Color string           `json:"color"`
	Bold  bool             `json:"bold"`
	Extra []shownComponent `json:"extra"`
	// Hover, in whichever spelling the game version uses.
	HoverEvent  json.RawMessage `json:"hoverEvent"`
	HoverEvent2 json.RawMessage `json:"hover_event"`
}

// components decodes a request's field: a component list, or one component.
func components(t testing.TB, data json.RawMessage, field string) []shownComponent {
	t.Helper()
	var m map[string]json.RawMessage
	check(t, json.Unmarshal(data, &m))
	raw := m[field]
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []shownComponent
	if json.Unmarshal(raw, &list) != nil {
		var one shownComponent
		check(t, json.Unmarshal(raw, &one))
		list = []shownComponent{one}
	}
	return list
}

// flatten lists a component tree depth-first.
func flatten(cs []shownComponent) []shownComponent {
	var out []shownComponent
	for _, c := range cs {
		out = append(out, c)
		out = append(out, flatten(c.Extra)...)
	}
	return out
}

func plainText(cs []shownComponent) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.Text)
		b.WriteString(plainText(c.Extra))
	}
	return b.String()
}

func plainField(t testing.TB, data json.RawMessage, field string) string {
	t.Helper()
	return plainText(components(t, data, field))
}
