package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/relay"
)

// The types of the configuration's values. Each reads its variable's text
// once, when the configuration is loaded, and says in plain words what it
// wants when the text is wrong.

// noneWord, in any case, turns off a setting that is on by default: an
// empty list, no listener. (An empty value means the default.)
const noneWord = "none"

// List is a comma-separated list; "none" means the empty list. The
// full-width comma "，" and the enumeration comma "、" of a Chinese input
// method separate items too.
type List []string

// UnmarshalText implements encoding.TextUnmarshaler for env.
func (l *List) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	*l = List{}
	if strings.EqualFold(s, noneWord) {
		return nil
	}
	for _, p := range strings.FieldsFunc(s, isListSeparator) {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// Roles is QQ_ADMIN_ROLES: the group roles (owner, admin, member; any case)
// whose members may use the admin commands; none means no role.
type Roles []string

// UnmarshalText implements encoding.TextUnmarshaler for env.
func (r *Roles) UnmarshalText(b []byte) error {
	var names List
	_ = names.UnmarshalText(b)
	roles := Roles{}
	for _, name := range names {
		name = strings.ToLower(name)
		if name != "owner" && name != "admin" && name != "member" {
			return fmt.Errorf("%q: want owner, admin, member or none", name)
		}
		roles = append(roles, name)
	}
	*r = roles
	return nil
}

// String lists the roles as QQ_ADMIN_ROLES spells them.
func (r Roles) String() string { return strings.Join(r, ",") }

// IDList is a comma-separated list of QQ numbers; "none" means empty.
type IDList []int64

// UnmarshalText implements encoding.TextUnmarshaler for env.
func (l *IDList) UnmarshalText(b []byte) error {
	var parts List
	_ = parts.UnmarshalText(b)
	*l = IDList{}
	for _, p := range parts {
		n, err := strconv.ParseInt(strings.Map(halfWidthDigit, p), 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a QQ number (want digits, such as 123456789)", p)
		}
		*l = append(*l, n)
	}
	return nil
}

// halfWidthDigit turns the full-width digits of a Chinese input method
// (０-９) into ASCII ones.
func halfWidthDigit(r rune) rune {
	if r >= '０' && r <= '９' {
		return '0' + (r - '０')
	}
	return r
}

// ByteSize is a size in bytes, written as a plain number or with a unit:
// 16MiB, 512KiB, 1GiB (KB, MB and GB are read as the same powers of 1024).
type ByteSize int64

// UnmarshalText implements encoding.TextUnmarshaler for env.
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	}
	mult, ok := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}[unit]
	n, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || n <= 0 {
		return fmt.Errorf("%q: want a size such as 16MiB or 512KiB", s)
	}
	*b = ByteSize(n * mult)
	return nil
}

func (b ByteSize) String() string {
	switch {
	case b >= 1<<20 && b%(1<<20) == 0:
		return strconv.FormatInt(int64(b)>>20, 10) + "MiB"
	case b >= 1<<10 && b%(1<<10) == 0:
		return strconv.FormatInt(int64(b)>>10, 10) + "KiB"
	}
	return strconv.FormatInt(int64(b), 10)
}

// Players is MC_IGNORE_PLAYERS: comma-separated player names or "*"
// patterns, checked and compiled once; "none" means nobody.
type Players struct{ relay.PlayerPatterns }

// UnmarshalText implements encoding.TextUnmarshaler for env.
func (p *Players) UnmarshalText(b []byte) error {
	var names List
	_ = names.UnmarshalText(b)
	patterns, err := relay.ParsePlayerPatterns(names)
	if err != nil {
		return err
	}
	*p = Players{patterns}
	return nil
}

// Protocol is QQ_PROTOCOL: what the QQ bot speaks. The zero value is
// onebot, the default.
type Protocol int

const (
	ProtocolOneBot Protocol = iota // OneBot 11: NapCat, LLBot
	ProtocolMilky                  // Milky: LLBot
	ProtocolSatori                 // Satori: LLBot, Koishi
	// protocolUnread is left by a value that could not be read, so that
	// no protocol's own checks run on it.
	protocolUnread Protocol = -1
)

var protocolNames = [...]string{ProtocolOneBot: "onebot", ProtocolMilky: "milky", ProtocolSatori: "satori"}

// String is the protocol as QQ_PROTOCOL spells it.
func (p Protocol) String() string {
	if p < ProtocolOneBot || p > ProtocolSatori {
		return ""
	}
	return protocolNames[p]
}

// UnmarshalText implements encoding.TextUnmarshaler for env; any case.
func (p *Protocol) UnmarshalText(b []byte) error {
	s := strings.ToLower(strings.TrimSpace(string(b)))
	for q := ProtocolOneBot; q <= ProtocolSatori; q++ {
		if q.String() == s {
			*p = q
			return nil
		}
	}
	*p = protocolUnread
	if q, ok := botProtocols[s]; ok {
		return fmt.Errorf("%q: want onebot, milky or satori (%s speaks %s: did you mean QQ_PROTOCOL=%s?)", s, s, q, q)
	}
	return fmt.Errorf("%q: want onebot, milky or satori", s)
}

// botProtocols are the protocols of the bots and frameworks that are often
// named instead (LLBot and Lagrange speak milky too; onebot is their usual
// one).
var botProtocols = map[string]Protocol{
	"napcat": ProtocolOneBot, "llbot": ProtocolOneBot, "llonebot": ProtocolOneBot, "lagrange": ProtocolOneBot,
	"koishi": ProtocolSatori, "chronocat": ProtocolSatori,
}

// EventKinds is SYNC_MC_TO_QQ: the game events relayed to QQ, by the names
// minecraft.EventKind has (any case); none means no event.
type EventKinds []minecraft.EventKind

// UnmarshalText implements encoding.TextUnmarshaler for env.
func (k *EventKinds) UnmarshalText(b []byte) error {
	var names List
	_ = names.UnmarshalText(b)
	kinds := EventKinds{}
	for _, name := range names {
		name = strings.ToLower(name)
		kind, ok := minecraft.ParseEventKind(name)
		if !ok {
			return fmt.Errorf("%q: want some of chat, join, quit, death, advancement, command, or none", name)
		}
		kinds = append(kinds, kind)
	}
	*k = kinds
	return nil
}

// String lists the kinds as SYNC_MC_TO_QQ spells them.
func (k EventKinds) String() string {
	names := make([]string, len(k))
	for i, kind := range k {
		names[i] = kind.String()
	}
	return strings.Join(names, ",")
}

// GameVersion is MC_<n>_GAME_VERSION: the game version, such as 1.21.4, that
// decides how text components are spelt for the server. The zero value is
// auto: the version is learned from the server.
type GameVersion string

// UnmarshalText implements encoding.TextUnmarshaler for env; auto in any
// case.
func (v *GameVersion) UnmarshalText(b []byte) error {
	s := string(b)
	if strings.EqualFold(s, "auto") {
		*v = ""
		return nil
	}
	if _, ok := minecraft.StyleFor(s); !ok {
		return fmt.Errorf("%q: want auto or a game version such as 1.21.4", s)
	}
	*v = GameVersion(s)
	return nil
}

// String is the version, or auto.
func (v GameVersion) String() string {
	if v == "" {
		return "auto"
	}
	return string(v)
}

// LogFormat is LOG_FORMAT. The zero value is auto: text on a terminal,
// JSON otherwise.
type LogFormat int

const (
	LogAuto LogFormat = iota
	LogText
	LogJSON
)

var logFormatNames = [...]string{LogAuto: "auto", LogText: "text", LogJSON: "json"}

// String is the format as LOG_FORMAT spells it.
func (f LogFormat) String() string {
	if f < LogAuto || f > LogJSON {
		return ""
	}
	return logFormatNames[f]
}

// UnmarshalText implements encoding.TextUnmarshaler for env; any case.
func (f *LogFormat) UnmarshalText(b []byte) error {
	s := strings.ToLower(strings.TrimSpace(string(b)))
	for g := LogAuto; g <= LogJSON; g++ {
		if g.String() == s {
			*f = g
			return nil
		}
	}
	return fmt.Errorf("%q: want auto, text or json", s)
}

// LogLevel is LOG_LEVEL, the least severe level logged. The zero value is
// info.
type LogLevel slog.Level

// UnmarshalText implements encoding.TextUnmarshaler for env; any case.
func (l *LogLevel) UnmarshalText(b []byte) error {
	s := strings.ToLower(strings.TrimSpace(string(b)))
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(s)); err != nil {
		return fmt.Errorf("%q: want debug, info, warn or error", s)
	}
	*l = LogLevel(lv)
	return nil
}

// String is the level as LOG_LEVEL spells it.
func (l LogLevel) String() string { return strings.ToLower(slog.Level(l).String()) }

// OptionalAddr is HTTP_LISTEN: the host:port to listen on, or none. The
// zero value is none.
type OptionalAddr string

// UnmarshalText implements encoding.TextUnmarshaler for env; none in any
// case. The address is checked with the other listeners (validate).
func (a *OptionalAddr) UnmarshalText(b []byte) error {
	s := string(b)
	if strings.EqualFold(s, noneWord) {
		s = ""
	}
	*a = OptionalAddr(s)
	return nil
}

// None reports whether there is no address: nothing to listen on.
func (a OptionalAddr) None() bool { return a == "" }

// String is the address, or none.
func (a OptionalAddr) String() string {
	if a.None() {
		return noneWord
	}
	return string(a)
}
