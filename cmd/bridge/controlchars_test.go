package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/mcqq/bridge/internal/safetext"
	"github.com/mcqq/bridge/qq"
)

// unsafeIn returns the first control character (safetext.Unsafe, line
// breaks aside) in any string inside a JSON document, or -1.
func unsafeIn(t *testing.T, doc []byte) rune {
	t.Helper()
	var v any
	must(t, json.Unmarshal(doc, &v))
	var walk func(any) rune
	walk = func(v any) rune {
		switch x := v.(type) {
		case string:
			for _, r := range x {
				if r != '\n' && safetext.Unsafe(r) {
					return r
				}
			}
		case []any:
			for _, e := range x {
				if r := walk(e); r >= 0 {
					return r
				}
			}
		case map[string]any:
			for _, e := range x {
				if r := walk(e); r >= 0 {
					return r
				}
			}
		}
		return -1
	}
	return walk(v)
}

// NUL, ESC, BEL, bidi overrides and line separators never reach the game,
// QQ or RCON: text loses them either way, console commands with them are
// refused before they are sent.
func TestControlCharactersNeverCross(t *testing.T) {
	w := startWorld(t, []serverSpec{
		{name: "survival", groups: strconv.Itoa(groupA), rcon: true},
		{name: "creative", groups: strconv.Itoa(groupB)},
	}, nil)
	eve := qq.Member{UserID: 424242, Nickname: "Eve", Card: "Eve\u202e\x1b[2J", Role: "member"}
	w.bot.AddMember(groupA, eve)

	// QQ → game, as chat and as a broadcast command.
	w.say(groupA, eve, qq.Text("a\x00b\x1b[31mc\u202ed\u2028e\af\r\nnext"))
	w.say(groupA, owner, qq.Text("/mcb 公告\x1b]0;title\a\u2066x\u2069"))
	for _, req := range w.waitRequests("survival", "broadcast", 2) {
		if r := unsafeIn(t, req.Data); r >= 0 {
			t.Errorf("%U reached the game: %s", r, req.Data)
		}
	}
	got := []string{}
	for _, req := range w.requests("survival", "broadcast") {
		got = append(got, plain(decodeMessage(t, req.Data, "message")))
	}
	if !containsString(got, "Eve[2J：ab[31mcdef\nnext") || !containsString(got, "公告]0;titlex") {
		t.Errorf("broadcasts %q", got)
	}

	// Game → QQ.
	w.mc["survival"].Chat("Ste\u202eve", "hi\x00\x1b[0m there\r\nline2\u2029!")
	w.waitLine(groupA, "line2!")
	for _, s := range w.bot.Sent() {
		if strings.IndexFunc(s.Text, func(r rune) bool { return r != '\n' && safetext.Unsafe(r) }) >= 0 {
			t.Errorf("a control character reached QQ: %q", s.Text)
		}
	}
	if got := strings.Join(w.lines(groupA), "\n"); !strings.Contains(got, "Steve：hi[0m there\nline2!") {
		t.Errorf("QQ got %q", got)
	}

	// Console commands: refused over direct RCON and over QueQiao.
	for _, cmd := range []string{"say a\x1bb", "say \x00", "say a\u202eb", "say a\u2028op Mallory", "say a\u0085b"} {
		id := w.say(groupA, owner, qq.Text("/mcc "+cmd))
		if reply := w.reply(groupA, id); !strings.Contains(reply, "控制字符") {
			t.Errorf("/mcc %q: reply %q", cmd, reply)
		}
		id = w.say(groupB, owner, qq.Text("/mcc "+cmd))
		if reply := w.reply(groupB, id); !strings.Contains(reply, "控制字符") {
			t.Errorf("/mcc %q over QueQiao: reply %q", cmd, reply)
		}
	}
	if got := w.rcon["survival"].Commands(); len(got) != 0 {
		t.Errorf("RCON ran %q", got)
	}
	if got := w.requests("creative", "send_rcon_command"); len(got) != 0 {
		t.Errorf("QueQiao was asked to run %v", got)
	}
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if strings.HasSuffix(e, s) {
			return true
		}
	}
	return false
}
