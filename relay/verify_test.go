package relay

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/store"
)

// Codes nobody said are removed by the periodic sweep once their ten
// minutes are up, on the fake clock of a synctest bubble; one still
// running is kept.
func TestExpiredCodesAreSwept(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		db, err := store.Open(context.Background(), dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		accounts := db.Accounts()
		r := &Relay{o: Options{Accounts: accounts, Bind: BindOptions{Verify: true}}, now: time.Now,
			log: slog.New(slog.DiscardHandler)}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { r.sweepCodes(ctx); close(done) }()

		start := time.Now()
		for _, v := range []store.Verification{
			{Code: "111111", QQ: 1, Player: "Steve", Expires: start.Add(VerifyWindow)},
			{Code: "222222", QQ: 2, Player: "Alex", Expires: start.Add(VerifyWindow + 5*time.Minute)},
		} {
			if err := accounts.StartVerification(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		pending := func(code string) bool {
			// Looked up at the start, so an expired code counts only while stored.
			_, err := accounts.Verification(context.Background(), code, start)
			return !errors.Is(err, store.ErrNoVerification)
		}
		time.Sleep(VerifyWindow - time.Second)
		synctest.Wait()
		if !pending("111111") || !pending("222222") {
			t.Fatal("a code went before its time")
		}
		time.Sleep(sweepEvery + time.Second)
		synctest.Wait()
		if pending("111111") {
			t.Error("an expired code is still stored after a sweep")
		}
		if !pending("222222") {
			t.Error("a running code was swept")
		}
		cancel()
		<-done
	})
}

var codeRE = regexp.MustCompile(`^请在 10 分钟内用 (\S+) 进入服务器，在聊天栏发送验证码 (\d{6})，即可完成绑定$`)

// BIND_VERIFY on the fake clock of a synctest bubble (a real database, the
// clients never connected): a code said in game chat by its player binds
// within ten minutes, in the game's spelling of the name, and is used up;
// said by another player it neither binds nor is relayed; from ten minutes
// on, and once a newer /bind replaced it, it is ordinary chat. /bind still
// refuses what the binding would, and of two members verifying one name the
// first to be confirmed wins.
func TestVerificationCodesLastTenMinutes(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		_, acc := openAccounts(t, dir)
		r := newIntakeRelay(t, Options{Accounts: acc, Bind: BindOptions{Verify: true, Max: 1}})
		s := r.servers[0]
		ctx := context.Background()
		bind := func(m qq.Member, name string) (code, reply string) {
			t.Helper()
			c := caller{user: m.UserID, role: m.Role, group: debounceGroup, replyTo: "1"}
			reply, refused := r.accountCommand(ctx, c, command{name: "bind", typed: "/bind", args: name})
			if got := codeRE.FindStringSubmatch(reply); got != nil && got[1] == name && !refused {
				return got[2], reply
			}
			return "", reply
		}
		seen := 0
		say := func(player, text string) []string {
			t.Helper()
			r.intakeGame(s, minecraft.Event{Kind: minecraft.Chat, Player: player, Message: text})
			r.cmds.Wait()
			all := queuedLines(r)
			got := all[seen:]
			seen = len(all)
			return got
		}
		expect := func(what string, got []string, want ...string) {
			t.Helper()
			if !slices.Equal(got, want) {
				t.Errorf("%s: %q, want %q", what, got, want)
			}
		}

		code, reply := bind(bob, "steve")
		if code == "" {
			t.Fatalf("/bind steve: %q", reply)
		}
		if boundTo(t, acc, "steve") != 0 {
			t.Fatal("bound before the player said the code")
		}
		time.Sleep(VerifyWindow - time.Second)
		expect("the code said by another player", say("Alex", code))
		if boundTo(t, acc, "steve") != 0 {
			t.Fatal("another player's saying the code bound the name")
		}
		expect("the code said by its player", say("Steve", code), "已绑定 Steve")
		if b, err := acc.Binding(ctx, "steve"); err != nil || b.QQ != bob.UserID || b.Player != "Steve" {
			t.Errorf("stored %+v, %v", b, err)
		}
		expect("the code said again", say("Steve", code), "Steve："+code)

		code, _ = bind(alice, "Alex")
		time.Sleep(VerifyWindow)
		expect("the code said at ten minutes", say("Alex", code), "Alex："+code)
		if boundTo(t, acc, "Alex") != 0 {
			t.Error("an expired code bound the name")
		}

		old, _ := bind(alice, "Alex")
		code, _ = bind(alice, "Alex")
		for code == old { // one chance in a million
			code, _ = bind(alice, "Alex")
		}
		expect("a replaced code", say("Alex", old), "Alex："+old)
		expect("the newer code", say("Alex", code), "已绑定 Alex")

		if _, reply := bind(bob, "Notch"); reply != "你已绑定 Steve，每人最多绑定 1 个名字；换名字请先用 /unbind 解绑" {
			t.Errorf("/bind over BIND_MAX: %q", reply)
		}
		if _, reply := bind(owner, "STEVE"); reply != "Steve 已被其他成员绑定；如有疑问请联系管理员" {
			t.Errorf("/bind of a bound name: %q", reply)
		}
		first, _ := bind(owner, "Notch")
		second, _ := bind(carol, "Notch")
		expect("the first code", say("Notch", first), "已绑定 Notch")
		expect("the second code", say("Notch", second), "Notch 已被其他成员绑定；如有疑问请联系管理员")
		if boundTo(t, acc, "Notch") != owner.UserID {
			t.Error("the second confirmation took the name")
		}
	})
}

// BIND_VERIFY end to end: the player says the code in game and the binding
// is made, the player is told in game, the /bind is answered (quoted) with
// the whitelist's outcome, and the code never reaches the group.
func TestBindVerifiedInGame(t *testing.T) {
	w, acc, _ := accountWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}, rcon: true, whitelist: true}},
		func(o *Options) { o.Bind.Verify = true })
	mc := w.mc["survival"]
	mc.SetOnline("Steve", "Alex")
	id := w.sayText(groupA, bob, "/bind Steve")
	answer := w.reply(groupA, id)
	m := codeRE.FindStringSubmatch(answer)
	if m == nil {
		t.Fatalf("reply %q", answer)
	}
	code := m[2]

	mc.Chat("Alex", code)
	mc.Chat("Steve", "hi")
	w.waitLine(groupA, "Steve：hi") // what came before it was handled
	if boundTo(t, acc, "Steve") != 0 {
		t.Fatal("another player's saying the code bound the name")
	}
	mc.Chat("Steve", code)
	var confirmed string
	w.waitFor("the confirmation", func() bool {
		for _, s := range w.bot.Sent() {
			if len(s.Message) > 0 && s.Message[0].ID == strconv.FormatInt(id, 10) && s.Text != answer {
				confirmed = s.Text
				return true
			}
		}
		return false
	})
	if confirmed != "已绑定 Steve\n[survival] 已加入白名单" {
		t.Errorf("confirmation %q", confirmed)
	}
	if boundTo(t, acc, "Steve") != bob.UserID {
		t.Error("not stored")
	}
	if got := w.consoleCommands("survival", "whitelist"); !slices.Equal(got, []string{"whitelist add Steve"}) {
		t.Errorf("console ran %q", got)
	}
	if got := w.waitTexts("survival", "send_private_msg", "message", 1); got[0] != "[QQ] 已与 QQ 1357924680 绑定" {
		t.Errorf("the player was told %q", got)
	}
	for _, l := range w.lines(groupA) {
		if strings.Contains(l, code) && !strings.Contains(l, "发送验证码") {
			t.Errorf("the code reached the group: %q", l)
		}
	}
}
