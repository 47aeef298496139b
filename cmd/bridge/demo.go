package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/mcqq/bridge/internal/standin/queqiao"
	"github.com/mcqq/bridge/internal/standin/rcon"
	"github.com/mcqq/bridge/qq"
)

// runDemo shows the bridge working without QQ or Minecraft: it
// starts loopback stand-ins for a QQ bot speaking protocol (QQ_PROTOCOL:
// onebot, the default, milky or satori), two QueQiao servers and RCON,
// bridges them with the real code, plays a short conversation both ways
// and prints what each side saw.
func runDemo(ctx context.Context, w io.Writer, protocol string) error {
	const group = 712345678
	alice := qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "Alice_MC", Role: "admin"}
	bob := qq.Member{UserID: 1357924680, Nickname: "Bob", Role: "member"}

	bot, err := newDemoBot(protocol, group, "MC服务器交流群", alice, bob)
	if err != nil {
		return err
	}
	survival := queqiao.New(queqiao.Options{ServerName: "survival", Version: "1.21.1"})
	creative := queqiao.New(queqiao.Options{ServerName: "creative", Version: "1.21.5"})
	console := rcon.New("demo-password", func(cmd string) string {
		if cmd == "list" {
			return "There are 2 of a max of 20 players online: Steve, Alex"
		}
		return "Unknown command: " + cmd
	})
	for _, start := range []func(string) error{bot.start, survival.Start, creative.Start, console.Start} {
		if err := start("127.0.0.1:0"); err != nil {
			return err
		}
	}
	defer bot.stop()
	defer survival.Stop()
	defer creative.Stop()
	defer console.Stop()
	survival.SetOnline("Steve", "Alex")

	env := map[string]string{
		"MC_0_NAME":          "survival",
		"MC_0_WS_URL":        survival.URL(),
		"MC_0_RCON_ADDR":     console.Addr(),
		"MC_0_RCON_PASSWORD": "demo-password",
		"MC_0_GROUPS":        strconv.Itoa(group),
		"MC_1_NAME":          "creative",
		"MC_1_WS_URL":        creative.URL(),
		"MC_1_GROUPS":        strconv.Itoa(group),
		"HTTP_LISTEN":        "none",
	}
	maps.Copy(env, bot.env)
	cfg, _, err := LoadConfig(env)
	if err != nil {
		return err
	}
	b, err := build(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor := func(what string, cond func() bool) error {
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				return fmt.Errorf("timed out waiting for %s", what)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
		return nil
	}
	if err := waitFor("every connection", func() bool { ready, _ := b.readiness(); return ready }); err != nil {
		return err
	}
	fmt.Fprintf(w, "Demo: QQ group %d is bridged with two Minecraft servers, survival (1.21.1) and creative (1.21.5),\n", group)
	fmt.Fprintf(w, "over %s (QQ_PROTOCOL=%s).\n", bot.describe, cfg.QQProtocol)
	fmt.Fprintln(w, "Everything below went through real sockets to built-in stand-ins.")

	// What the servers were asked to show, as a player would read it: each
	// QQ message goes to both servers of the group.
	shown := map[string]int{}
	gameSaw := func() error {
		servers := []struct {
			name string
			q    *queqiao.Server
		}{{"survival", survival}, {"creative", creative}}
		for _, s := range servers {
			if err := waitFor("the game side", func() bool { return len(broadcasts(s.name, s.q)) > shown[s.name] }); err != nil {
				return err
			}
			all := broadcasts(s.name, s.q)
			for _, line := range all[shown[s.name]:] {
				fmt.Fprintln(w, "  MC ◀ "+line)
			}
			shown[s.name] = len(all)
		}
		return nil
	}
	sent := 0
	qqSaw := func(wantLines int) error {
		if err := waitFor("the QQ side", func() bool { return sentLines(bot.sent()[sent:]) >= wantLines }); err != nil {
			return err
		}
		msgs := bot.sent()
		for _, m := range msgs[sent:] {
			prefix := "  QQ ◀ "
			for _, line := range strings.Split(m, "\n") {
				fmt.Fprintln(w, prefix+line)
				prefix = "       "
			}
		}
		sent = len(msgs)
		return nil
	}

	fmt.Fprintln(w, "\n== QQ → Minecraft")
	fmt.Fprintln(w, "  QQ ▶ Bob: 服务器今晚几点维护？")
	asked := bot.say(group, bob, []qq.Segment{qq.Text("服务器今晚几点维护？")})
	if err := gameSaw(); err != nil {
		return err
	}
	fmt.Fprintln(w, "  QQ ▶ Alice_MC (replying to Bob): @Bob 今晚8点，记得保存 /微笑 [image]")
	bot.say(group, alice, []qq.Segment{
		{Type: qq.SegReply, Data: map[string]string{"id": asked}},
		{Type: qq.SegAt, Data: map[string]string{"qq": strconv.FormatInt(bob.UserID, 10)}},
		qq.Text(" 今晚8点，记得保存"),
		{Type: qq.SegFace, Data: map[string]string{"id": "14"}},
		{Type: qq.SegImage, Data: map[string]string{"url": "https://example.com/map.png", "sub_type": "0"}},
	})
	if err := gameSaw(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\n== Minecraft → QQ")
	fmt.Fprintln(w, "  MC ▶ survival: Steve says 收到，我先下线了; Alex joins; Steve is slain by a zombie; Alex gets Stone Age; Steve types !!qb (an MCDR command)")
	survival.Chat("Steve", "收到，我先下线了")
	survival.Join("Alex")
	survival.Death("Steve", "death.attack.mob", []string{"Steve", "entity.minecraft.zombie:Zombie"}, "Steve was slain by Zombie")
	survival.Advancement("Alex", "minecraft:story/mine_stone", "advancements.story.mine_stone.title", "Stone Age")
	survival.Chat("Steve", "!!qb make backup")
	if err := qqSaw(4); err != nil {
		return err
	}

	fmt.Fprintln(w, "\n== Commands in the group")
	for _, c := range []struct {
		who  qq.Member
		text string
	}{
		{alice, "/mcs"},
		{alice, "/mcc @survival list"},
		{bob, "/mcc stop"},
	} {
		fmt.Fprintf(w, "  QQ ▶ %s: %s\n", c.who.DisplayName(), c.text)
		bot.say(group, c.who, []qq.Segment{qq.Text(c.text)})
		if err := qqSaw(1); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nDemo finished: both directions and the commands worked.")
	return nil
}

// broadcasts renders what each broadcast shows in game, with the prefix the
// QueQiao plugin adds.
func broadcasts(name string, q *queqiao.Server) []string {
	var out []string
	for _, r := range q.Requests() {
		if r.API != "broadcast" && r.API != "send_msg" {
			continue
		}
		var data struct{ Message json.RawMessage }
		_ = json.Unmarshal(r.Data, &data)
		out = append(out, fmt.Sprintf("%-9s [鹊桥] %s", name+":", componentText(data.Message)))
	}
	return out
}

// componentText flattens a JSON text component (object, array or string) to
// the text a player sees, hovers excluded.
func componentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var b strings.Builder
		for _, c := range list {
			b.WriteString(componentText(c))
		}
		return b.String()
	}
	var c struct {
		Text  string            `json:"text"`
		Extra []json.RawMessage `json:"extra"`
	}
	_ = json.Unmarshal(raw, &c)
	var b strings.Builder
	b.WriteString(c.Text)
	for _, e := range c.Extra {
		b.WriteString(componentText(e))
	}
	return b.String()
}

func sentLines(msgs []string) int {
	n := 0
	for _, m := range msgs {
		n += len(strings.Split(m, "\n"))
	}
	return n
}
