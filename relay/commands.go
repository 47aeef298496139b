package relay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/mcqq/bridge/format"
	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/internal/safetext"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// command is one parsed in-group command (the README's command table).
type command struct {
	name   string // canonical: mcc, mcb, mct, mca, mcp, mcs, mch; bind, unbind, whois, bindings
	typed  string // as the user typed it, with the prefix, for replies
	target string // from "@name"; "" = every bound server
	args   string
	// mentions are the members @-mentioned after the command word
	// (account commands: "/unbind @member").
	mentions []int64
}

var commandAliases = map[string]string{
	"mcc": "mcc", "rcon": "mcc",
	"mcb": "mcb",
	"mct": "mct", "mcst": "mct",
	"mca": "mca", "mcsa": "mca",
	"mcp": "mcp",
	"mcs": "mcs",
	"mch": "mch",
}

// maxOutput is where /mcc output is cut, in characters; a note says how
// long it was.
const maxOutput = 1500

// parseCommand recognises our commands. Anything else, including other
// "/…" words, is ordinary chat.
func (r *Relay) parseCommand(m qq.Message) (command, bool) {
	var b strings.Builder
	for _, s := range m.Segments {
		if s.Type == qq.SegText {
			b.WriteString(s.Text)
		}
	}
	text := strings.TrimSpace(b.String())
	if !strings.HasPrefix(text, r.o.CommandPrefix) {
		return command{}, false
	}
	rest := text[len(r.o.CommandPrefix):]
	word, args := cutWord(rest)
	name, ok := commandAliases[strings.ToLower(word)]
	if !ok && r.o.Accounts != nil {
		if name, ok = accountAliases[strings.ToLower(word)]; ok {
			// No "@server" here: an @ names a member, as a mention.
			return command{name: name, typed: r.o.CommandPrefix + word, args: args, mentions: mentionsAfterText(m.Segments)}, true
		}
	}
	if !ok {
		return command{}, false
	}
	c := command{name: name, typed: r.o.CommandPrefix + word}
	if strings.HasPrefix(args, "@") {
		c.target, args = cutWord(args[1:])
	}
	c.args = args
	return c, true
}

// cutWord splits off the first whitespace-separated word; the rest keeps its
// inner newlines (a title's subtitle) but loses leading spaces.
func cutWord(s string) (word, rest string) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

// caller is who sent a command and where the reply goes.
type caller struct {
	user    int64
	name    string // card, else nickname: shown with a broadcast
	role    string
	group   int64 // 0 in private chat
	replyTo string
}

func (r *Relay) isAdmin(c caller) bool {
	return r.admins[c.user] || (c.group != 0 && c.role != "" && slices.Contains(r.o.AdminRoles, c.role))
}

// reply queues the answer to a command: in the group, quoting the command,
// or in private chat.
func (r *Relay) reply(c caller, text string) {
	now := time.Now()
	if c.group != 0 {
		out := r.qqOut[c.group]
		if out == nil {
			// A group no longer bridged (a verification code from before a
			// configuration change): there is nowhere to answer.
			r.log.Warn("no reply: the group is no longer bridged", "group", c.group, "text", text)
			return
		}
		out.push(qqLine{Text: text, ReplyTo: c.replyTo}, now, len(text))
		return
	}
	r.privOut.push(qqPrivate{User: c.user, Text: text, ReplyTo: c.replyTo}, now, len(text))
}

func (r *Relay) startCommand(ctx context.Context, ev qq.Event, cmd command) {
	c := caller{user: ev.Message.Sender.UserID, name: ev.Message.Sender.DisplayName(),
		role: ev.Message.Sender.Role, replyTo: ev.Message.ID}
	if ev.Kind == qq.GroupMessage {
		c.group = ev.GroupID
	}
	r.log.Info("command", "command", cmd.typed, "target", cmd.target, "user", c.user, "group", c.group)
	r.cmds.Go(func() { r.runCommand(ctx, c, cmd) })
}

func (r *Relay) runCommand(ctx context.Context, c caller, cmd command) {
	if ctx.Err() != nil {
		// Read just before shutdown: say so rather than refuse it for a
		// look-up that can no longer be made.
		r.m.command(cmd.name, "shutting_down")
		r.reply(c, "桥接正在关闭，命令未执行")
		return
	}
	if c.group != 0 && c.role == "" {
		// Some bots (LLBot over Satori) send no role with a message; the
		// member look-up (cached) has it. Without one the sender has no
		// admin rights by role.
		if m, err := r.qq.Member(ctx, c.group, c.user); err == nil {
			c.role = m.Role
		}
	}
	result := "ok"
	defer func() { r.m.command(cmd.name, result) }()
	refuse := func(why string) {
		result = "refused"
		r.reply(c, why)
	}

	switch cmd.name {
	case "mch":
		r.reply(c, r.help(c))
		return
	case "bind", "unbind", "whois", "bindings":
		text, refused := r.accountCommand(ctx, c, cmd)
		if refused {
			refuse(text)
		} else {
			r.reply(c, text)
		}
		return
	case "mcs":
		targets, why := r.targets(c, cmd, false)
		if why != "" {
			refuse(why)
			return
		}
		r.reply(c, r.status(ctx, targets))
		return
	}

	if cmd.name == "mcc" {
		// Checked exactly as it will be sent.
		cmd.args = consoleLine(cmd.args)
		if why := r.mayRunConsole(c, cmd.args); why != "" {
			refuse(why)
			return
		}
	} else if !r.isAdmin(c) {
		refuse("仅管理员可使用 " + cmd.typed)
		return
	}
	if !hasArgs(cmd) {
		// Once, before any server is asked: the same for all of them.
		refuse("用法：" + r.o.CommandPrefix + usage[cmd.name])
		return
	}
	targets, why := r.targets(c, cmd, true)
	if why != "" {
		refuse(why)
		return
	}

	lines := make([]string, len(targets))
	var wg sync.WaitGroup
	for i, s := range targets {
		wg.Go(func() { lines[i] = "[" + s.Name + "] " + r.execute(ctx, s, c, cmd) })
	}
	wg.Wait()
	r.reply(c, strings.Join(lines, "\n"))
}

// usage is each command's syntax, after COMMAND_PREFIX.
var usage = map[string]string{
	"mcc": "mcc [@服务器] <控制台命令>",
	"mcb": "mcb [@服务器] <内容>",
	"mct": "mct [@服务器] <标题>[换行<副标题>]",
	"mca": "mca [@服务器] <内容>",
	"mcp": "mcp [@服务器] <玩家> <内容>",
}

// hasArgs reports whether cmd has what it needs: some text, and for /mcp a
// player and some text.
func hasArgs(cmd command) bool {
	if cmd.name == "mcp" {
		_, msg := cutWord(cmd.args)
		return strings.TrimSpace(msg) != ""
	}
	return strings.TrimSpace(cmd.args) != ""
}

// consoleLine is a console command as it goes to the server: trimmed and
// without the leading slashes the game would accept anyway.
func consoleLine(args string) string {
	return strings.TrimLeft(strings.TrimSpace(args), "/")
}

// consoleVerb is the command a console word names, as RCON_PUBLIC and
// RCON_DENY list it: leading slashes, case and any "namespace:" prefix do
// not matter, since the server accepts every spelling ("/Minecraft:stop",
// "bukkit:stop" and "paper:stop" all stop it).
func consoleVerb(word string) string {
	word = strings.TrimLeft(strings.ToLower(word), "/")
	if i := strings.LastIndexByte(word, ':'); i >= 0 {
		word = word[i+1:]
	}
	return word
}

// consoleVerbs are the commands a console line runs: its first word and,
// when that is execute or return (the commands that run another), the word
// after every "run" in the line, so chains nested in any order are seen
// through: "execute as @a run return run stop" runs stop. Counting a "run"
// that is only an argument errs on the side of refusing.
func consoleVerbs(cmdline string) []string {
	words := strings.Fields(cmdline)
	if len(words) == 0 {
		return []string{""}
	}
	verbs := []string{consoleVerb(words[0])}
	if verbs[0] != "execute" && verbs[0] != "return" {
		return verbs
	}
	for i := 1; i < len(words)-1; i++ {
		if strings.EqualFold(words[i], "run") {
			verbs = append(verbs, consoleVerb(words[i+1]))
		}
	}
	return verbs
}

// mayRunConsole applies RCON_PUBLIC / RCON_DENY to a console line: anyone
// may run a line whose first verb is public; a denied verb anywhere in it
// (see consoleVerbs) needs QQ_ADMINS, a group role is not enough; anything
// else needs an admin. A line with a control character or line break is
// refused outright, as it could end the command early or hide a second
// one. It returns why not, or "".
func (r *Relay) mayRunConsole(c caller, cmdline string) string {
	if strings.IndexFunc(cmdline, safetext.Unsafe) >= 0 {
		return "命令含有换行或控制字符，已拒绝"
	}
	verbs := consoleVerbs(cmdline)
	for _, v := range verbs {
		if slices.Contains(r.o.RCONDeny, v) && !r.admins[c.user] {
			return "仅超级管理员可执行 " + v
		}
	}
	if !slices.Contains(r.o.RCONPublic, verbs[0]) && !r.isAdmin(c) {
		if len(r.o.RCONPublic) > 0 {
			return fmt.Sprintf("该命令仅限管理员使用（所有人可用：%s）", strings.Join(r.o.RCONPublic, ", "))
		}
		return "该命令仅限管理员使用"
	}
	return ""
}

// targets picks the servers a command addresses: "@name", else every server
// bound to the group. In private chat "@name" is needed when there are
// several servers.
func (r *Relay) targets(c caller, cmd command, needOne bool) ([]*server, string) {
	pool := r.servers
	if c.group != 0 {
		pool = r.groups[c.group]
	}
	if cmd.target != "" {
		s := r.byName[strings.ToLower(cmd.target)]
		if s == nil || !slices.Contains(pool, s) {
			return nil, fmt.Sprintf("没有名为 %s 的服务器（可用：%s）", cmd.target, serverNames(pool))
		}
		return []*server{s}, ""
	}
	if c.group == 0 && needOne && len(pool) > 1 {
		return nil, fmt.Sprintf("请用 @服务器名 指定服务器（可用：%s）", serverNames(pool))
	}
	return pool, ""
}

func serverNames(ss []*server) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// execute runs one command for c on one server and describes the outcome.
func (r *Relay) execute(ctx context.Context, s *server, c caller, cmd command) string {
	ctx, cancel := context.WithTimeout(ctx, r.o.RequestTimeout)
	defer cancel()
	text := func(t string) []minecraft.Component { return []minecraft.Component{{Text: t, Color: "white"}} }
	var err error
	switch cmd.name {
	case "mcc":
		var out string
		out, err = r.console(ctx, s, cmd.args)
		if err == nil {
			return consoleOutput(out)
		}
	case "mcb":
		if err = s.Game.Broadcast(ctx, announcement(c, cmd.args)); err == nil {
			return "已广播"
		}
	case "mct":
		title, sub, _ := strings.Cut(cmd.args, "\n")
		var subtitle []minecraft.Component
		if sub = strings.TrimSpace(sub); sub != "" {
			subtitle = text(sub)
		}
		if err = s.Game.Title(ctx, text(strings.TrimSpace(title)), subtitle); err == nil {
			return "已发送标题"
		}
	case "mca":
		if err = s.Game.ActionBar(ctx, text(cmd.args)); err == nil {
			return "已发送动作栏消息"
		}
	case "mcp":
		player, msg := cutWord(cmd.args)
		player = safetext.Clean(player) // a name to look up, never with control characters
		err = s.Game.PrivateMessage(ctx, player, text(msg))
		switch {
		case err == nil:
			return "已私聊 " + player
		case errors.Is(err, minecraft.ErrPlayerOffline):
			return "玩家 " + player + " 不在线"
		}
	}
	return describeError(err)
}

// announcement is /mcb's broadcast: a gold "[公告]" marker, so players tell
// it from chat, whose hover names who sent it from QQ, then the text.
func announcement(c caller, text string) []minecraft.Component {
	from := "由 " + format.StripColor(c.name) + "（QQ " + strconv.FormatInt(c.user, 10) + "）"
	if c.group != 0 {
		from += "在 QQ 群 " + strconv.FormatInt(c.group, 10) + " 发布"
	} else {
		from += "从 QQ 私聊发布"
	}
	return []minecraft.Component{
		{Text: "[公告] ", Color: "gold", Bold: true, Hover: []minecraft.Component{{Text: from}}},
		{Text: text, Color: "white"},
	}
}

// console runs a console command over direct RCON when configured, else
// through QueQiao's send_rcon_command.
func (r *Relay) console(ctx context.Context, s *server, cmdline string) (string, error) {
	if s.Console != nil {
		return s.Console.Execute(ctx, cmdline)
	}
	return s.Game.RunCommand(ctx, cmdline)
}

// consoleOutput cleans RCON output for QQ: colour codes stripped, output
// past maxOutput characters cut.
func consoleOutput(out string) string {
	out = strings.TrimSpace(format.StripColor(out))
	if out == "" {
		return "已执行（无输出）"
	}
	if rs := []rune(out); len(rs) > maxOutput {
		out = string(rs[:maxOutput]) + fmt.Sprintf("\n…（输出过长，已截断，共 %d 字）", len(rs))
	}
	return out
}

func describeError(err error) string {
	switch {
	case errors.Is(err, link.ErrNotConnected):
		return "未连接"
	case errors.Is(err, context.DeadlineExceeded):
		return "失败：请求超时"
	case errors.Is(err, context.Canceled):
		return "失败：桥接正在关闭" // the only time a command's context ends early
	}
	var me *minecraft.APIError
	if errors.As(err, &me) {
		return "失败：" + me.Message
	}
	return "失败：" + err.Error()
}

// status describes each server for /mcs.
func (r *Relay) status(ctx context.Context, targets []*server) string {
	lines := make([]string, len(targets))
	var wg sync.WaitGroup
	for i, s := range targets {
		wg.Go(func() { lines[i] = "[" + s.Name + "] " + r.serverStatus(ctx, s) })
	}
	wg.Wait()
	return strings.Join(lines, "\n")
}

func (r *Relay) serverStatus(ctx context.Context, s *server) string {
	ctx, cancel := context.WithTimeout(ctx, r.o.RequestTimeout)
	defer cancel()
	var parts []string
	st := s.Game.State().Get()
	if !st.Up {
		if st.Since.IsZero() {
			parts = append(parts, "未连接")
		} else {
			parts = append(parts, "未连接（自 "+st.Since.Format("01-02 15:04:05")+" 起）")
		}
	} else {
		parts = append(parts, "已连接")
		if status, err := s.Game.Status(ctx); err == nil {
			p := "在线玩家 " + strconv.Itoa(status.OnlinePlayers) + "/" + strconv.Itoa(status.MaxPlayers)
			if len(status.Players) > 0 {
				p += "：" + strings.Join(status.Players, ", ")
			}
			parts = append(parts, p)
		} else {
			parts = append(parts, "状态不可用（"+describeError(err)+"）")
		}
	}
	// Whether /mcc works, in the members' words: through direct RCON, else
	// through the plugin, which works while the server is connected.
	switch {
	case s.Console == nil && !st.Up:
	case s.Console == nil || s.Console.State().Up():
		parts = append(parts, "控制台命令可用")
	default:
		parts = append(parts, "控制台命令暂不可用")
	}
	return strings.Join(parts, " · ")
}

// help lists the commands this caller may run.
func (r *Relay) help(c caller) string {
	p := r.o.CommandPrefix
	lines := []string{"可用命令："}
	lines = append(lines, p+"mcs — 查看服务器状态", p+"mch — 显示本帮助")
	admin := r.isAdmin(c)
	switch {
	case admin:
		lines = append(lines, p+"mcc [@服务器] <命令> — 执行控制台命令（别名 "+p+"rcon）")
	case len(r.o.RCONPublic) > 0:
		lines = append(lines, p+"mcc [@服务器] <命令> — 执行控制台命令，你可用："+strings.Join(r.o.RCONPublic, ", "))
	}
	if admin {
		lines = append(lines,
			p+"mcb [@服务器] <内容> — 全服广播",
			p+"mct [@服务器] <标题>[换行<副标题>] — 发送标题（别名 "+p+"mcst）",
			p+"mca [@服务器] <内容> — 发送动作栏消息（别名 "+p+"mcsa）",
			p+"mcp [@服务器] <玩家> <内容> — 私聊玩家",
		)
	}
	lines = append(lines, r.accountHelp(admin)...)
	if c.group != 0 && len(r.groups[c.group]) > 1 {
		lines = append(lines, "本群服务器："+serverNames(r.groups[c.group])+"（不加 @ 时发给全部）")
	}
	return strings.Join(lines, "\n")
}
