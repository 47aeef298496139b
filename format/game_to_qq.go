package format

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mcqq/bridge/internal/safetext"
	"github.com/mcqq/bridge/minecraft"
)

// Templates are the FORMAT_* lines a game event becomes in QQ. Placeholders:
// {server}, {player}, {message}, {text}, {title}, {command}, and {qq}: the
// card or nickname of the QQ member bound to the player. One that does not
// apply to an event (e.g. {title} in a chat line, {qq} for an unbound
// player) is empty. The relay adds the "[server] " prefix itself, per group.
type Templates struct {
	Chat        string // FORMAT_CHAT
	Join        string // FORMAT_JOIN
	Quit        string // FORMAT_QUIT
	Death       string // FORMAT_DEATH
	Advancement string // FORMAT_ADVANCEMENT
	Command     string // FORMAT_COMMAND
}

// DefaultTemplates are the FORMAT_* defaults the README documents.
func DefaultTemplates() Templates {
	return Templates{
		Chat:        "{player}：{message}",
		Join:        "{player} 加入了游戏",
		Quit:        "{player} 离开了游戏",
		Death:       "{text}",
		Advancement: "{player} 达成了进度 [{title}]",
		Command:     "{player} 执行了命令 /{command}",
	}
}

// placeholderNames are the placeholders a template may use.
var placeholderNames = []string{"server", "player", "message", "text", "title", "command", "qq"}

// Validate reports every unknown placeholder: one *UnknownPlaceholders per
// template that has any, joined, e.g. `FORMAT_CHAT: unknown placeholder
// {nope} (known: …)`.
func (t Templates) Validate() error {
	var errs []error
	for _, u := range t.UnknownPlaceholders() {
		errs = append(errs, u)
	}
	return errors.Join(errs...)
}

// UnknownPlaceholders lists, per template variable, the placeholders it
// uses that are not known, each once, in order; nil when there are none.
func (t Templates) UnknownPlaceholders() []*UnknownPlaceholders {
	var out []*UnknownPlaceholders
	for _, f := range t.byVariable() {
		var names []string
		forEachPlaceholder(f.template, func(string) {}, func(name string) {
			if !slices.Contains(placeholderNames, name) && !slices.Contains(names, name) {
				names = append(names, name)
			}
		})
		if names != nil {
			out = append(out, &UnknownPlaceholders{Variable: f.variable, Names: names})
		}
	}
	return out
}

// UnknownPlaceholders is one template variable's unknown placeholders.
type UnknownPlaceholders struct {
	Variable string   // FORMAT_CHAT
	Names    []string // without braces
}

// Problem says what is wrong, without the variable's name.
func (u *UnknownPlaceholders) Problem() string {
	what := "unknown placeholder"
	if len(u.Names) > 1 {
		what += "s"
	}
	return fmt.Sprintf("%s {%s} (known: {%s})", what, strings.Join(u.Names, "}, {"), strings.Join(placeholderNames, "}, {"))
}

func (u *UnknownPlaceholders) Error() string { return u.Variable + ": " + u.Problem() }

// Uses reports whether any template has the placeholder {name}, so that a
// value costly to find (a look-up) is only found when shown.
func (t Templates) Uses(name string) bool {
	used := false
	for _, f := range t.byVariable() {
		forEachPlaceholder(f.template, func(string) {}, func(n string) { used = used || n == name })
	}
	return used
}

func (t Templates) byVariable() []struct{ variable, template string } {
	return []struct{ variable, template string }{
		{"FORMAT_CHAT", t.Chat},
		{"FORMAT_JOIN", t.Join},
		{"FORMAT_QUIT", t.Quit},
		{"FORMAT_DEATH", t.Death},
		{"FORMAT_ADVANCEMENT", t.Advancement},
		{"FORMAT_COMMAND", t.Command},
	}
}

// GameToQQ renders a game event as its QQ line. ok is false when the event is
// not relayed: a hidden advancement (recipe unlocks), an unknown kind, or a
// template that leaves nothing to say. Colour codes are stripped from the
// player, message, text and title. qqName fills {qq}: the card or nickname
// of the member bound to the event's player, "" when none is.
func GameToQQ(ev minecraft.Event, t Templates, qqName string) (line string, ok bool) {
	v := placeholderValues{server: ev.Server, player: StripColor(ev.Player), qq: truncateRunes(oneLine(StripColor(qqName)), maxNameRunes)}
	var template string
	switch ev.Kind {
	case minecraft.Chat:
		template, v.message = t.Chat, StripColor(ev.Message)
	case minecraft.Command:
		template, v.command = t.Command, ev.Message
	case minecraft.Join:
		template = t.Join
	case minecraft.Quit:
		template = t.Quit
	case minecraft.Death:
		template, v.text = t.Death, StripColor(DeathText(ev.Death, ev.Player))
	case minecraft.Advancement:
		if ev.Advancement.Hidden {
			return "", false
		}
		template, v.title = t.Advancement, StripColor(AdvancementTitle(ev.Advancement))
		if strings.TrimSpace(v.title) == "" {
			return "", false // nothing names it: "达成了进度 []" would say nothing
		}
	default:
		return "", false
	}
	// Game text is the player's to write: no control character passes.
	line = safetext.Clean(v.expand(template))
	if strings.TrimSpace(line) == "" {
		return "", false
	}
	return line, true
}

type placeholderValues struct {
	server, player, message, text, title, command, qq string
}

func (v placeholderValues) lookup(name string) (string, bool) {
	switch name {
	case "server":
		return v.server, true
	case "player":
		return v.player, true
	case "message":
		return v.message, true
	case "text":
		return v.text, true
	case "title":
		return v.title, true
	case "command":
		return v.command, true
	case "qq":
		return v.qq, true
	}
	return "", false
}

// expand fills the template in one pass, so a value that happens to contain
// "{player}" is not expanded again. An unknown placeholder stays as written
// (Validate reports it at start-up).
func (v placeholderValues) expand(template string) string {
	var b strings.Builder
	b.Grow(len(template) + len(v.player) + len(v.message) + len(v.text) + len(v.title) + len(v.command) + len(v.qq))
	forEachPlaceholder(template, func(literal string) { b.WriteString(literal) }, func(name string) {
		if value, ok := v.lookup(name); ok {
			b.WriteString(value)
		} else {
			b.WriteString("{" + name + "}")
		}
	})
	return b.String()
}

// forEachPlaceholder splits a template into literal text and placeholders. A
// placeholder is "{" + letters, digits or "_" + "}"; any other brace is text.
func forEachPlaceholder(template string, literal, placeholder func(string)) {
	for template != "" {
		open := strings.IndexByte(template, '{')
		if open < 0 {
			literal(template)
			return
		}
		name, ok := placeholderAt(template[open:])
		if !ok {
			literal(template[:open+1])
			template = template[open+1:]
			continue
		}
		if open > 0 {
			literal(template[:open])
		}
		placeholder(name)
		template = template[open+len(name)+2:]
	}
}

// placeholderAt reads "{name}" at the start of s.
func placeholderAt(s string) (name string, ok bool) {
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '}':
			return s[1:i], i > 1
		case c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		default:
			return "", false
		}
	}
	return "", false
}
