package main

import (
	"encoding"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// This file turns configuration mistakes into lines a server owner can act
// on: one line per variable, the value's problem in plain words, and a typo
// in a variable's name pointed out where it matters.

// varError is what is wrong with one variable.
type varError struct {
	Name string
	Msg  string
	// Missing: the variable must be set and is not, so a similar name that
	// is set is probably a typo of it.
	Missing bool
}

func (e *varError) Error() string { return e.Name + ": " + e.Msg }

// isListSeparator separates list items: "," and, as a Chinese input method
// types them, "，" and "、".
func isListSeparator(r rune) bool { return r == ',' || r == '，' || r == '、' }

// valueProblem says why value could not be read, without the Go parser's
// wording.
func valueProblem(pe env.ParseError, value string) string {
	switch {
	case pe.Type != nil && reflect.PointerTo(pe.Type).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()):
		// Our own types (choices, sizes, lists of QQ numbers, rates) explain
		// themselves, whatever kind of Go value they are.
		return pe.Err.Error()
	case pe.Type == reflect.TypeFor[time.Duration]():
		return fmt.Sprintf("%q: want a duration such as 10m, 30s or 1h30m", value)
	case pe.Type != nil && pe.Type.Kind() == reflect.Bool:
		return fmt.Sprintf("%q: want true or false", value)
	case pe.Type != nil && pe.Type.Kind() >= reflect.Int && pe.Type.Kind() <= reflect.Int64:
		return fmt.Sprintf("%q: want a whole number", value)
	}
	return pe.Err.Error()
}

// onePerVariable keeps the first error of each variable: a value that could
// not be read is not also reported as missing or out of range.
func onePerVariable(errs []error) []error {
	seen := map[string]bool{}
	out := errs[:0:0]
	for _, err := range errs {
		if ve, ok := errors.AsType[*varError](err); ok {
			if seen[ve.Name] {
				continue
			}
			seen[ve.Name] = true
		}
		out = append(out, err)
	}
	return out
}

// explainTypos ties each variable the bridge does not know to what it most
// likely meant. When that is a variable reported missing, the suggestion goes
// on the missing variable's line; otherwise it becomes a warning of its own.
func explainTypos(errs []error, environ map[string]string) ([]error, []string) {
	unknown := unknownVars(environ)
	explained := map[string]bool{}
	for _, err := range errs {
		ve, ok := errors.AsType[*varError](err)
		if !ok || !ve.Missing {
			continue
		}
		for _, u := range unknown {
			if !explained[u] && closeTo(u, ve.Name) {
				ve.Msg += fmt.Sprintf(" — %s is set: did you mean %s?", u, ve.Name)
				explained[u] = true
				break
			}
		}
	}
	var warnings []string
	for _, u := range unknown {
		if explained[u] {
			continue
		}
		w := u + " is not a setting this bridge knows"
		if s := suggestion(u); s != "" {
			w += " — did you mean " + s + "?"
		} else {
			w += " (typo?)"
		}
		warnings = append(warnings, w)
	}
	return errs, warnings
}

// unknownVars lists the variables that look meant for the bridge but are not
// among its settings: every QQ_/MC_ name it does not read (almost always a
// typo such as MC_0_RCON_ADR), and other names one letter away from a
// setting (COMMAND_PREFX). Sorted.
func unknownVars(environ map[string]string) []string {
	var out []string
	for k := range environ {
		upper := strings.ToUpper(k)
		if isSetting(k) {
			continue
		}
		ours := strings.HasPrefix(upper, "QQ_") || strings.HasPrefix(upper, "MC_")
		if !ours {
			s := suggestion(k)
			if s == "" || editDistance(upper, s) > 1 || len(k) < 8 {
				continue // someone else's variable
			}
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// suggestion is the known variable closest to name, or "" when none is close.
func suggestion(name string) string {
	top, server := knownVars()
	candidates := make([]string, 0, len(top)+len(server))
	for k := range top {
		candidates = append(candidates, k)
	}
	// A server variable is suggested with the index typed (as a plain
	// number: MC_01_NAME means MC_1_NAME), else MC_0_.
	index := "0"
	if m := serverIndexRE.FindStringSubmatch(strings.ToUpper(name)); m != nil {
		if i, err := strconv.Atoi(m[1]); err == nil {
			index = strconv.Itoa(i)
		}
	}
	for k := range server {
		candidates = append(candidates, "MC_"+index+"_"+k)
	}
	sort.Strings(candidates) // the same answer every time for ties
	best, bestDist := "", 0
	for _, c := range candidates {
		if !closeTo(name, c) {
			continue
		}
		if d := editDistance(strings.ToUpper(name), c); best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// serverIndexRE finds the server index in a mistyped server variable
// (MC_1_GROUP, MC1_NAME).
var serverIndexRE = regexp.MustCompile(`^MC_?(\d+)_?`)

// closeTo reports whether typed is probably a typo of want: a different case
// (Windows keeps what was typed), or at most one edit for short names and
// two for long ones.
func closeTo(typed, want string) bool {
	if typed == want {
		return false
	}
	limit := 1
	if len(want) >= 8 {
		limit = 2
	}
	return editDistance(strings.ToUpper(typed), want) <= limit
}

// editDistance is the Levenshtein distance between a and b, in bytes (the
// names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// quotedValues warns about settings whose value is wrapped in quotes. A
// dotenv file drops them, but docker run --env-file and a compose
// "environment:" list keep them as part of the value, so QQ_URL="ws://…"
// is then not a URL and a quoted token never matches. The value itself is
// not shown: it may be a secret.
func quotedValues(environ map[string]string) []string {
	var out []string
	for k, v := range environ {
		if !isSetting(k) || len(v) < 2 {
			continue
		}
		if q := v[0]; (q == '"' || q == '\'') && v[len(v)-1] == q {
			out = append(out, fmt.Sprintf("%s is wrapped in quotes, which are kept as part of the value (docker --env-file does not remove them): write %s=value without quotes", k, k))
		}
	}
	sort.Strings(out)
	return out
}

// trimValues removes the spaces around the values of the bridge's settings
// and warns about each: docker --env-file keeps them, and an address or URL
// with a trailing space would pass for one and fail at the first dial. A
// value the dotenv file wrote in quotes (keep) is left as it is: its spaces
// are meant (QQ_SYNC_PREFIX='mc '). A copy is changed, not environ. The
// value is not shown: it may be a secret.
func trimValues(environ map[string]string, keep map[string]bool) (map[string]string, []string) {
	trimmed := maps.Clone(environ)
	var out []string
	for k, v := range environ {
		if keep[k] || !isSetting(k) {
			continue
		}
		if t := strings.TrimSpace(v); t != v {
			trimmed[k] = t
			out = append(out, fmt.Sprintf("%s has spaces before or after its value, which docker --env-file keeps; they were removed: write %s=value with nothing around the value", k, k))
		}
	}
	sort.Strings(out)
	return trimmed, out
}

// hashInside warns about settings whose unquoted value in the dotenv file
// holds " #": docker --env-file keeps what follows as part of the value, and
// so does the bridge, so a comment after a token makes it a wrong token. The
// value is not shown: it may be a secret.
func hashInside(source envSource) []string {
	var out []string
	for k, inside := range source.hashInside {
		if inside && isSetting(k) {
			out = append(out, fmt.Sprintf("%s in %s holds \" #\", which is kept as part of the value (as docker --env-file keeps it): put a comment on a line of its own, or the value in quotes", k, source.name))
		}
	}
	sort.Strings(out)
	return out
}
