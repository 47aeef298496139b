package relay

import (
	"fmt"
	"strings"
	"unicode"
)

// PlayerPatterns are the players whose chat and events are not relayed
// (MC_IGNORE_PLAYERS): names, or patterns where "*" stands for any run of
// characters, such as "bot_*" for Carpet bots. Matching ignores case. The
// zero value matches nobody. It is immutable and safe for concurrent use.
type PlayerPatterns struct {
	written  []string // as configured, for display
	patterns []string // lower case, for matching
}

// ParsePlayerPatterns checks and compiles names and patterns. A pattern must
// not be empty or contain spaces or control characters, which no player name
// has.
func ParsePlayerPatterns(list []string) (PlayerPatterns, error) {
	var p PlayerPatterns
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			return PlayerPatterns{}, fmt.Errorf("empty player name or pattern")
		}
		if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return PlayerPatterns{}, fmt.Errorf("%q: a player name or pattern has no spaces", s)
		}
		p.written = append(p.written, s)
		p.patterns = append(p.patterns, strings.ToLower(s))
	}
	return p, nil
}

// Match tells whether player is one of the names or matches a pattern.
func (p PlayerPatterns) Match(player string) bool {
	if len(p.patterns) == 0 || player == "" {
		return false
	}
	name := strings.ToLower(player)
	for _, pat := range p.patterns {
		if globMatch(pat, name) {
			return true
		}
	}
	return false
}

// String lists the patterns, comma-separated.
func (p PlayerPatterns) String() string { return strings.Join(p.written, ",") }

// globMatch matches name against pattern, where "*" matches any run of
// characters (none included) and everything else itself. On a mismatch it
// resumes after the last star, trying one more character for it, which is
// enough for patterns whose only wildcard is "*".
func globMatch(pattern, name string) bool {
	p, n := 0, 0
	star, resume := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, resume = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			resume++
			p, n = star+1, resume
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
