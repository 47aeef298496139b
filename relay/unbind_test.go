package relay

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/store"
)

// at mentions member m.
func at(m qq.Member) qq.Segment { return mention(strconv.FormatInt(m.UserID, 10)) }

// /unbind removes one's own binding, an admin's /unbind @member and
// /unbind <name> anyone's, and each sends "whitelist remove" to the
// whitelist servers of the group the binding was made in, wherever the
// command is typed; a member cannot unbind another's name.
func TestUnbind(t *testing.T) {
	w, acc, _ := accountWorld(t, []serverSpec{
		{name: "survival", groups: []int64{groupA}, rcon: true, whitelist: true},
		{name: "lobby", groups: []int64{groupB}, rcon: true, whitelist: true},
	}, nil)
	w.bot.AddMember(groupA, carol)
	bindSteve := func() {
		t.Helper()
		if got := w.command(groupA, bob, "/bind Steve"); got != "已绑定 Steve\n[survival] 已加入白名单" {
			t.Fatalf("/bind: %q", got)
		}
	}
	const unbound = "已解绑 Steve\n[survival] 已移出白名单"

	if got := w.command(groupA, bob, "/unbind"); got != "你还没有绑定玩家名" {
		t.Errorf("/unbind without a binding: %q", got)
	}
	bindSteve()
	for _, c := range []struct {
		text, want string
		segs       []qq.Segment
	}{
		{"/unbind Steve", "只有管理员可以解绑别人的名字", nil},
		{"/unbind ", "只有管理员可以解绑别人的名字", []qq.Segment{at(bob)}},
		{"/unbind Herobrine", "Herobrine 没有被绑定", nil},
	} {
		if got := w.commandWith(groupA, carol, c.text, c.segs...); got != c.want {
			t.Errorf("carol %q: %q, want %q", c.text, got, c.want)
		}
	}
	if got := w.commandWith(groupA, alice, "/unbind ", at(carol)); got != "该成员还没有绑定玩家名" {
		t.Errorf("an admin unbinding a member without a binding: %q", got)
	}
	if boundTo(t, acc, "Steve") != bob.UserID {
		t.Fatal("a refused /unbind removed the binding")
	}

	if got := w.command(groupA, bob, "/unbind"); got != unbound {
		t.Errorf("/unbind: %q", got)
	}
	bindSteve()
	if got := w.commandWith(groupA, bob, "/解绑 ", at(bob)); got != unbound {
		t.Errorf("/unbind @self: %q", got)
	}
	bindSteve()
	if got := w.commandWith(groupA, alice, "/unbind ", at(bob)); got != unbound {
		t.Errorf("admin /unbind @bob: %q", got)
	}
	bindSteve()
	if got := w.command(groupB, owner, "/解绑 steve"); got != unbound {
		t.Errorf("admin /unbind steve in the other group: %q", got)
	}
	if got := w.consoleCommands("survival", "whitelist remove"); !slices.Equal(got, slices.Repeat([]string{"whitelist remove Steve"}, 4)) {
		t.Errorf("survival's removals %q", got)
	}
	if got := w.consoleCommands("lobby", "whitelist"); len(got) != 0 {
		t.Errorf("the other group's server ran %q", got)
	}
	if boundTo(t, acc, "Steve") != 0 {
		t.Error("Steve is still bound")
	}
}

// Two admins unbinding one name at once: one removes it, the other is told
// it is gone, and "whitelist remove" runs once.
func TestConcurrentUnbinds(t *testing.T) {
	w, _, _ := accountWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}, rcon: true, whitelist: true}}, nil)
	for round := range 3 {
		w.command(groupA, bob, "/bind Steve")
		var ids [2]int64
		var wg sync.WaitGroup
		for i, m := range []qq.Member{alice, owner} {
			wg.Go(func() { ids[i] = w.sayText(groupA, m, "/unbind Steve") })
		}
		wg.Wait()
		removed := 0
		for _, id := range ids {
			switch got := w.reply(groupA, id); got {
			case "已解绑 Steve\n[survival] 已移出白名单":
				removed++
			case "Steve 已不再绑定", "Steve 没有被绑定":
			default:
				t.Errorf("round %d: reply %q", round, got)
			}
		}
		if removed != 1 {
			t.Errorf("round %d: %d admins removed the binding", round, removed)
		}
		if got := w.consoleCommands("survival", "whitelist remove"); len(got) != round+1 {
			t.Errorf("round %d: removals %q", round, got)
		}
	}
}

// /whois answers who is bound to a name, what a member (or oneself) is
// bound to and since when, naming members by card or nickname from the
// group they bound in, and by number when the bot cannot find them.
func TestWhois(t *testing.T) {
	w, _, clock := accountWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, nil)
	w.command(groupA, bob, "/bind Steve")
	clock.advance(5 * time.Minute)
	w.command(groupA, alice, "/bind Alex")
	for _, c := range []struct {
		who       qq.Member
		text      string
		segs      []qq.Segment
		want      string
		inPrivate bool
	}{
		{who: bob, text: "/whois steve", want: "Steve 由 Bob（QQ 1357924680）绑定，绑定于 2026-05-01 12:00"},
		{who: bob, text: "/查询 Herobrine", want: "Herobrine 还没有被绑定"},
		{who: bob, text: "/whois ", segs: []qq.Segment{at(alice)}, want: "[管理] Alice_MC（QQ 1019283746）绑定了 Alex（2026-05-01 12:05 起）"},
		{who: bob, text: "/whois", want: "Bob（QQ 1357924680）绑定了 Steve（2026-05-01 12:00 起）"},
		{who: owner, text: "/WHOIS", want: "Root（QQ 10001）还没有绑定玩家名"},
		{who: owner, text: "/whois Alex", want: "Alex 由 [管理] Alice_MC（QQ 1019283746）绑定，绑定于 2026-05-01 12:05", inPrivate: true},
	} {
		var got string
		if c.inPrivate {
			got = w.privateCommand(c.who, c.text)
		} else {
			got = w.commandWith(groupA, c.who, c.text, c.segs...)
		}
		if got != c.want {
			t.Errorf("%s %q: %q, want %q", c.who.Nickname, c.text, got, c.want)
		}
	}

	w.bot.MemberLeaves(groupA, bob.UserID) // unbinding on leave is off
	w.waitLog("unbinding on leave is off")
	if got, want := w.command(groupA, alice, "/whois Steve"), "Steve 由 QQ 1357924680 绑定，绑定于 2026-05-01 12:00"; got != want {
		t.Errorf("/whois of a member who left: %q, want %q", got, want)
	}
}

// /bindings (admins) counts the bindings and lists the latest 20, newest
// first.
func TestBindings(t *testing.T) {
	w, acc, clock := accountWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, nil)
	if got := w.command(groupA, alice, "/bindings"); got != "还没有任何绑定" {
		t.Errorf("no bindings: %q", got)
	}
	w.command(groupA, bob, "/bind Steve")
	clock.advance(5 * time.Minute)
	w.command(groupA, alice, "/bind Alex")
	want := "共 2 个绑定：\nAlex — QQ 1019283746，2026-05-01 12:05\nSteve — QQ 1357924680，2026-05-01 12:00"
	if got := w.command(groupA, alice, "/bindings"); got != want {
		t.Errorf("/bindings: %q, want %q", got, want)
	}
	if got := w.privateCommand(owner, "/bindings"); got != want {
		t.Errorf("/bindings in private chat: %q, want %q", got, want)
	}
	if got := w.command(groupA, bob, "/bindings"); got != "仅管理员可使用 /bindings" {
		t.Errorf("a member's /bindings: %q", got)
	}

	// 20 more, a minute apart from 13:00: the two above drop off the list.
	for i := range 20 {
		b := store.Binding{QQ: 2000 + int64(i), Player: fmt.Sprintf("Player%02d", i), Group: groupA,
			BoundAt: boundAt.Add(time.Hour + time.Duration(i)*time.Minute)}
		_, err := acc.Bind(context.Background(), store.BindRequest{Binding: b})
		check(t, err)
	}
	lines := strings.Split(w.command(groupA, owner, "/bindings"), "\n")
	if len(lines) != 21 || lines[0] != "共 22 个绑定，最近的 20 个：" ||
		lines[1] != "Player19 — QQ 2019，2026-05-01 13:19" || lines[20] != "Player00 — QQ 2000，2026-05-01 13:00" {
		t.Errorf("/bindings of 22:\n%s", strings.Join(lines, "\n"))
	}
}
