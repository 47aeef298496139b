package format

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/mcqq/bridge/internal/safetext"
)

// StripColor removes Minecraft formatting codes from game text bound for QQ:
// every "§x" pair, and "&x" only where x is a colour or format code
// ([0-9a-fk-orA-FK-OR]) so that ordinary ampersands ("Tom & Jerry") survive.
// A lone trailing "§" is dropped too.
func StripColor(s string) string {
	if !strings.ContainsAny(s, "§&") {
		return s
	}
	return stripCodes(s, true)
}

// stripSection removes "§x" pairs from QQ text bound for the game, where the
// client would otherwise apply them as formatting. "&" means nothing inside a
// text component, so it is left alone.
func stripSection(s string) string {
	if !strings.Contains(s, "§") {
		return s
	}
	return stripCodes(s, false)
}

// stripCodes drops every "§" with the character after it and, with
// ampersand, every "&" followed by a format code. Invalid bytes become
// U+FFFD rather than being copied, so that two stray bytes left either side
// of a removed code cannot join into a new "§".
func stripCodes(s string, ampersand bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '§':
			// Skip the code character, whatever it is.
			if i < len(s) {
				_, next := utf8.DecodeRuneInString(s[i:])
				i += next
			}
		case ampersand && r == '&' && i < len(s) && isFormatCode(s[i]):
			i++
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isFormatCode reports whether c is a Minecraft colour or format code
// character: 0-9, a-f (colours), k-o (obfuscated, bold, …), r (reset).
func isFormatCode(c byte) bool {
	switch {
	case c >= '0' && c <= '9':
		return true
	case c >= 'A' && c <= 'Z':
		c += 'a' - 'A'
	}
	return (c >= 'a' && c <= 'f') || (c >= 'k' && c <= 'o') || c == 'r'
}

// gameText prepares QQ text for a text component: control characters
// removed, QQ's "\r" line breaks turned into "\n" (which the game shows as
// new lines), and "§" codes removed.
func gameText(s string) string {
	return stripSection(safetext.Clean(s))
}

var (
	markdownLink    = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	markdownHeading = regexp.MustCompile(`(?m)^[ \t]*#{1,6}[ \t]+`)
	markdownFence   = regexp.MustCompile("(?m)^[ \t]*```.*$\n?")
	markdownEmph    = strings.NewReplacer("**", "", "__", "", "~~", "", "`", "")
)

// stripMarkdown reduces a markdown segment to the text a reader sees: links
// and images become their text, heading marks, code fences, backticks and
// bold/underline/strike markers go. Single "*" and "_" stay, since in chat
// they are more often literal than emphasis.
func stripMarkdown(s string) string {
	s = markdownFence.ReplaceAllString(s, "")
	s = markdownLink.ReplaceAllString(s, "$1")
	s = markdownHeading.ReplaceAllString(s, "")
	return strings.TrimSpace(markdownEmph.Replace(s))
}
