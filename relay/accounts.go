package relay

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mcqq/bridge/internal/safetext"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/store"
)

// Accounts keeps the QQ ↔ player bindings (BIND), the whitelist changes
// waiting for their server and the in-game verifications under way. Each
// write is one transaction: of two members binding one name at once exactly
// one wins. *store.Accounts implements it.
type Accounts interface {
	Bind(ctx context.Context, req store.BindRequest) ([]store.WhitelistChange, error)
	Unbind(ctx context.Context, b store.Binding, whitelist []string, at time.Time) ([]store.WhitelistChange, error)
	Binding(ctx context.Context, player string) (store.Binding, error)
	BindingsOf(ctx context.Context, qq int64) ([]store.Binding, error)
	Latest(ctx context.Context, limit int) (total int, latest []store.Binding, err error)

	PendingWhitelist(ctx context.Context, server string) ([]store.WhitelistChange, error)
	WhitelistApplied(ctx context.Context, id int64) error
	WhitelistServers(ctx context.Context) ([]string, error)

	StartVerification(ctx context.Context, v store.Verification) error
	Verification(ctx context.Context, code string, now time.Time) (store.Verification, error)
	ExpireVerifications(ctx context.Context, now time.Time) (int, error)
}

var _ Accounts = (*store.Accounts)(nil)

// BindOptions are the account rules (BIND_*).
type BindOptions struct {
	Max         int            // names one QQ number may bind; 0 = no limit
	NamePattern *regexp.Regexp // what a player name must match; nil = DefaultNamePattern
	// Verify: /bind answers a code the player must say in game chat
	// within VerifyWindow.
	Verify bool
	// UnbindOnLeave: a member who leaves a bound group, and is in no other,
	// loses their bindings.
	UnbindOnLeave bool
}

// DefaultNamePattern is what a Java Edition player name looks like.
const DefaultNamePattern = `^[A-Za-z0-9_]{3,16}$`

var defaultNameRE = regexp.MustCompile(DefaultNamePattern)

// maxNameBytes bounds a player name whatever the pattern allows.
const maxNameBytes = 64

// accountAliases are the account commands' names, English and Chinese.
var accountAliases = map[string]string{
	"bind": "bind", "绑定": "bind",
	"unbind": "unbind", "解绑": "unbind",
	"whois": "whois", "查询": "whois",
	"bindings": "bindings",
}

// maxListed is how many bindings /bindings shows.
const maxListed = 20

// mentionsAfterText lists the QQ numbers @-mentioned after the first text
// (the command word), so that "@bot /unbind @Bob" names Bob, not the bot.
func mentionsAfterText(segs []qq.Segment) []int64 {
	var out []int64
	started := false
	for _, s := range segs {
		switch {
		case s.Type == qq.SegText && strings.TrimSpace(s.Text) != "":
			started = true
		case s.Type == qq.SegAt && started:
			if id, err := strconv.ParseInt(s.Target, 10, 64); err == nil && id > 0 {
				out = append(out, id)
			}
		}
	}
	return out
}

// accountHelp lists the account commands for /mch.
func (r *Relay) accountHelp(admin bool) []string {
	if r.o.Accounts == nil {
		return nil
	}
	p := r.o.CommandPrefix
	lines := []string{p + "bind <玩家名> — 绑定你的游戏名（别名 " + p + "绑定）"}
	if admin {
		lines = append(lines, p+"unbind [玩家名或@成员] — 解绑（别名 "+p+"解绑）")
	} else {
		lines = append(lines, p+"unbind [玩家名] — 解绑你的游戏名（别名 "+p+"解绑）")
	}
	lines = append(lines, p+"whois <玩家名或@成员> — 查询绑定（别名 "+p+"查询）")
	if admin {
		lines = append(lines, p+"bindings — 查看绑定总数和最近的绑定")
	}
	return lines
}

// accountCommand runs /bind, /unbind, /whois or /bindings and returns the
// reply; refused tells a refusal from an answer.
func (r *Relay) accountCommand(ctx context.Context, c caller, cmd command) (reply string, refused bool) {
	var err error
	switch cmd.name {
	case "bind":
		reply, refused, err = r.bindCommand(ctx, c, cmd)
	case "unbind":
		reply, refused, err = r.unbindCommand(ctx, c, cmd)
	case "whois":
		reply, refused, err = r.whoisCommand(ctx, c, cmd)
	case "bindings":
		if !r.isAdmin(c) {
			return "仅管理员可使用 " + cmd.typed, true
		}
		reply, err = r.bindingsCommand(ctx)
	}
	if err != nil {
		r.log.Error("account command failed", "command", cmd.typed, "user", c.user, "err", err.Error())
		return "暂时无法完成，请稍后再试（桥接的数据库出错，已记录）", true
	}
	return reply, refused
}

// checkName says what is wrong with a player name, or "".
func (r *Relay) checkName(name string) string {
	shown := safetext.Clean(name)
	if utf8.RuneCountInString(shown) > 32 {
		shown = string([]rune(shown)[:32]) + "…"
	}
	pattern := r.o.Bind.NamePattern
	// Whatever the pattern allows, a name is one word that cannot be read
	// as a target selector ("@a" would whitelist everyone online).
	if len(name) > maxNameBytes || strings.HasPrefix(name, "@") ||
		strings.IndexFunc(name, func(c rune) bool { return unicode.IsSpace(c) || safetext.Unsafe(c) }) >= 0 ||
		!pattern.MatchString(name) {
		if pattern.String() == DefaultNamePattern {
			return "玩家名“" + shown + "”不合要求：应为 3–16 位英文字母、数字或下划线"
		}
		return "玩家名“" + shown + "”不合本服的命名要求，请输入游戏里的名字"
	}
	return ""
}

// bindCommand is /bind <player>.
func (r *Relay) bindCommand(ctx context.Context, c caller, cmd command) (string, bool, error) {
	name, extra := cutWord(cmd.args)
	if name == "" || strings.TrimSpace(extra) != "" {
		return "用法：" + r.o.CommandPrefix + "bind <玩家名>", true, nil
	}
	if c.group == 0 {
		return "请在绑定了服务器的 QQ 群里使用 " + cmd.typed, true, nil
	}
	if why := r.checkName(name); why != "" {
		return why, true, nil
	}
	if r.o.Bind.Verify {
		return r.startVerification(ctx, c, name)
	}
	now := r.now()
	changes, err := r.o.Accounts.Bind(ctx, store.BindRequest{
		Binding:   store.Binding{QQ: c.user, Player: name, Group: c.group, BoundAt: now},
		Max:       r.o.Bind.Max,
		Whitelist: r.whitelistServers(c.group),
	})
	r.bound.changed()
	if why, refused := bindRefusal(err, c.user, r.o.CommandPrefix); refused {
		return why, true, nil
	}
	if err != nil {
		return "", false, err
	}
	r.log.Info("bound", "user", c.user, "player", name, "group", c.group)
	return joinLines("已绑定 "+name, r.applyWhitelist(ctx, changes)), false, nil
}

// bindRefusal explains a refused binding in the members' words; user is
// the member binding.
func bindRefusal(err error, user int64, prefix string) (string, bool) {
	var taken *store.TakenError
	var limit *store.LimitError
	switch {
	case errors.As(err, &taken) && taken.Binding.QQ == user:
		return "你已绑定 " + taken.Binding.Player, true
	case errors.As(err, &taken):
		return taken.Binding.Player + " 已被其他成员绑定；如有疑问请联系管理员", true
	case errors.As(err, &limit):
		return fmt.Sprintf("你已绑定 %s，每人最多绑定 %d 个名字；换名字请先用 %sunbind 解绑",
			strings.Join(playerNames(limit.Bound), "、"), limit.Max, prefix), true
	}
	return "", false
}

func playerNames(list []store.Binding) []string {
	out := make([]string, len(list))
	for i, b := range list {
		out[i] = b.Player
	}
	return out
}

func joinLines(first string, rest []string) string {
	return strings.Join(append([]string{first}, rest...), "\n")
}

// unbindCommand is /unbind, /unbind <player> and (admins) /unbind @member.
func (r *Relay) unbindCommand(ctx context.Context, c caller, cmd command) (string, bool, error) {
	name, _ := cutWord(cmd.args)
	var targets []store.Binding
	switch {
	case len(cmd.mentions) > 0:
		for _, who := range cmd.mentions {
			if who != c.user && !r.isAdmin(c) {
				return "只有管理员可以解绑别人的名字", true, nil
			}
			list, err := r.o.Accounts.BindingsOf(ctx, who)
			if err != nil {
				return "", false, err
			}
			targets = append(targets, list...)
		}
		if len(targets) == 0 {
			return "该成员还没有绑定玩家名", true, nil
		}
	case name != "":
		b, err := r.o.Accounts.Binding(ctx, name)
		if errors.Is(err, store.ErrNotBound) {
			return name + " 没有被绑定", true, nil
		}
		if err != nil {
			return "", false, err
		}
		if b.QQ != c.user && !r.isAdmin(c) {
			return "只有管理员可以解绑别人的名字", true, nil
		}
		targets = []store.Binding{b}
	default:
		list, err := r.o.Accounts.BindingsOf(ctx, c.user)
		if err != nil {
			return "", false, err
		}
		switch len(list) {
		case 0:
			return "你还没有绑定玩家名", true, nil
		case 1:
			targets = list
		default:
			return fmt.Sprintf("你绑定了多个名字（%s），请指明：%sunbind <玩家名>",
				strings.Join(playerNames(list), "、"), r.o.CommandPrefix), true, nil
		}
	}
	var lines []string
	for _, b := range targets {
		line, err := r.unbind(ctx, b, "by", c.user)
		if err != nil {
			return "", false, err
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"), false, nil
}

// unbind removes b, queues "whitelist remove" on the servers its
// "whitelist add" went to and on the whitelist servers of its group now,
// applies them, and describes the outcome. A binding someone else removed
// meanwhile is reported as gone.
func (r *Relay) unbind(ctx context.Context, b store.Binding, logArgs ...any) (string, error) {
	changes, err := r.o.Accounts.Unbind(ctx, b, r.whitelistServers(b.Group), r.now())
	r.bound.changed()
	if errors.Is(err, store.ErrNotBound) {
		return b.Player + " 已不再绑定", nil
	}
	if err != nil {
		return "", err
	}
	r.log.Info("unbound", append([]any{"user", b.QQ, "player", b.Player}, logArgs...)...)
	return joinLines("已解绑 "+b.Player, r.applyWhitelist(ctx, changes)), nil
}

// whoisCommand is /whois <player>, /whois @member and /whois (oneself).
func (r *Relay) whoisCommand(ctx context.Context, c caller, cmd command) (string, bool, error) {
	name, _ := cutWord(cmd.args)
	if name != "" && len(cmd.mentions) == 0 {
		b, err := r.o.Accounts.Binding(ctx, name)
		if errors.Is(err, store.ErrNotBound) {
			return name + " 还没有被绑定", false, nil
		}
		if err != nil {
			return "", false, err
		}
		return fmt.Sprintf("%s 由 %s绑定，绑定于 %s", b.Player, r.describeMember(ctx, c.group, b), formatTime(b.BoundAt)), false, nil
	}
	who := c.user
	if len(cmd.mentions) > 0 {
		who = cmd.mentions[0]
	}
	list, err := r.o.Accounts.BindingsOf(ctx, who)
	if err != nil {
		return "", false, err
	}
	label := r.describeMember(ctx, c.group, store.Binding{QQ: who, Group: c.group})
	if len(list) == 0 {
		return label + "还没有绑定玩家名", false, nil
	}
	parts := make([]string, len(list))
	for i, b := range list {
		parts[i] = b.Player + "（" + formatTime(b.BoundAt) + " 起）"
	}
	return label + "绑定了 " + strings.Join(parts, "、"), false, nil
}

// bindingsCommand is /bindings: how many, and the latest ones.
func (r *Relay) bindingsCommand(ctx context.Context) (string, error) {
	total, latest, err := r.o.Accounts.Latest(ctx, maxListed)
	if err != nil {
		return "", err
	}
	if total == 0 {
		return "还没有任何绑定", nil
	}
	lines := []string{fmt.Sprintf("共 %d 个绑定", total)}
	if total > len(latest) {
		lines[0] += fmt.Sprintf("，最近的 %d 个：", len(latest))
	} else {
		lines[0] += "："
	}
	for _, b := range latest {
		lines = append(lines, fmt.Sprintf("%s — QQ %d，%s", b.Player, b.QQ, formatTime(b.BoundAt)))
	}
	return strings.Join(lines, "\n"), nil
}

// describeMember is "名字（QQ 123）": the member's card or nickname in
// group (else in the group they bound in), or "QQ 123 " when the look-up
// fails, its trailing space keeping the number apart from the words that
// follow it in a reply.
func (r *Relay) describeMember(ctx context.Context, group int64, b store.Binding) string {
	ctx, cancel := context.WithTimeout(ctx, r.o.RequestTimeout)
	defer cancel()
	number := strconv.FormatInt(b.QQ, 10)
	for _, g := range []int64{group, b.Group} {
		if g == 0 {
			continue
		}
		if name := r.memberName(ctx, g, b.QQ); name != "" {
			return name + "（QQ " + number + "）"
		}
	}
	return "QQ " + number + " "
}

func formatTime(t time.Time) string { return t.Local().Format("2006-01-02 15:04") }

// whitelistServers are the servers of group that keep their whitelist in
// step with the bindings.
func (r *Relay) whitelistServers(group int64) []string {
	var out []string
	for _, s := range r.groups[group] {
		if s.wl != nil {
			out = append(out, s.Name)
		}
	}
	return out
}
