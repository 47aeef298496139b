package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// MC_IGNORE_PLAYERS silences the chat, joins, quits, deaths, advancements
// and commands of matching players, in QQ and on the other servers.
func TestIgnoredPlayersAreNotRelayed(t *testing.T) {
	w := startWorld(t, []serverSpec{
		{name: "survival", groups: strconv.Itoa(groupA)},
		{name: "creative", groups: strconv.Itoa(groupA)},
	}, map[string]string{
		"MC_IGNORE_PLAYERS": "bot_*,Herobrine",
		"SYNC_MC_TO_QQ":     "chat,join,quit,death,advancement,command",
		"CROSS_SERVER_CHAT": "true",
		"SHOW_SERVER_NAME":  "never",
	})
	mc := w.mc["survival"]
	for _, p := range []string{"bot_steve", "Bot_Alex", "herobrine"} {
		mc.Join(p)
		mc.Chat(p, "我是假人")
		mc.Death(p, "death.attack.mob", []string{p, "entity.minecraft.zombie:Zombie"}, p+" was slain by Zombie")
		mc.Advancement(p, "minecraft:story/mine_stone", "advancements.story.mine_stone.title", "Stone Age")
		mc.Command(p, "tp 0 64 0")
		mc.Quit(p)
	}
	// Events are handled in order, so once Steve's lines are out every
	// ignored line would have been too.
	mc.Join("Steve")
	mc.Chat("Steve", "robot_1 不是假人")
	w.waitLine(groupA, "Steve：")
	want := []string{"Steve 加入了游戏", "Steve：robot_1 不是假人"}
	if got := w.lines(groupA); !slices.Equal(got, want) {
		t.Errorf("group got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	cross := w.waitRequests("creative", "broadcast", 2)
	for _, r := range cross {
		if line := plain(decodeMessage(t, r.Data, "message")); !strings.Contains(line, "Steve") {
			t.Errorf("creative saw %q", line)
		}
	}
	if n := len(w.requests("creative", "broadcast")); n != 2 {
		t.Errorf("creative got %d broadcasts, want Steve's 2", n)
	}
}

// JOIN_QUIT_DEBOUNCE over the real connections: a quick reconnect says
// nothing, a quit alone comes after the window, a join alone at once.
func TestQuickReconnectsAreNotRelayed(t *testing.T) {
	const window = time.Second // wide enough that a loaded machine handles the join inside it
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}},
		map[string]string{"JOIN_QUIT_DEBOUNCE": window.String()})
	mc := w.mc["survival"]

	mc.Join("Alex")
	w.waitLine(groupA, "Alex 加入了游戏") // at once: well within the window
	mc.Quit("Steve")
	mc.Join("Steve")
	quit := time.Now()
	mc.Quit("Alex")
	w.waitLine(groupA, "Alex 离开了游戏")
	if held := time.Since(quit); held < window {
		t.Errorf("the quit went out after %v, before the %v window", held, window)
	}
	// Steve's quit was held before Alex's and would have gone out first.
	want := []string{"Alex 加入了游戏", "Alex 离开了游戏"}
	if got := w.lines(groupA); !slices.Equal(got, want) {
		t.Errorf("group got %q, want %q", got, want)
	}
}
