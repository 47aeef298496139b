package format

import (
	"strconv"
	"strings"

	"github.com/mcqq/bridge/minecraft"
)

// maxTranslationDepth bounds how deep nested arguments are rendered; real
// messages nest two or three levels, and a hostile payload must not recurse
// without end.
const maxTranslationDepth = 8

// zhPattern returns the zh_cn pattern of a translation key the bridge knows:
// death messages, entity names, advancement titles and the few chat keys
// that wrap them.
func zhPattern(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	if p, ok := deathMessages[key]; ok {
		return p, true
	}
	if p, ok := entityNames[key]; ok {
		return p, true
	}
	if p, ok := chatPatterns[key]; ok {
		return p, true
	}
	return advancementTitleByKey(key)
}

// chatPatterns are generic chat keys that appear around the translated parts,
// e.g. an item name in a death message is wrapped in chat.square_brackets.
var chatPatterns = map[string]string{
	"chat.square_brackets": "[%s]",
}

// zhText renders a translatable text in Chinese as far as the tables reach: a
// known key is formatted with its (recursively rendered) arguments; anything
// else — player names, custom names, unknown keys — keeps the server's text.
func zhText(t minecraft.Translation) string {
	return zhTextDepth(t, 0)
}

func zhTextDepth(t minecraft.Translation, depth int) string {
	if depth < maxTranslationDepth {
		if pattern, ok := zhPattern(t.Key); ok {
			if s, ok := formatTranslation(pattern, zhArgs(t.Args, depth+1)); ok {
				return s
			}
		}
	}
	return t.Text
}

func zhArgs(args []minecraft.Translation, depth int) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = zhTextDepth(a, depth)
	}
	return out
}

// formatTranslation fills a Minecraft language-file pattern the way the game
// does: "%s" takes the next argument, "%2$s" a given one, "%%" is a percent
// sign. ok is false when the pattern asks for an argument that is missing,
// so the caller can fall back to the server's own rendering.
func formatTranslation(pattern string, args []string) (string, bool) {
	if !strings.Contains(pattern, "%") {
		return pattern, true
	}
	var b strings.Builder
	b.Grow(len(pattern) + 16*len(args))
	next := 0
	for {
		i := strings.IndexByte(pattern, '%')
		if i < 0 {
			b.WriteString(pattern)
			return b.String(), true
		}
		b.WriteString(pattern[:i])
		spec := pattern[i+1:]
		if strings.HasPrefix(spec, "%") {
			b.WriteByte('%')
			pattern = spec[1:]
			continue
		}
		index, width, ok := argSpec(spec)
		if !ok {
			// Not a specifier the game knows: the '%' is literal text.
			b.WriteByte('%')
			pattern = spec
			continue
		}
		if index < 0 {
			index = next
			next++
		}
		if index >= len(args) {
			return "", false
		}
		b.WriteString(args[index])
		pattern = spec[width:]
	}
}

// argSpec parses what follows a '%': "s" (index -1: the next argument) or
// "<n>$s" (index n-1). width is how many bytes the specifier spans.
func argSpec(spec string) (index, width int, ok bool) {
	if strings.HasPrefix(spec, "s") {
		return -1, 1, true
	}
	digits := 0
	for digits < len(spec) && spec[digits] >= '0' && spec[digits] <= '9' {
		digits++
	}
	if digits == 0 || !strings.HasPrefix(spec[digits:], "$s") {
		return 0, 0, false
	}
	n, err := strconv.Atoi(spec[:digits])
	if err != nil || n < 1 {
		return 0, 0, false
	}
	return n - 1, digits + 2, true
}
