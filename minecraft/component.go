package minecraft

import (
	"regexp"
	"strconv"
	"strings"
)

// Component is a Minecraft JSON text component, reduced to what the bridge
// uses. Its JSON spelling depends on the game version, so it is encoded with
// Marshal, never with json.Marshal directly.
type Component struct {
	Text          string
	Color         string // named colour or #RRGGBB; "" inherits
	Bold          bool
	Italic        bool
	Underlined    bool
	Strikethrough bool
	Hover         []Component // show_text tooltip
	ClickURL      string      // open_url
	ClickSuggest  string      // suggest_command
	Extra         []Component
}

// Style is the text-component spelling a server understands.
type Style int

const (
	// StyleLegacy is clickEvent/hoverEvent with value/contents, up to 1.21.4.
	StyleLegacy Style = iota
	// StyleModern is click_event/hover_event with url/value, from 1.21.5.
	StyleModern
)

func (s Style) String() string {
	if s == StyleModern {
		return "modern"
	}
	return "legacy"
}

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)(?:\.(\d+))?`)

// StyleFor picks the spelling for a reported game version: "1.21.5",
// "1.21.1", "26.1" (year-based versions from 2026), or a Bukkit string such as
// "4226-Spigot-… (MC: 1.21.5)". ok is false when the version says nothing
// about the game (e.g. "unknown" or a Velocity proxy version).
func StyleFor(version string) (style Style, ok bool) {
	if i := strings.LastIndex(version, "MC: "); i >= 0 {
		version = version[i+len("MC: "):]
	}
	m := versionRE.FindStringSubmatch(version)
	if m == nil {
		return StyleLegacy, false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	patch, _ := strconv.Atoi(m[3]) // "" → 0
	switch {
	case major == 1 && (minor > 21 || (minor == 21 && patch >= 5)):
		return StyleModern, true
	case major == 1:
		return StyleLegacy, true
	case major >= 25: // year-based game versions (26.1, …) are all newer than 1.21.5
		return StyleModern, true
	}
	return StyleLegacy, false
}

// PlainText flattens components to their text, without hovers.
func PlainText(cs []Component) string {
	var b []byte
	var walk func([]Component)
	walk = func(cs []Component) {
		for _, c := range cs {
			b = append(b, c.Text...)
			walk(c.Extra)
		}
	}
	walk(cs)
	return string(b)
}
