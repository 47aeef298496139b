package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mcqq/bridge/qq"
)

// Every spelling of a command in RCON_DENY is refused to a group admin who
// is not in QQ_ADMINS, before anything reaches RCON, and runs for QQ_ADMINS
// exactly as typed (less leading slashes).
func TestRCONDenyFormsEndToEnd(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA), rcon: true}}, nil)
	console := w.rcon["survival"]
	forms := []string{
		"return run stop", "return run op Mallory", "bukkit:stop", "spigot:restart", "paper:restart",
		"stop", "//Minecraft:STOP", "execute as @a run stop", "deop Steve",
		"execute as @a run return run stop", "return run execute as @a run minecraft:op Mallory",
	}
	for _, form := range forms {
		id := w.say(groupA, alice, qq.Text("/mcc "+form))
		if got := w.reply(groupA, id); !strings.Contains(got, "超级管理员") || strings.Contains(got, "QQ_ADMINS") {
			t.Errorf("%s by a group admin: reply %q; want a refusal in plain words", form, got)
		}
	}
	if got := console.Commands(); len(got) != 0 {
		t.Fatalf("refused commands reached RCON: %q", got)
	}
	var want []string
	for _, form := range forms {
		sent := strings.TrimLeft(form, "/")
		want = append(want, sent)
		id := w.say(groupA, owner, qq.Text("/mcc "+form))
		if got := w.reply(groupA, id); got != "[survival] ran "+sent {
			t.Errorf("%s by QQ_ADMINS: reply %q", form, got)
		}
	}
	if got := console.Commands(); !slices.Equal(got, want) {
		t.Errorf("RCON ran %q; want %q", got, want)
	}
}
