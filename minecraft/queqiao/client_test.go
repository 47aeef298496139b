package queqiao

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/link"
	queqiaostandin "github.com/mcqq/bridge/internal/standin/queqiao"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/minecraft"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func startPlugin(t *testing.T, o queqiaostandin.Options) *queqiaostandin.Server {
	t.Helper()
	o.Logger = testLogger(t)
	q := queqiaostandin.New(o)
	if err := q.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Stop)
	return q
}

// runClient starts a client's Run; cleanup stops it and checks that Run
// returned.
func runClient(t *testing.T, o Options) *Client {
	t.Helper()
	o.Logger = testLogger(t)
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	testutil.RunInBackground(t, c.Run, 10*time.Second)
	return c
}

func waitUp(t *testing.T, c *Client) {
	t.Helper()
	testutil.WaitFor(t, c.Name()+" to connect", c.State().Up, 10*time.Second)
}

func nextEvent(t *testing.T, c *Client) minecraft.Event {
	t.Helper()
	return testutil.Next(t, c.Events().Next, 5*time.Second)
}

// lastRequest returns the data of the last request for api.
func lastRequest(t *testing.T, q *queqiaostandin.Server, api string) queqiaostandin.Request {
	t.Helper()
	reqs := q.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].API == api {
			return reqs[i]
		}
	}
	t.Fatalf("the plugin received no %s request", api)
	return queqiaostandin.Request{}
}

// fixtureDataKeys returns the keys of data in a request fixture.
func fixtureDataKeys(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var req struct{ Data map[string]json.RawMessage }
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatal(err)
	}
	return sortedKeys(req.Data)
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func decodeData(t *testing.T, r queqiaostandin.Request) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r.Data, &m); err != nil {
		t.Fatalf("%s data %s: %v", r.API, r.Data, err)
	}
	return m
}

func TestClientAPIs(t *testing.T) {
	q := startPlugin(t, queqiaostandin.Options{ServerName: "Survival", Token: "s3cret"})
	q.SetOnline("Alex")
	c := runClient(t, Options{Name: "Survival", URL: q.URL(), Token: "s3cret", RequestTimeout: 5 * time.Second})
	waitUp(t, c)
	ctx := t.Context()
	hello := []minecraft.Component{{Text: "hi", Color: "aqua"}}

	t.Run("broadcast", func(t *testing.T) {
		if err := c.Broadcast(ctx, hello); err != nil {
			t.Fatal(err)
		}
		data := decodeData(t, lastRequest(t, q, "broadcast"))
		if got, want := sortedKeys(data), fixtureDataKeys(t, "api_broadcast_request.json"); !slices.Equal(got, want) {
			t.Errorf("data keys %v, fixture has %v", got, want)
		}
		if got := string(data["message"]); got != `[{"text":"hi","color":"aqua"}]` {
			t.Errorf("message %s", got)
		}
	})

	t.Run("title without subtitle", func(t *testing.T) {
		if err := c.Title(ctx, hello, nil); err != nil {
			t.Fatal(err)
		}
		data := decodeData(t, lastRequest(t, q, "send_title"))
		if got, want := sortedKeys(data), fixtureDataKeys(t, "api_send_title_request.json"); !slices.Equal(got, want) {
			t.Errorf("data keys %v, fixture has %v", got, want)
		}
		if string(data["subtitle"]) != "null" || string(data["fade_in"]) != "20" ||
			string(data["stay"]) != "70" || string(data["fade_out"]) != "20" {
			t.Errorf("data %s", lastRequest(t, q, "send_title").Data)
		}
	})

	t.Run("title with neither part is refused by the plugin", func(t *testing.T) {
		var apiErr *minecraft.APIError
		if err := c.Title(ctx, nil, nil); !errors.As(err, &apiErr) || apiErr.Code != 400 {
			t.Errorf("err = %v, want the plugin's 400", err)
		}
	})

	t.Run("action bar", func(t *testing.T) {
		if err := c.ActionBar(ctx, hello); err != nil {
			t.Fatal(err)
		}
		data := decodeData(t, lastRequest(t, q, "send_actionbar"))
		if got, want := sortedKeys(data), fixtureDataKeys(t, "api_send_actionbar_request.json"); !slices.Equal(got, want) {
			t.Errorf("data keys %v, fixture has %v", got, want)
		}
	})

	t.Run("empty message is refused before sending", func(t *testing.T) {
		before := len(q.Requests())
		if err := c.Broadcast(ctx, nil); !errors.Is(err, errEmptyMessage) {
			t.Errorf("err = %v", err)
		}
		if len(q.Requests()) != before {
			t.Error("an empty message reached the plugin")
		}
	})

	t.Run("private message", func(t *testing.T) {
		if err := c.PrivateMessage(ctx, "Alex", hello); err != nil {
			t.Fatal(err)
		}
		data := decodeData(t, lastRequest(t, q, "send_private_msg"))
		if got, want := sortedKeys(data), fixtureDataKeys(t, "api_send_private_msg_request.json"); !slices.Equal(got, want) {
			t.Errorf("data keys %v, fixture has %v", got, want)
		}
		if string(data["uuid"]) != "null" || string(data["nickname"]) != `"Alex"` {
			t.Errorf("data %s", lastRequest(t, q, "send_private_msg").Data)
		}
	})

	t.Run("private message to an offline player", func(t *testing.T) {
		err := c.PrivateMessage(ctx, "Bob", hello)
		if !errors.Is(err, minecraft.ErrPlayerOffline) {
			t.Errorf("err = %v, want ErrPlayerOffline", err)
		}
	})

	t.Run("rcon command", func(t *testing.T) {
		q.SetRCON(func(cmd string) string {
			if cmd == "list" {
				return "There are 1 of a max of 20 players online: Alex"
			}
			return "Unknown command"
		})
		out, err := c.RunCommand(ctx, "list")
		if err != nil || out != "There are 1 of a max of 20 players online: Alex" {
			t.Errorf("RunCommand = %q, %v", out, err)
		}
		if got := string(lastRequest(t, q, "send_rcon_command").Data); got != `{"command":"list"}` {
			t.Errorf("data %s", got)
		}
	})

	t.Run("rcon disabled in the plugin", func(t *testing.T) {
		q.SetRCON(nil)
		_, err := c.RunCommand(ctx, "list")
		var apiErr *minecraft.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != 400 || apiErr.Message != "Rcon 功能未在配置文件中启用" {
			t.Errorf("err = %v, want the plugin's APIError", err)
		}
	})

	t.Run("rcon command with a control character", func(t *testing.T) {
		before := len(q.Requests())
		if _, err := c.RunCommand(ctx, "say hi\nop Steve"); err == nil {
			t.Error("accepted a newline")
		}
		if len(q.Requests()) != before {
			t.Error("the command reached the plugin")
		}
	})

	t.Run("status", func(t *testing.T) {
		st, err := c.Status(ctx)
		want := minecraft.Status{Version: "1.21.1", OnlinePlayers: 1, MaxPlayers: 20, Players: []string{"Alex"}}
		if err != nil || !reflect.DeepEqual(st, want) {
			t.Errorf("Status = %+v, %v; want %+v", st, err, want)
		}
	})

	t.Run("echoes are unique strings", func(t *testing.T) {
		seen := map[string]bool{}
		for _, r := range q.Requests() {
			if r.Echo == "" || seen[r.Echo] {
				t.Errorf("request %s has echo %q (empty or repeated)", r.API, r.Echo)
			}
			seen[r.Echo] = true
		}
	})
}

func TestClientSilentAPITimesOut(t *testing.T) {
	q := startPlugin(t, queqiaostandin.Options{})
	c := runClient(t, Options{Name: "Server", URL: q.URL(), RequestTimeout: 300 * time.Millisecond})
	waitUp(t, c)
	msg := []minecraft.Component{{Text: "hi"}}

	q.SetSilent("broadcast", true)
	start := time.Now()
	err := c.Broadcast(t.Context(), msg)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if elapsed := time.Since(start); elapsed < 300*time.Millisecond {
		t.Errorf("gave up after %s, before the timeout", elapsed)
	}
	// Other requests meanwhile, and the same API afterwards, are fine.
	if err := c.ActionBar(t.Context(), msg); err != nil {
		t.Errorf("ActionBar after a timeout: %v", err)
	}
	q.SetSilent("broadcast", false)
	if err := c.Broadcast(t.Context(), msg); err != nil {
		t.Errorf("Broadcast after a timeout: %v", err)
	}
	if !c.State().Up() {
		t.Error("a timeout took the connection down")
	}
}

func TestClientRejectedHandshake(t *testing.T) {
	cases := []struct {
		name       string
		clientName string
		token      string
		reason     string
	}{
		{"wrong token", "Server", "wrong", "Authorization Header is wrong"},
		{"missing token", "Server", "", "Authorization Header is wrong"},
		{"wrong name", "Lobby", "s3cret", "X-Self-name Header is wrong"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := startPlugin(t, queqiaostandin.Options{ServerName: "Server", Token: "s3cret"})
			c := runClient(t, Options{Name: tc.clientName, URL: q.URL(), Token: tc.token})
			want := "rejected by plugin: " + tc.reason
			testutil.WaitFor(t, "the rejection", func() bool { return strings.Contains(c.State().Get().LastError, want) }, 5*time.Second)
			if c.State().Up() {
				t.Error("state is up after a rejection")
			}
			if _, err := c.RunCommand(t.Context(), "list"); !errors.Is(err, link.ErrNotConnected) {
				t.Errorf("RunCommand while rejected: %v, want ErrNotConnected", err)
			}
		})
	}
}

func TestClientReconnectsAfterPluginRestart(t *testing.T) {
	q := startPlugin(t, queqiaostandin.Options{})
	c := runClient(t, Options{Name: "Server", URL: q.URL()})
	waitUp(t, c)
	q.Chat("Steve", "before")
	if ev := nextEvent(t, c); ev.Message != "before" {
		t.Fatalf("event %+v", ev)
	}

	q.Stop()
	testutil.WaitFor(t, "the connection to drop", func() bool { return !c.State().Up() }, 5*time.Second)
	if err := c.Broadcast(t.Context(), []minecraft.Component{{Text: "x"}}); !errors.Is(err, link.ErrNotConnected) {
		t.Errorf("Broadcast while down: %v, want ErrNotConnected", err)
	}

	if err := q.Restart(); err != nil {
		t.Fatal(err)
	}
	waitUp(t, c)
	q.Chat("Steve", "after")
	if ev := nextEvent(t, c); ev.Message != "after" || ev.Player != "Steve" {
		t.Fatalf("event after reconnect %+v", ev)
	}
	if err := c.Broadcast(t.Context(), []minecraft.Component{{Text: "x"}}); err != nil {
		t.Errorf("Broadcast after reconnect: %v", err)
	}
}

func TestClientEvents(t *testing.T) {
	// A name with a space and CJK must survive x-self-name encoding.
	const name = "生存 服"
	q := startPlugin(t, queqiaostandin.Options{ServerName: name, Version: "1.20.1", ServerType: "forge"})
	c := runClient(t, Options{Name: name, URL: q.URL()})
	waitUp(t, c)

	fixture, err := os.ReadFile(filepath.Join("testdata", "event_v1_spigot_join.json"))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		emit  func()
		check func(ev minecraft.Event) bool
	}{
		{func() { q.Chat("Steve", "你好 <world> & co") },
			func(ev minecraft.Event) bool { return ev.Kind == minecraft.Chat && ev.Message == "你好 <world> & co" }},
		// Garbage and unknown events are skipped; the next event still arrives.
		{func() {
			q.Emit([]byte(`{not json`))
			q.Emit([]byte(`{"post_type":"notice","sub_type":"player_sleep","player":{"nickname":"Steve"}}`))
			q.Command("Steve", "tp Steve 0 64 0")
		}, func(ev minecraft.Event) bool { return ev.Kind == minecraft.Command && ev.Message == "tp Steve 0 64 0" }},
		{func() { q.Join("Alex") },
			func(ev minecraft.Event) bool { return ev.Kind == minecraft.Join && ev.Player == "Alex" }},
		{func() { q.Quit("Alex") },
			func(ev minecraft.Event) bool { return ev.Kind == minecraft.Quit && ev.Player == "Alex" }},
		{func() {
			q.Death("Steve", "death.attack.mob", []string{"Steve", "entity.minecraft.zombie:Zombie"}, "Steve was slain by Zombie")
		},
			func(ev minecraft.Event) bool {
				d := ev.Death
				return ev.Kind == minecraft.Death && d.Key == "death.attack.mob" && d.Text == "Steve was slain by Zombie" &&
					len(d.Args) == 2 && d.Args[1].Text == "Zombie"
			}},
		{func() {
			q.Advancement("Steve", "minecraft:story/mine_stone", "advancements.story.mine_stone.title", "Stone Age")
		},
			func(ev minecraft.Event) bool {
				a := ev.Advancement
				return ev.Kind == minecraft.Advancement && a.ID == "minecraft:story/mine_stone" && !a.Hidden &&
					a.Title.Text == "Stone Age" && a.Announcement.Text == "Steve has made the advancement [Stone Age]"
			}},
		{func() { q.Advancement("Steve", "minecraft:recipes/misc/stick", "", "") },
			func(ev minecraft.Event) bool { return ev.Kind == minecraft.Advancement && ev.Advancement.Hidden }},
		{func() { q.Emit(fixture) },
			func(ev minecraft.Event) bool { return ev.Kind == minecraft.Join && ev.Player == "Steve" }},
	}
	for i, step := range steps {
		step.emit()
		ev := nextEvent(t, c)
		if !step.check(ev) {
			t.Errorf("step %d: unexpected event %+v", i, ev)
		}
		// Server is the configured name, even for a fixture that says "Server".
		if ev.Server != name || ev.Time.IsZero() {
			t.Errorf("step %d: Server %q, Time %v", i, ev.Server, ev.Time)
		}
	}
}

func TestClientStyle(t *testing.T) {
	image := []minecraft.Component{{Text: "[图片]", ClickURL: "https://example.com/a.png",
		Hover: []minecraft.Component{{Text: "点击查看图片"}}}}
	cases := []struct {
		name           string
		gameVersion    string // server_version the plugin reports
		override       string // Options.GameVersion
		silentStatus   bool   // learn from an event instead of get_status
		wantStyle      minecraft.Style
		wantKey, avoid string
	}{
		{"1.21.5 learned from an event", "1.21.5", "", true, minecraft.StyleModern, `"click_event"`, `"clickEvent"`},
		{"1.21.5 learned from get_status", "1.21.5", "", false, minecraft.StyleModern, `"hover_event"`, `"hoverEvent"`},
		{"1.20.4 learned from an event", "1.20.4", "", true, minecraft.StyleLegacy, `"clickEvent"`, `"click_event"`},
		{"Paper 1.21.5 version string", "git-Paper-12 (MC: 1.21.5)", "", true, minecraft.StyleModern, `"click_event"`, `"clickEvent"`},
		{"override 1.20.4 wins over 1.21.5", "1.21.5", "1.20.4", false, minecraft.StyleLegacy, `"clickEvent"`, `"click_event"`},
		{"override 1.21.5 wins over 1.20.4", "1.20.4", "1.21.5", true, minecraft.StyleModern, `"click_event"`, `"clickEvent"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := startPlugin(t, queqiaostandin.Options{Version: tc.gameVersion})
			q.SetSilent("get_status", tc.silentStatus)
			c := runClient(t, Options{Name: "Server", URL: q.URL(), GameVersion: tc.override,
				RequestTimeout: 300 * time.Millisecond})
			waitUp(t, c)
			if tc.silentStatus && tc.override == "" && c.Style() != minecraft.StyleLegacy {
				t.Errorf("style %v before the server said its version", c.Style())
			}
			q.Join("Steve")
			nextEvent(t, c)
			if got := c.Style(); got != tc.wantStyle {
				t.Errorf("Style = %v, want %v", got, tc.wantStyle)
			}
			if err := c.Broadcast(t.Context(), image); err != nil {
				t.Fatal(err)
			}
			sent := string(lastRequest(t, q, "broadcast").Data)
			if !strings.Contains(sent, tc.wantKey) || strings.Contains(sent, tc.avoid) {
				t.Errorf("broadcast %s: want %s and no %s", sent, tc.wantKey, tc.avoid)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	for _, o := range []Options{
		{},
		{Name: "a", URL: "http://127.0.0.1:8080"},
		{Name: "a", GameVersion: "latest"},
		{Name: "a", RequestTimeout: -time.Second},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}
