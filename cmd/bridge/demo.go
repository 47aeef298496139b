package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
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
// bridges them with the real code, plays a short conversation both ways,
// binds a player (survival keeps its whitelist) and prints what each side
// saw.
func runDemo(ctx context.Context, w io.Writer, protocol Protocol) error {
	const group = 712345678
	alice := qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "Alice_MC", Role: "admin"}
	bob := qq.Member{UserID: 1357924680, Nickname: "Bob", Role: "member"}

	bot := newDemoBot(protocol, group, "MC服务器交流群", alice, bob)
	survival := queqiao.New(queqiao.Options{ServerName: "survival", Version: "1.21.1"})
	creative := queqiao.New(queqiao.Options{ServerName: "creative", Version: "1.21.5"})
	console := rcon.New("demo-password", func(cmd string) string {
		switch {
		case cmd == "list":
			return "There are 2 of a max of 20 players online: Steve, Alex"
		case strings.HasPrefix(cmd, "whitelist add "):
			return "Added " + strings.TrimPrefix(cmd, "whitelist add ") + " to the whitelist"
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
		"MC_0_WHITELIST":     "true",
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
	// The demo keeps nothing: its database (bindings) lives in a temporary
	// directory, removed at the end.
	dataDir, err := os.MkdirTemp("", "bridge-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	cfg.DataDir = dataDir
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
	fmt.Fprintln(w, "Everything below went through real sockets to built-in stand-ins and is shown as they got it;")
	fmt.Fprintln(w, "in game, QueQiao puts its message_prefix ([鹊桥] by default) before each message, as the stand-in does.")

	// What the players' chat shows, as the QueQiao stand-in renders it: each
	// QQ message goes to both servers of the group.
	shown := map[string]int{}
	gameSaw := func() error {
		servers := []struct {
			name string
			q    *queqiao.Server
		}{{"survival", survival}, {"creative", creative}}
		for _, s := range servers {
			if err := waitFor("the game side", func() bool { return len(s.q.Shown()) > shown[s.name] }); err != nil {
				return err
			}
			all := s.q.Shown()
			for _, line := range all[shown[s.name]:] {
				fmt.Fprintf(w, "  MC ◀ %-9s %s\n", s.name+":", componentText(line))
			}
			shown[s.name] = len(all)
		}
		return nil
	}
	sent := 0
	// quoted names the author of each message the demo said, by id, for
	// the bot's replies that quote one.
	quoted := map[string]string{}
	qqSaw := func(wantLines int) error {
		if err := waitFor("the QQ side", func() bool { return sentLines(bot.sent()[sent:]) >= wantLines }); err != nil {
			return err
		}
		msgs := bot.sent()
		for _, m := range msgs[sent:] {
			prefix := "  QQ ◀ "
			if m.replyTo != "" {
				prefix += "(replying to " + quotedName(quoted, m.replyTo) + ") "
			}
			for _, line := range strings.Split(m.text, "\n") {
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
		{Type: qq.SegReply, ID: asked},
		{Type: qq.SegAt, Target: strconv.FormatInt(bob.UserID, 10)},
		qq.Text(" 今晚8点，记得保存"),
		{Type: qq.SegFace, ID: "14"},
		{Type: qq.SegImage, URL: "https://example.com/map.png"},
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
		id := bot.say(group, c.who, []qq.Segment{qq.Text(c.text)})
		quoted[id] = c.who.DisplayName()
		if err := qqSaw(1); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\n== Accounts (survival keeps its whitelist in step: MC_0_WHITELIST=true)")
	fmt.Fprintln(w, "  QQ ▶ Bob: /bind Steve")
	id := bot.say(group, bob, []qq.Segment{qq.Text("/bind Steve")})
	quoted[id] = bob.DisplayName()
	if err := qqSaw(2); err != nil {
		return err
	}
	var whitelist []string
	if err := waitFor("the whitelist", func() bool {
		whitelist = whitelist[:0]
		for _, c := range console.Commands() {
			if strings.HasPrefix(c, "whitelist ") {
				whitelist = append(whitelist, c)
			}
		}
		return len(whitelist) > 0
	}); err != nil {
		return err
	}
	for _, c := range whitelist {
		fmt.Fprintf(w, "  RCON ◀ survival: %s\n", c)
	}
	fmt.Fprintln(w, "\nDemo finished: both directions, the commands and a binding worked.")
	return nil
}

// quotedName is the author of the message a reply quotes. Bots give the
// quoted id in their own spelling (Satori's bare id, without the channel the
// id said carries), so an id that ends the other also matches.
func quotedName(quoted map[string]string, id string) string {
	for said, name := range quoted {
		if said == id || strings.HasSuffix(said, "/"+id) {
			return name
		}
	}
	return "?"
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

func sentLines(msgs []demoSent) int {
	n := 0
	for _, m := range msgs {
		n += len(strings.Split(m.text, "\n"))
	}
	return n
}
