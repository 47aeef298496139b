package format

import (
	"unicode/utf8"

	"github.com/mcqq/bridge/minecraft"
)

// ellipsis marks text that Fit shortened.
const ellipsis = "…"

// Fit shortens components until their encoding in the given style is at most
// maxBytes long (RCON tellraw commands are capped at 1000 bytes). It caps the
// length of every text, hovers included, at the largest limit that fits, so
// the longest texts lose the most and short labels ("[图片]", the sender) are
// kept; cut text ends in "…" and is never split inside a character. If that
// is not enough, hovers and clicks go, then trailing components. The input is
// not modified; the result is nil when nothing fits.
func Fit(cs []minecraft.Component, style minecraft.Style, maxBytes int) []minecraft.Component {
	fits := func(x []minecraft.Component) bool {
		b, err := minecraft.Marshal(x, style)
		return err == nil && len(b) <= maxBytes
	}
	if fits(cs) {
		return cloneComponents(cs)
	}
	for _, tree := range [][]minecraft.Component{cs, withoutEvents(cs)} {
		if out, ok := capToFit(tree, fits); ok {
			return out
		}
	}
	out := capTexts(withoutEvents(cs), len(ellipsis))
	for len(out) > 0 && !fits(out) {
		out = dropLast(out)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// capToFit binary-searches the largest text length cap under which the tree
// fits; ok is false when even the smallest cap does not.
func capToFit(cs []minecraft.Component, fits func([]minecraft.Component) bool) ([]minecraft.Component, bool) {
	lo, hi := len(ellipsis), longestText(cs)
	if !fits(capTexts(cs, lo)) {
		return nil, false
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(capTexts(cs, mid)) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return capTexts(cs, lo), true
}

// capTexts copies the tree with every text longer than limit bytes cut to at
// most limit bytes, "…" included.
func capTexts(cs []minecraft.Component, limit int) []minecraft.Component {
	out := cloneComponents(cs)
	var walk func([]minecraft.Component)
	walk = func(cs []minecraft.Component) {
		for i := range cs {
			if text := cs[i].Text; len(text) > limit {
				keep := max(limit-len(ellipsis), 0)
				for keep > 0 && !utf8.RuneStart(text[keep]) {
					keep--
				}
				cs[i].Text = text[:keep] + ellipsis
			}
			walk(cs[i].Hover)
			walk(cs[i].Extra)
		}
	}
	walk(out)
	return out
}

func cloneComponents(cs []minecraft.Component) []minecraft.Component {
	if cs == nil {
		return nil
	}
	out := make([]minecraft.Component, len(cs))
	for i, c := range cs {
		c.Hover = cloneComponents(c.Hover)
		c.Extra = cloneComponents(c.Extra)
		out[i] = c
	}
	return out
}

// longestText is the byte length of the longest text in the tree.
func longestText(cs []minecraft.Component) int {
	n := 0
	for _, c := range cs {
		n = max(n, len(c.Text), longestText(c.Hover), longestText(c.Extra))
	}
	return n
}

// dropLast removes the last leaf of the tree: the last child of the last
// component, recursively, or the last component itself when it has none.
func dropLast(cs []minecraft.Component) []minecraft.Component {
	last := &cs[len(cs)-1]
	if len(last.Extra) > 0 {
		last.Extra = dropLast(last.Extra)
		return cs
	}
	return cs[:len(cs)-1]
}
