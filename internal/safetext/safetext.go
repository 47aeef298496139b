// Package safetext is the one definition of the characters no text may
// carry across the bridge, either way: C0 controls (NUL, BEL, ESC, …; only
// the line break is kept in text), DEL, C1 controls, the bidirectional
// overrides and isolates U+202A–U+202E and U+2066–U+2069, and the line and
// paragraph separators U+2028 and U+2029. They can hide or reorder what a
// reader sees, garble a terminal or log, or end a console command early.
// Text is cleaned (Clean); a console command containing any of them,
// the line break included, is refused (Unsafe). What a peer sent is quoted
// in errors and logs as an Excerpt, on one line when it may hold line
// breaks (OneLine).
package safetext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Unsafe reports whether r is one of the characters above, the line break
// included.
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// Clean returns s with its line breaks ("\r\n", "\r", "\n") as "\n" and
// every other Unsafe character removed.
func Clean(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r != '\n' && Unsafe(r) }) < 0 {
		return s // the common case: nothing to do, nothing allocated
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == '\r':
			if i+1 >= len(s) || s[i+1] != '\n' {
				b.WriteByte('\n')
			}
		case r == '\n' || !Unsafe(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// OneLine returns s as one line, for an error, a log value or a table cell
// quoting what a peer sent (an HTTP body, a frame): every run of white
// space and Unsafe characters, line breaks included, becomes one space, and
// the ends are trimmed.
func OneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || Unsafe(r) }), " ")
}

// Excerpt is the start of b, at most limit bytes, for log lines and errors:
// cut on a rune boundary, with invalid UTF-8 replaced and "…" when cut.
func Excerpt(b []byte, limit int) string {
	if len(b) <= limit {
		return strings.ToValidUTF8(string(b), "?")
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return strings.ToValidUTF8(string(b[:cut]), "?") + "…"
}
