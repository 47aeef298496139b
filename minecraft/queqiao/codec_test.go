package queqiao

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/minecraft"
)

// fixtureTime is the timestamp every event fixture carries.
var fixtureTime = time.Unix(1775444822, 0)

func tr(key, text string, args ...minecraft.Translation) minecraft.Translation {
	return minecraft.Translation{Key: key, Text: text, Args: args}
}

func lit(text string) minecraft.Translation { return minecraft.Translation{Text: text} }

// fabricEvent is the event shape most fixtures share.
func fabricEvent(kind minecraft.EventKind) minecraft.Event {
	return minecraft.Event{Kind: kind, Server: "Server", ServerVersion: "1.21.1", Player: "Steve", Time: fixtureTime}
}

func withEvent(ev minecraft.Event, edit func(*minecraft.Event)) minecraft.Event {
	edit(&ev)
	return ev
}

const spigotVersion = "4226-Spigot-146439e-2889b3a (MC: 1.21)"

// TestDecodeFixtures decodes every file in testdata. A fixture without an
// entry here fails the test, so new fixtures cannot be forgotten.
func TestDecodeFixtures(t *testing.T) {
	stoneAge := tr("advancements.story.mine_stone.title", "Stone Age")
	type want struct {
		skip     string // why the file is not a frame the plugin sends us
		event    *minecraft.Event
		response *Response
	}
	ev := func(e minecraft.Event) want { return want{event: &e} }
	resp := func(r Response) want { return want{response: &r} }
	request := want{skip: "a request we send, not a frame we receive"}
	handshake := want{skip: "a handshake description, not a frame"}

	cases := map[string]want{
		"event_player_chat.json": ev(withEvent(fabricEvent(minecraft.Chat), func(e *minecraft.Event) {
			e.Message = "Hello, world!"
		})),
		"event_player_chat_paper.json": ev(withEvent(fabricEvent(minecraft.Chat), func(e *minecraft.Event) {
			e.Message, e.ServerVersion = "Hello, world!", "git-Paper-196 (MC: 1.20.1)"
		})),
		"event_player_chat_vanilla.json": ev(withEvent(fabricEvent(minecraft.Chat), func(e *minecraft.Event) {
			e.Message, e.ServerVersion = "Hello, world!", "unknown"
		})),
		"event_player_command.json": ev(withEvent(fabricEvent(minecraft.Command), func(e *minecraft.Event) {
			e.Message, e.ServerVersion = "tp Steve 0 64 0", spigotVersion
		})),
		"event_player_join.json": ev(withEvent(fabricEvent(minecraft.Join), func(e *minecraft.Event) {
			e.ServerVersion = "1.20.1"
		})),
		"event_player_join_velocity.json": ev(withEvent(fabricEvent(minecraft.Join), func(e *minecraft.Event) {
			e.ServerVersion = "3.4.0-SNAPSHOT (git-7f3d8e6b-b438)"
		})),
		"event_player_quit.json": ev(fabricEvent(minecraft.Quit)),
		"event_player_death.json": ev(withEvent(fabricEvent(minecraft.Death), func(e *minecraft.Event) {
			e.Death = tr("death.attack.mob", "Steve was slain by Zombie", lit("Steve"), tr("entity.minecraft.zombie", "Zombie"))
		})),
		"event_player_death_spigot.json": ev(withEvent(fabricEvent(minecraft.Death), func(e *minecraft.Event) {
			e.ServerVersion, e.Death = spigotVersion, lit("Steve was slain by Zombie")
		})),
		"event_player_death_translated_forge.json": ev(withEvent(fabricEvent(minecraft.Death), func(e *minecraft.Event) {
			e.Player, e.ServerVersion = "17TheWord", "1.20.1"
			e.Death = tr("death.attack.genericKill", "17TheWord被杀死了", lit("17TheWord"))
		})),
		"event_player_achievement.json": ev(withEvent(fabricEvent(minecraft.Advancement), func(e *minecraft.Event) {
			e.Advancement = minecraft.AdvancementInfo{
				ID: "minecraft:story/mine_stone", Title: stoneAge, Frame: "task",
				Announcement: tr("chat.type.advancement.task", "Steve has made the advancement [Stone Age]",
					lit("Steve"), tr("chat.square_brackets", "[Stone Age]", stoneAge)),
			}
		})),
		"event_player_achievement_spigot.json": ev(withEvent(fabricEvent(minecraft.Advancement), func(e *minecraft.Event) {
			e.ServerVersion = spigotVersion
			e.Advancement = minecraft.AdvancementInfo{ID: "minecraft:story/mine_stone"}
		})),
		"event_player_achievement_translated_forge.json": ev(withEvent(fabricEvent(minecraft.Advancement), func(e *minecraft.Event) {
			e.Player, e.ServerVersion = "17TheWord", "1.20.1"
			title := tr("advancements.story.iron_tools.title", "这不是铁镐么")
			e.Advancement = minecraft.AdvancementInfo{
				ID: "minecraft:story/iron_tools", Title: title, Frame: "task",
				Announcement: tr("chat.type.advancement.task", "17TheWord取得了进度[这不是铁镐么]", lit("17TheWord"),
					tr("chat.square_brackets", "[这不是铁镐么]", tr("advancements.story.iron_tools.title", "[这不是铁镐么]"))),
			}
		})),
		"event_v2legacy_player_death.json": ev(withEvent(fabricEvent(minecraft.Death), func(e *minecraft.Event) {
			e.Death = tr("death.attack.mob", "Steve was slain by Zombie", lit("Steve"), lit("Zombie"))
		})),
		"event_v2legacy_player_achievement.json": ev(withEvent(fabricEvent(minecraft.Advancement), func(e *minecraft.Event) {
			e.Advancement = minecraft.AdvancementInfo{
				ID: "minecraft:story/mine_stone", Title: tr("advancements.story.mine_stone.title", ""), Frame: "task",
				Announcement: lit("Steve has made the advancement [Stone Age]"),
			}
		})),
		"event_v1_spigot_chat.json": ev(withEvent(fabricEvent(minecraft.Chat), func(e *minecraft.Event) {
			e.ServerVersion, e.Message = spigotVersion, "Hello, world!"
		})),
		"event_v1_spigot_death.json": ev(withEvent(fabricEvent(minecraft.Death), func(e *minecraft.Event) {
			e.ServerVersion, e.Death = spigotVersion, lit("Steve was slain by Zombie")
		})),
		"event_v1_spigot_join.json": ev(withEvent(fabricEvent(minecraft.Join), func(e *minecraft.Event) {
			e.ServerVersion = spigotVersion
		})),

		"api_broadcast_response.json":      resp(Response{API: "broadcast", Code: 200, Status: "SUCCESS", Message: "success", Echo: "1"}),
		"api_send_msg_response.json":       resp(Response{API: "send_msg", Code: 200, Status: "SUCCESS", Message: "success", Echo: "3"}),
		"api_send_actionbar_response.json": resp(Response{API: "send_actionbar", Code: 200, Status: "SUCCESS", Message: "success", Echo: "1"}),
		"api_send_title_response.json":     resp(Response{API: "send_title", Code: 200, Status: "SUCCESS", Message: "success", Echo: "1"}),
		"api_send_title_missing_both_response.json": resp(Response{API: "send_title", Code: 400, Status: "FAILED",
			Message: "Title and Subtitle cannot both be null", Echo: "2"}),
		"api_send_private_msg_response.json": resp(Response{API: "send_private_msg", Code: 200, Status: "SUCCESS",
			Message: "success", Echo: "1"}),
		"api_send_private_msg_not_online_response.json": resp(Response{API: "send_private_msg", Code: 200,
			Status: "SUCCESS", Message: "success", Echo: "1"}),
		"api_send_private_msg_no_target_response.json": resp(Response{API: "send_private_msg", Code: 400,
			Status: "FAILED", Message: "Target player is null.", Echo: "4"}),
		"api_send_rcon_command_response.json": resp(Response{API: "send_rcon_command", Code: 200, Status: "SUCCESS",
			Message: "success", Echo: "1"}),
		"api_send_rcon_command_disabled_response.json": resp(Response{API: "send_rcon_command", Code: 400,
			Status: "FAILED", Message: "Rcon 功能未在配置文件中启用", Echo: "1"}),
		"api_get_status_response.json": resp(Response{API: "get_status", Code: 200, Status: "SUCCESS", Message: "success", Echo: "1"}),
		"api_unknown_response.json":    resp(Response{API: "foo", Code: 404, Status: "FAILED", Message: "未知的API：foo", Echo: "9"}),
		"api_send_command_response.json": resp(Response{API: "send_command", Code: 500, Status: "FAILED",
			Message: "send_command is not supported now", Echo: "5"}),
		"api_parse_error_response.json": resp(Response{Code: 500, Status: "FAILED", Message: "解析消息失败"}),
		"api_v1_response.json":          resp(Response{Code: 200, Status: "SUCCESS", Message: "success", Echo: "1"}),

		"api_broadcast_request.json":                  request,
		"api_get_status_request.json":                 request,
		"api_send_actionbar_request.json":             request,
		"api_send_command_request.json":               request,
		"api_send_msg_request_nonebot.json":           request,
		"api_send_msg_request_zerobot.json":           request,
		"api_send_private_msg_no_target_request.json": request,
		"api_send_private_msg_request.json":           request,
		"api_send_rcon_command_request.json":          request,
		"api_send_title_missing_both_request.json":    request,
		"api_send_title_request.json":                 request,
		"api_unknown_request.json":                    request,
		"api_v1_broadcast_request.json":               request,
		"api_v1_send_title_request.json":              request,
		"handshake_forward_client.json":               handshake,
		"handshake_rejections.json":                   handshake,
		"handshake_reverse_plugin.json":               handshake,
	}

	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			w, ok := cases[name]
			if !ok {
				t.Fatalf("fixture %s has no expectation in this table", name)
			}
			frame, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := DecodeFrame(frame)
			switch {
			case w.skip != "":
				// Not a frame the plugin sends; it must not pass for one.
				if err == nil {
					t.Errorf("DecodeFrame accepted %s (%s) as %+v", name, w.skip, f)
				}
			case w.event != nil:
				if err != nil {
					t.Fatalf("DecodeFrame: %v", err)
				}
				if f.Kind != EventFrame {
					t.Fatalf("kind = %v, want an event", f.Kind)
				}
				if !reflect.DeepEqual(f.Event, *w.event) {
					t.Errorf("event\n got %+v\nwant %+v", f.Event, *w.event)
				}
				if _, err := DecodeEvent(frame); err != nil {
					t.Errorf("DecodeEvent: %v", err)
				}
			case w.response != nil:
				if err != nil {
					t.Fatalf("DecodeFrame: %v", err)
				}
				if f.Kind != ResponseFrame {
					t.Fatalf("kind = %v, want a response", f.Kind)
				}
				got := f.Response
				got.Data = nil // checked by the client tests
				if !reflect.DeepEqual(got, *w.response) {
					t.Errorf("response\n got %+v\nwant %+v", got, *w.response)
				}
				wantOK := w.response.Code == 200
				if gotOK := got.Err() == nil; gotOK != wantOK {
					t.Errorf("Err() = %v, want success %v", got.Err(), wantOK)
				}
				if _, err := DecodeEvent(frame); err == nil {
					t.Error("DecodeEvent accepted a response")
				}
			}
		})
	}
}

func TestDecodeTolerance(t *testing.T) {
	const player = `"player":{"nickname":"Steve"}`
	cases := []struct {
		name  string
		frame string
		check func(t *testing.T, ev minecraft.Event)
	}{
		{"timestamp in milliseconds (MCDR)",
			`{"post_type":"message","sub_type":"player_chat","timestamp":1775444822691,` + player + `,"message":"hi"}`,
			func(t *testing.T, ev minecraft.Event) {
				if want := time.UnixMilli(1775444822691); !ev.Time.Equal(want) {
					t.Errorf("Time = %v, want %v", ev.Time, want)
				}
			}},
		{"numbers as strings",
			`{"post_type":"message","sub_type":"player_chat","timestamp":"1775444822",` + player + `,"message":42}`,
			func(t *testing.T, ev minecraft.Event) {
				if !ev.Time.Equal(fixtureTime) || ev.Message != "42" {
					t.Errorf("Time %v, Message %q", ev.Time, ev.Message)
				}
			}},
		{"no timestamp",
			`{"post_type":"notice","sub_type":"player_join",` + player + `}`,
			func(t *testing.T, ev minecraft.Event) {
				if !ev.Time.IsZero() {
					t.Errorf("Time = %v, want zero", ev.Time)
				}
			}},
		{"V2 event names with V1 sub_types (kterna)",
			`{"event_name":"PlayerQuitEvent","post_type":"notice","sub_type":"quit",` + player + `}`,
			func(t *testing.T, ev minecraft.Event) {
				if ev.Kind != minecraft.Quit {
					t.Errorf("Kind = %v", ev.Kind)
				}
			}},
		{"event name only",
			`{"event_name":"PlayerJoinEvent",` + player + `}`,
			func(t *testing.T, ev minecraft.Event) {
				if ev.Kind != minecraft.Join {
					t.Errorf("Kind = %v", ev.Kind)
				}
			}},
		{"V1 command keeps no slash",
			`{"post_type":"message","sub_type":"player_command",` + player + `,"message":"/tp Steve 0 64 0"}`,
			func(t *testing.T, ev minecraft.Event) {
				if ev.Kind != minecraft.Command || ev.Message != "tp Steve 0 64 0" {
					t.Errorf("Kind %v, Message %q", ev.Kind, ev.Message)
				}
			}},
		{"MCDR achievement with text and translate only",
			`{"post_type":"notice","sub_type":"player_achievement",` + player +
				`,"achievement":{"key":"minecraft:story/mine_stone","text":"Steve has made the advancement [Stone Age]","translate":null}}`,
			func(t *testing.T, ev minecraft.Event) {
				a := ev.Advancement
				if a.Hidden || a.Announcement.Text != "Steve has made the advancement [Stone Age]" {
					t.Errorf("advancement %+v", a)
				}
			}},
		{"docs spelling translate",
			`{"post_type":"notice","sub_type":"player_achievement",` + player +
				`,"achievement":{"key":"k","display":{"title":{"key":"t","args":null,"text":"T"},"frame":"goal"},"translate":{"key":"a","args":null,"text":"A"}}}`,
			func(t *testing.T, ev minecraft.Event) {
				a := ev.Advancement
				if a.Announcement.Text != "A" || a.Title.Text != "T" || a.Frame != "goal" || a.Hidden {
					t.Errorf("advancement %+v", a)
				}
			}},
		{"null death argument keeps its place",
			`{"post_type":"notice","sub_type":"player_death",` + player +
				`,"death":{"key":"death.attack.mob","args":[null,"Zombie"],"text":"Steve was slain by Zombie"}}`,
			func(t *testing.T, ev minecraft.Event) {
				if len(ev.Death.Args) != 2 || ev.Death.Args[1].Text != "Zombie" {
					t.Errorf("death %+v", ev.Death)
				}
			}},
		{"deep translate tree",
			`{"post_type":"notice","sub_type":"player_death",` + player + `,"death":` +
				strings.Repeat(`{"key":"k","args":[`, 500) + `"x"` + strings.Repeat(`],"text":"t"}`, 500) + `}`,
			func(t *testing.T, ev minecraft.Event) {
				depth := 0
				for d := ev.Death; len(d.Args) > 0; d = d.Args[0] {
					depth++
				}
				if depth != 500 {
					t.Errorf("depth %d", depth)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := DecodeEvent([]byte(tc.frame))
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			tc.check(t, ev)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct{ name, frame, wantErr string }{
		{"invalid JSON", `{"post_type":`, "invalid frame"},
		{"not an object", `[1,2]`, "invalid frame"},
		{"unknown event type", `{"post_type":"notice","sub_type":"player_sleep","player":{"nickname":"Steve"}}`, `unknown event type`},
		{"no player", `{"post_type":"message","sub_type":"player_chat","message":"hi"}`, "without player.nickname"},
		{"death of the wrong type", `{"sub_type":"player_death","player":{"nickname":"Steve"},"death":[1]}`, "death event"},
		{"achievement args not a list", `{"sub_type":"player_achievement","player":{"nickname":"Steve"},"achievement":{"translation":{"args":"x"}}}`, "args"},
		{"object where text belongs", `{"sub_type":"player_chat","player":{"nickname":"Steve"},"message":{"a":1}}`, "want a string"},
		{"response", `{"post_type":"response","code":200,"status":"SUCCESS","echo":"1"}`, "response"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeEvent([]byte(tc.frame))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestResponseErr(t *testing.T) {
	f, err := DecodeFrame([]byte(`{"api":"send_rcon_command","code":"400","post_type":"response","status":"FAILED","message":"Rcon 客户端未连接或已关闭","data":null,"echo":7}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Response.Echo != "7" {
		t.Errorf("numeric echo read as %q", f.Response.Echo)
	}
	var apiErr *minecraft.APIError
	if !errors.As(f.Response.Err(), &apiErr) || apiErr.Code != 400 || apiErr.Message != "Rcon 客户端未连接或已关闭" {
		t.Errorf("Err() = %#v", f.Response.Err())
	}
	// kterna/queqiao_mcdr says "ok".
	f, _ = DecodeFrame([]byte(`{"code":200,"post_type":"response","status":"ok","echo":"1"}`))
	if err := f.Response.Err(); err != nil {
		t.Errorf(`status "ok": %v`, err)
	}
}

// FuzzDecodeEvent checks that no frame makes the decoder panic and that an
// accepted event is usable.
func FuzzDecodeEvent(f *testing.F) {
	testutil.SeedFiles(f, "*.json")
	f.Fuzz(func(t *testing.T, frame []byte) {
		fr, err := DecodeFrame(frame)
		ev, evErr := DecodeEvent(frame)
		if err == nil && fr.Kind == EventFrame {
			if evErr != nil {
				t.Fatalf("DecodeFrame accepted an event DecodeEvent refused: %v", evErr)
			}
			if ev.Kind < minecraft.Chat || ev.Kind > minecraft.Advancement || ev.Player == "" {
				t.Fatalf("accepted an unusable event %+v", ev)
			}
		}
	})
}

// Spigot sends every advancement with an all-null display: recipe unlocks and
// tab roots, which the game never announces, are hidden; the rest are not.
func TestSpigotAdvancementVisibility(t *testing.T) {
	base, err := os.ReadFile("testdata/event_player_achievement_spigot.json")
	if err != nil {
		t.Fatal(err)
	}
	for id, hidden := range map[string]bool{
		"minecraft:story/mine_stone":          false,
		"minecraft:adventure/kill_a_mob":      false,
		"minecraft:recipes/misc/iron_nugget":  true,
		"minecraft:recipes/decorations/chest": true,
		"minecraft:story/root":                true,
		"minecraft:husbandry/root":            true,
	} {
		frame := bytes.Replace(base, []byte("minecraft:story/mine_stone"), []byte(id), 1)
		ev, err := DecodeEvent(frame)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Advancement.Hidden != hidden {
			t.Errorf("%s: Hidden = %v, want %v", id, ev.Advancement.Hidden, hidden)
		}
	}
}

// A broadcast's frame written by hand is exactly what encoding/json writes.
func TestRequestFrameMatchesEncodingJSON(t *testing.T) {
	msg, err := minecraft.Marshal([]minecraft.Component{{Text: " ", Extra: []minecraft.Component{
		{Text: "Alice", Color: "green", Hover: []minecraft.Component{{Text: "QQ: 1 & <2>"}}},
		{Text: "：今晚8点 \"维护\"", Color: "white", ClickURL: "https://example.com/?a=1&b=2"}}}}, minecraft.StyleModern)
	if err != nil {
		t.Fatal(err)
	}
	for _, echo := range []string{"mcb-1", "mcb-18446744073709551615", "odd\"echo"} {
		got, err := requestFrame("broadcast", messageData{msg}, echo)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(request{API: "broadcast", Data: messageData{msg}, Echo: echo})
		if string(got) != string(want) {
			t.Errorf("echo %q:\n got %s\nwant %s", echo, got, want)
		}
	}
}
