package relay

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// leaving is the notice a group gets when bob, bound to names, leaves it.
const leaving = "QQ 1357924680 已离开本群，已解除其绑定："

// noticesTo lists the messages to group that begin with prefix.
func (w *world) noticesTo(group int64, prefix string) []string {
	var out []string
	for _, s := range w.bot.Sent() {
		if s.GroupID == group && strings.HasPrefix(s.Text, prefix) {
			out = append(out, s.Text)
		}
	}
	return out
}

// With BIND_UNBIND_ON_LEAVE, a member who leaves the only bound group loses
// every binding and whitelist entry, and the group is told.
func TestMemberLeavingTheOnlyBoundGroupUnbinds(t *testing.T) {
	w, acc, _ := accountWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}, rcon: true, whitelist: true}},
		func(o *Options) { o.Bind.UnbindOnLeave, o.Bind.Max = true, 2 })
	w.command(groupA, bob, "/bind Steve")
	w.command(groupA, bob, "/bind Alex")
	w.bot.MemberLeaves(groupA, bob.UserID)
	want := leaving + "\n已解绑 Steve\n[survival] 已移出白名单\n已解绑 Alex\n[survival] 已移出白名单"
	if got := w.notice(groupA, leaving); got != want {
		t.Errorf("the group was told %q, want %q", got, want)
	}
	if got := w.consoleCommands("survival", "whitelist remove"); !slices.Equal(got, []string{"whitelist remove Steve", "whitelist remove Alex"}) {
		t.Errorf("removals %q", got)
	}
	if boundTo(t, acc, "Steve") != 0 || boundTo(t, acc, "Alex") != 0 {
		t.Error("bindings of a member who left are still stored")
	}
}

// One who leaves one of two bound groups keeps the binding until they leave
// the other too; then the group they left last is told, and only it.
func TestMemberLeavingOneOfTwoBoundGroups(t *testing.T) {
	w, acc, _ := accountWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA, groupB}, rcon: true, whitelist: true}},
		func(o *Options) { o.Bind.UnbindOnLeave = true })
	w.command(groupA, bob, "/bind Steve")
	w.bot.MemberLeaves(groupA, bob.UserID)
	w.waitLog("a member left a bound group but is still in another; bindings kept")
	if boundTo(t, acc, "Steve") != bob.UserID {
		t.Fatal("the binding of a member still in a bound group went")
	}
	if got := w.consoleCommands("survival", "whitelist remove"); len(got) != 0 {
		t.Errorf("removals %q", got)
	}

	w.bot.MemberLeaves(groupB, bob.UserID)
	if got, want := w.notice(groupB, leaving), leaving+"\n已解绑 Steve\n[survival] 已移出白名单"; got != want {
		t.Errorf("the group was told %q, want %q", got, want)
	}
	if got := w.consoleCommands("survival", "whitelist remove"); !slices.Equal(got, []string{"whitelist remove Steve"}) {
		t.Errorf("removals %q", got)
	}
	if boundTo(t, acc, "Steve") != 0 {
		t.Error("Steve is still bound")
	}
	if got := w.noticesTo(groupA, leaving); len(got) != 0 {
		t.Errorf("the group left first was told %q", got)
	}
}

// When the bot cannot say whether the member is in the other bound group
// (it does not answer), the bindings stay: only the bot's word that they are
// not there counts. With BIND_UNBIND_ON_LEAVE=false they stay anyway.
func TestMemberLeavingKeepsBindingsWhenUnsure(t *testing.T) {
	t.Run("the bot does not answer", func(t *testing.T) {
		t.Parallel() // mostly waits for the look-up's timeout
		w, acc, _ := accountWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA, groupB}, rcon: true, whitelist: true}},
			func(o *Options) { o.Bind.UnbindOnLeave, o.RequestTimeout = true, time.Second })
		w.command(groupA, bob, "/bind Steve")
		w.bot.SetSilent("get_group_member_info", true)
		w.bot.MemberLeaves(groupA, bob.UserID)
		w.waitLog("cannot tell whether they are in another bound group, so their bindings are kept")
		if boundTo(t, acc, "Steve") != bob.UserID {
			t.Error("a look-up that failed cost the binding")
		}
		if got := w.consoleCommands("survival", "whitelist remove"); len(got) != 0 {
			t.Errorf("removals %q", got)
		}
	})
	t.Run("BIND_UNBIND_ON_LEAVE=false", func(t *testing.T) {
		w, acc, _ := accountWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}, rcon: true, whitelist: true}}, nil)
		w.command(groupA, bob, "/bind Steve")
		w.bot.MemberLeaves(groupA, bob.UserID)
		w.waitLog("a member left; their bindings stay (unbinding on leave is off)")
		if boundTo(t, acc, "Steve") != bob.UserID {
			t.Error("the binding went")
		}
		if got := w.noticesTo(groupA, leaving); len(got) != 0 {
			t.Errorf("the group was told %q", got)
		}
	})
}
