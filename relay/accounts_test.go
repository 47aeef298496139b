package relay

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/store"
)

// A name is one word matching BIND_NAME_PATTERN; whatever the pattern
// allows, it is never a selector, a line break or several words, which
// would change the whitelist command.
func TestCheckName(t *testing.T) {
	def := &Relay{o: Options{Bind: BindOptions{NamePattern: defaultNameRE}}}
	loose := &Relay{o: Options{Bind: BindOptions{NamePattern: regexp.MustCompile(`.+`)}}}
	for _, name := range []string{"Steve", "steve_01", "ABC", "abcdefghijklmnop"} {
		if why := def.checkName(name); why != "" {
			t.Errorf("%q refused: %s", name, why)
		}
	}
	for _, name := range []string{"St", "abcdefghijklmnopq", "Ste-ve", "史蒂夫", ".Steve"} {
		if why := def.checkName(name); !strings.Contains(why, "应为 3–16 位英文字母、数字或下划线") {
			t.Errorf("%q: %q", name, why)
		}
	}
	if why := loose.checkName(".BedrockSteve"); why != "" {
		t.Errorf("a pattern's own rule: %q", why)
	}
	for _, name := range []string{"@a", "@e[type=player]", "Steve Alex", "Steve\nop", "Ste\u202eve", strings.Repeat("x", 65)} {
		if why := loose.checkName(name); !strings.Contains(why, "不合本服的命名要求") {
			t.Errorf("%q allowed by a loose pattern: %q", name, why)
		}
	}
}

// "@bot /unbind @Bob": the bot mentioned before the command is no argument.
func TestMentionsAfterText(t *testing.T) {
	at := func(id string) qq.Segment { return qq.Segment{Type: qq.SegAt, Target: id} }
	segs := []qq.Segment{at("2401234567"), qq.Text(" /unbind "), at("1357924680"), at("all"), at("1019283746")}
	if got := mentionsAfterText(segs); !slices.Equal(got, []int64{1357924680, 1019283746}) {
		t.Errorf("mentions %v", got)
	}
}

// Each outcome of a whitelist change in the members' words.
func TestDescribeWhitelist(t *testing.T) {
	add := store.WhitelistChange{Action: store.WhitelistAdd, Player: "Steve"}
	remove := store.WhitelistChange{Action: store.WhitelistRemove, Player: "Steve"}
	for _, c := range []struct {
		change store.WhitelistChange
		o      whitelistOutcome
		want   string
	}{
		{add, whitelistOutcome{applied: true, output: "Added Steve to the whitelist"}, "已加入白名单"},
		{add, whitelistOutcome{applied: true, output: "That player does not exist"}, "服务器找不到玩家 Steve，未能加入白名单"},
		{remove, whitelistOutcome{applied: true}, "已移出白名单"},
		{add, whitelistOutcome{down: true}, "未连接，恢复后自动加入"},
		{remove, whitelistOutcome{down: true}, "未连接，恢复后自动移出"},
	} {
		if got := describeWhitelist(c.change, c.o); got != c.want {
			t.Errorf("%+v: %q, want %q", c.o, got, c.want)
		}
	}
}

// The cache of senders' names: a change empties it, a load that began
// before a change is not kept, and an entry lasts boundTTL.
func TestBoundCache(t *testing.T) {
	var c boundCache
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	gen := c.generation()
	c.put(1, []string{"Steve"}, gen, now)
	if names, ok := c.get(1, now.Add(boundTTL-time.Second)); !ok || !slices.Equal(names, []string{"Steve"}) {
		t.Errorf("fresh entry: %v, %v", names, ok)
	}
	if _, ok := c.get(1, now.Add(boundTTL)); ok {
		t.Error("an entry outlived boundTTL")
	}
	stale := c.generation()
	c.changed()
	if _, ok := c.get(1, now); ok {
		t.Error("a change left an entry")
	}
	c.put(2, []string{"Alex"}, stale, now) // loaded before the change
	if _, ok := c.get(2, now); ok {
		t.Error("a load from before the change was kept")
	}
}
