package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/mcqq/bridge/qq"
)

// What members read: no variable names or jargon, the usage once, in the
// prefix they type.
func TestGroupRepliesInMembersWords(t *testing.T) {
	w := startWorld(t, []serverSpec{
		{name: "survival", groups: strconv.Itoa(groupA), rcon: true},
		{name: "creative", groups: strconv.Itoa(groupA)},
	}, map[string]string{"COMMAND_PREFIX": "!"})

	// /mcp without text: one usage line for the group, not one per server,
	// and no server is asked.
	id := w.say(groupA, alice, qq.Text("!mcp Steve"))
	if got := w.reply(groupA, id); got != "用法：!mcp [@服务器] <玩家> <内容>" {
		t.Errorf("/mcp without text replied %q", got)
	}
	id = w.say(groupA, alice, qq.Text("!mcb"))
	if got := w.reply(groupA, id); got != "用法：!mcb [@服务器] <内容>" {
		t.Errorf("/mcb without text replied %q", got)
	}
	id = w.say(groupA, bob, qq.Text("!mct 标题"))
	if got := w.reply(groupA, id); got != "仅管理员可使用 !mct" {
		t.Errorf("member /mct replied %q", got)
	}
	if n := len(w.requests("survival", "send_private_msg")) + len(w.requests("creative", "send_private_msg")); n != 0 {
		t.Errorf("%d private messages sent for a command without text", n)
	}

	// /mcs says whether console commands work, without "RCON".
	id = w.say(groupA, bob, qq.Text("!mcs"))
	status := w.reply(groupA, id)
	for _, line := range strings.Split(status, "\n") {
		if !strings.Contains(line, "已连接") || !strings.HasSuffix(line, "控制台命令可用") {
			t.Errorf("/mcs line %q", line)
		}
	}
	if strings.Contains(status, "RCON") || strings.Contains(status, "鹊桥") {
		t.Errorf("/mcs uses jargon:\n%s", status)
	}
	// RCON notices it is gone at the next command.
	w.rcon["survival"].Stop()
	w.reply(groupA, w.say(groupA, alice, qq.Text("!mcc @survival list")))
	w.waitFor("RCON down", func() bool { return !w.bridge.consoles[0].State().Up() })
	id = w.say(groupA, bob, qq.Text("!mcs"))
	if got := w.reply(groupA, id); !strings.Contains(got, "[survival] 已连接") || !strings.Contains(got, "控制台命令暂不可用") {
		t.Errorf("/mcs with RCON down: %q", got)
	}

	// The help lists commands with the configured prefix.
	id = w.say(groupA, alice, qq.Text("!mch"))
	if got := w.reply(groupA, id); !strings.Contains(got, "!mcb [@服务器]") || strings.Contains(got, "/mc") {
		t.Errorf("help:\n%s", got)
	}
}

// /mcb shows in game with a visible marker and, in its hover, who sent it.
func TestBroadcastIsMarkedWithItsSender(t *testing.T) {
	for _, version := range []string{"1.21.1", "1.21.5"} {
		t.Run(version, func(t *testing.T) {
			w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA), version: version}}, nil)
			id := w.say(groupA, alice, qq.Text("/mcb 服务器将在5分钟后重启"))
			if got := w.reply(groupA, id); got != "[survival] 已广播" {
				t.Fatalf("reply %q", got)
			}
			req := w.waitRequests("survival", "broadcast", 1)[0]
			cs := decodeMessage(t, req.Data, "message")
			if got := plain(cs); got != "[公告] 服务器将在5分钟后重启" {
				t.Errorf("in game: %q", got)
			}
			hover := cs[0].HoverEvent
			if hover == nil {
				hover = cs[0].HoverEvent2
			}
			var text strings.Builder
			var walk func(any)
			walk = func(v any) {
				switch x := v.(type) {
				case map[string]any:
					for _, e := range x {
						walk(e)
					}
				case []any:
					for _, e := range x {
						walk(e)
					}
				case string:
					text.WriteString(x + " ")
				}
			}
			var tree any
			must(t, json.Unmarshal(hover, &tree))
			walk(tree)
			for _, want := range []string{alice.Card, strconv.FormatInt(alice.UserID, 10), strconv.Itoa(groupA)} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("hover %s lacks %q", hover, want)
				}
			}
		})
	}
}
