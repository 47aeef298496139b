package relay

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcqq/bridge/format"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/minecraft/queqiao"
	"github.com/mcqq/bridge/qq/onebot"
)

const debounceGroup = 712345678

// newIntakeRelay is a relay for one server in debounceGroup whose intake is
// driven by the test; its clients are real but never run, so what the relay
// decides to send stays in its queues for the test to read.
func newIntakeRelay(t *testing.T, o Options) *Relay {
	t.Helper()
	bot, err := onebot.New(onebot.Options{URL: "ws://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	game, err := queqiao.New(queqiao.Options{Name: "survival", URL: "ws://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	o.SyncMCToQQ = []minecraft.EventKind{minecraft.Chat, minecraft.Join, minecraft.Quit, minecraft.Death}
	o.Templates = format.DefaultTemplates()
	r, err := New(bot, []Server{{Name: "survival", Groups: []int64{debounceGroup}, Game: game}}, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// queuedLines lists the lines waiting for debounceGroup.
func queuedLines(r *Relay) []string {
	ob := r.qqOut[debounceGroup]
	ob.mu.Lock()
	defer ob.mu.Unlock()
	var out []string
	for _, q := range ob.items {
		out = append(out, q.v.Text)
	}
	return out
}

func event(kind minecraft.EventKind, player string) minecraft.Event {
	return minecraft.Event{Kind: kind, Player: player, Message: "hi"}
}

func TestJoinQuitDebounce(t *testing.T) {
	const window = 30 * time.Second
	expect := func(t *testing.T, r *Relay, when string, want ...string) {
		t.Helper()
		synctest.Wait()
		if got := queuedLines(r); !slices.Equal(got, want) {
			t.Errorf("%s: queued %q, want %q", when, got, want)
		}
	}

	t.Run("quit and join within the window say nothing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newIntakeRelay(t, Options{JoinQuitDebounce: window})
			s := r.servers[0]
			r.intakeGame(s, event(minecraft.Quit, "Steve"))
			time.Sleep(window - time.Second)
			r.intakeGame(s, event(minecraft.Join, "steve")) // names compare without case
			expect(t, r, "right after the join")
			time.Sleep(2 * window)
			expect(t, r, "long after")
		})
	})
	t.Run("a quit alone goes out after the window", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newIntakeRelay(t, Options{JoinQuitDebounce: window})
			s := r.servers[0]
			r.intakeGame(s, event(minecraft.Quit, "Steve"))
			time.Sleep(window - time.Second)
			expect(t, r, "within the window")
			time.Sleep(time.Second)
			expect(t, r, "at the end of the window", "Steve 离开了游戏")
			// A join after the window is a join.
			r.intakeGame(s, event(minecraft.Join, "Steve"))
			expect(t, r, "after a late join", "Steve 离开了游戏", "Steve 加入了游戏")
		})
	})
	t.Run("a join alone goes out at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newIntakeRelay(t, Options{JoinQuitDebounce: window})
			r.intakeGame(r.servers[0], event(minecraft.Join, "Steve"))
			expect(t, r, "at once", "Steve 加入了游戏")
		})
	})
	t.Run("other players and events are not held", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newIntakeRelay(t, Options{JoinQuitDebounce: window})
			s := r.servers[0]
			r.intakeGame(s, event(minecraft.Quit, "Steve"))
			r.intakeGame(s, event(minecraft.Chat, "Alex"))
			r.intakeGame(s, event(minecraft.Join, "Alex"))
			expect(t, r, "at once", "Alex：hi", "Alex 加入了游戏")
		})
	})
	t.Run("held quits are relayed at shutdown", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newIntakeRelay(t, Options{JoinQuitDebounce: window})
			s := r.servers[0]
			r.intakeGame(s, event(minecraft.Quit, "Steve"))
			r.intakeGame(s, event(minecraft.Quit, "Alex"))
			r.releaseHeldQuits()
			expect(t, r, "at shutdown", "Steve 离开了游戏", "Alex 离开了游戏")
			time.Sleep(2 * window)
			expect(t, r, "after the window (not twice)", "Steve 离开了游戏", "Alex 离开了游戏")
		})
	})
	t.Run("0s relays quits at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newIntakeRelay(t, Options{})
			s := r.servers[0]
			r.intakeGame(s, event(minecraft.Quit, "Steve"))
			r.intakeGame(s, event(minecraft.Join, "Steve"))
			expect(t, r, "at once", "Steve 离开了游戏", "Steve 加入了游戏")
		})
	})
}

func TestIgnoredPlayersAreSilenced(t *testing.T) {
	patterns, err := ParsePlayerPatterns([]string{"bot_*", "Herobrine", "*_afk"})
	if err != nil {
		t.Fatal(err)
	}
	r := newIntakeRelay(t, Options{IgnorePlayers: patterns, JoinQuitDebounce: time.Minute})
	s := r.servers[0]
	for _, p := range []string{"bot_1", "BOT_miner", "herobrine", "steve_AFK"} {
		for _, k := range []minecraft.EventKind{minecraft.Chat, minecraft.Join, minecraft.Quit, minecraft.Death} {
			r.intakeGame(s, event(k, p))
		}
	}
	r.intakeGame(s, event(minecraft.Chat, "robot_1"))
	r.intakeGame(s, event(minecraft.Join, "Herobrine2"))
	r.releaseHeldQuits()
	want := []string{"robot_1：hi", "Herobrine2 加入了游戏"}
	if got := queuedLines(r); !slices.Equal(got, want) {
		t.Errorf("queued %q, want %q", got, want)
	}
}

func TestPlayerPatterns(t *testing.T) {
	p, err := ParsePlayerPatterns([]string{"bot_*", " Steve ", "a*b*c", "*"})
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != "bot_*,Steve,a*b*c,*" {
		t.Errorf("String() = %q", p.String())
	}
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"bot_*", "bot_", true},
		{"bot_*", "Bot_Alex", true},
		{"bot_*", "robot_1", false},
		{"steve", "STEVE", true},
		{"steve", "steve2", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "abcab", false},
		{"a*b*c", "abbbc", true},
		{"*_afk", "x_afk", true},
		{"*", "anyone", true},
		{"*", "", false}, // no player, nothing to ignore
	} {
		q, err := ParsePlayerPatterns([]string{tc.pattern})
		if err != nil {
			t.Fatal(err)
		}
		if got := q.Match(tc.name); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
	for _, bad := range [][]string{{""}, {"bot one"}, {"a\tb"}} {
		if _, err := ParsePlayerPatterns(bad); err == nil {
			t.Errorf("ParsePlayerPatterns(%q) accepted", bad)
		}
	}
	if (PlayerPatterns{}).Match("Steve") {
		t.Error("the zero value matched")
	}
}
