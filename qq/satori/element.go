package satori

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Element is one node of a Satori message: a text node (Type "text", the
// unescaped text in Text) or an element with attributes and children.
//
// Satori content looks like XML but is not: attribute names are written
// hyphenated (sub-type) while servers build them from camelCase, vendors add
// names such as llonebot:market-face, and nothing guarantees well-formed
// input. So the parser is lenient where encoding/xml is strict: it never
// fails, and whatever it cannot read as markup stays text.
type Element struct {
	// Type is "text" for a text node, else the element's name in lower
	// case, vendor prefix included ("img", "llonebot:ark").
	Type string
	// Text is a text node's content, entities decoded.
	Text string
	// Attrs holds the attributes under hyphenated lower-case names
	// (subType and sub-type are both "sub-type"), values unescaped. A bare
	// attribute is "true"; Satori's no-name form sets name to "false".
	Attrs map[string]string
	// Children are the nodes between the opening and the closing tag.
	Children []Element
}

// Attr returns the first non-empty value among the named attributes.
func (e Element) Attr(names ...string) string {
	for _, n := range names {
		if v := e.Attrs[n]; v != "" {
			return v
		}
	}
	return ""
}

// maxDepth bounds nesting: deeper tags are dropped (their text stays), so a
// hostile message cannot make the tree, or its walk, arbitrarily deep.
const maxDepth = 32

// ParseElements reads a Satori element string. It never fails and runs in
// time linear in len(s): a "<" that does not start a tag is text, a closing
// tag without a matching opening one is dropped, and elements still open at
// the end are closed there, keeping their children. Comments are skipped.
// As in Satori's own parser a tag ends at the first ">" (servers escape ">"
// in attribute values), and a quote left open runs to the end of the tag.
func ParseElements(s string) []Element {
	p := parser{src: s}
	p.stack = []*Element{{Type: "#root"}}
	for p.pos < len(p.src) {
		lt := strings.IndexByte(p.src[p.pos:], '<')
		if lt < 0 {
			p.text(p.src[p.pos:])
			break
		}
		p.text(p.src[p.pos : p.pos+lt])
		p.pos += lt
		if !p.markup() {
			p.text("<")
			p.pos++
		}
	}
	p.flush()
	p.closeTo(1)
	return p.stack[0].Children
}

type parser struct {
	src   string
	pos   int
	stack []*Element // open elements; stack[0] is the root
	// pending is text not yet attached to the innermost open element;
	// collecting it here keeps many small pieces linear.
	pending strings.Builder
	// noTagEnd and noCommentEnd record that no ">" or "-->" follows any
	// more, so later "<" are text without searching again.
	noTagEnd, noCommentEnd bool
}

// text adds raw text with its entities decoded. Entities never contain
// "<", so decoding piece by piece gives the same result as all at once.
func (p *parser) text(raw string) { p.pending.WriteString(unescape(raw)) }

// flush attaches pending text to the innermost open element.
func (p *parser) flush() {
	if p.pending.Len() == 0 {
		return
	}
	top := p.stack[len(p.stack)-1]
	top.Children = append(top.Children, Element{Type: "text", Text: p.pending.String()})
	p.pending.Reset()
}

// closeTo closes open elements until depth elements remain, attaching each
// to its parent.
func (p *parser) closeTo(depth int) {
	for len(p.stack) > depth {
		top := p.stack[len(p.stack)-1]
		p.stack = p.stack[:len(p.stack)-1]
		parent := p.stack[len(p.stack)-1]
		parent.Children = append(parent.Children, *top)
	}
}

// markup reads the comment or tag at p.pos ("<"); false means there is none
// and the "<" is text.
func (p *parser) markup() bool {
	rest := p.src[p.pos:]
	if strings.HasPrefix(rest, "<!--") {
		if p.noCommentEnd {
			return false
		}
		end := strings.Index(rest[4:], "-->")
		if end < 0 {
			p.noCommentEnd = true
			return false
		}
		p.pos += 4 + end + 3
		return true
	}
	closing := strings.HasPrefix(rest, "</")
	i := 1
	if closing {
		i = 2
	}
	name, n := tagName(rest[i:])
	if name == "" || p.noTagEnd {
		return false
	}
	i += n
	gt := strings.IndexByte(rest[i:], '>')
	if gt < 0 {
		p.noTagEnd = true
		return false
	}
	body := rest[i : i+gt]
	p.pos += i + gt + 1
	if closing {
		p.closeTag(name)
		return true
	}
	trimmed := strings.TrimRight(body, " \t\n\r\f")
	selfClosing := strings.HasSuffix(trimmed, "/")
	if selfClosing {
		body = trimmed[:len(trimmed)-1]
	}
	if len(p.stack) > maxDepth {
		return true // too deep: the tag goes, its content stays the parent's
	}
	p.flush()
	el := &Element{Type: name, Attrs: parseAttrs(body)}
	if selfClosing {
		top := p.stack[len(p.stack)-1]
		top.Children = append(top.Children, *el)
		return true
	}
	p.stack = append(p.stack, el)
	return true
}

// closeTag closes the innermost open element named name and those opened
// inside it; with none open, the closing tag is dropped.
func (p *parser) closeTag(name string) {
	for i := len(p.stack) - 1; i > 0; i-- {
		if p.stack[i].Type == name {
			p.flush()
			p.closeTo(i)
			return
		}
	}
}

// tagName reads an element name at the start of s: a letter or "_", then
// anything up to a space, "/", ">", "<", "=" or a quote. It returns the
// name in lower case and its length in s, or "" when s does not start one.
func tagName(s string) (string, int) {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 || !(unicode.IsLetter(r) || r == '_') {
		return "", 0
	}
	i := size
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) || strings.ContainsRune(`/><="'`, r) {
			break
		}
		i += size
	}
	return strings.ToLower(s[:i]), i
}

// parseAttrs reads the attributes of a tag body (what lies between the
// name and ">" or "/>"): name="value", name='value', name=value and bare
// names. Anything else is skipped.
func parseAttrs(s string) map[string]string {
	var attrs map[string]string
	i := 0
	for {
		i = skipSpace(s, i)
		if i >= len(s) {
			return attrs
		}
		start := i
		for i < len(s) && !isSpace(s[i]) && !strings.ContainsRune(`="'`, rune(s[i])) {
			i++
		}
		name := s[start:i]
		if name == "" {
			i++ // a stray quote or "=": skip it
			continue
		}
		value, bare := "", true
		if j := skipSpace(s, i); j < len(s) && s[j] == '=' {
			bare = false
			j = skipSpace(s, j+1)
			switch {
			case j >= len(s):
				i = j
			case s[j] == '"' || s[j] == '\'':
				end := strings.IndexByte(s[j+1:], s[j])
				if end < 0 {
					end = len(s) - j - 1 // left open: runs to the end of the tag
				}
				value = unescape(s[j+1 : j+1+end])
				i = min(len(s), j+1+end+1)
			default: // unquoted, up to a space
				k := j
				for k < len(s) && !isSpace(s[k]) {
					k++
				}
				value = unescape(s[j:k])
				i = k
			}
		}
		if attrs == nil {
			attrs = map[string]string{}
		}
		key := attrName(name)
		switch {
		case !bare:
			attrs[key] = value
		case strings.HasPrefix(key, "no-") && len(key) > 3:
			attrs[key[3:]] = "false"
		default:
			attrs[key] = "true"
		}
	}
}

// attrName folds camelCase into the hyphenated lower-case form Satori writes
// (emojiPackageId → emoji-package-id, ID → id).
func attrName(name string) string {
	var b strings.Builder
	prevLower := false
	for _, r := range name {
		if unicode.IsUpper(r) {
			if prevLower {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
			prevLower = false
		} else {
			prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// unescape decodes &amp; &lt; &gt; &quot; &apos; and numeric references;
// anything else, including a reference to an invalid code point, stays as
// written.
func unescape(s string) string {
	amp := strings.IndexByte(s, '&')
	if amp < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for amp >= 0 {
		b.WriteString(s[:amp])
		s = s[amp:]
		decoded, n := entity(s)
		if n == 0 {
			b.WriteByte('&')
			s = s[1:]
		} else {
			b.WriteString(decoded)
			s = s[n:]
		}
		amp = strings.IndexByte(s, '&')
	}
	b.WriteString(s)
	return b.String()
}

// maxEntity is the longest reference decoded, "&#x10FFFF;" and "&#1114111;".
const maxEntity = 10

// entity decodes the reference at the start of s ("&…;"); n is 0 when there
// is none.
func entity(s string) (string, int) {
	semi := strings.IndexByte(s[:min(len(s), maxEntity+1)], ';')
	if semi < 0 {
		return "", 0
	}
	name := s[1:semi]
	switch name {
	case "amp":
		return "&", semi + 1
	case "lt":
		return "<", semi + 1
	case "gt":
		return ">", semi + 1
	case "quot":
		return `"`, semi + 1
	case "apos":
		return "'", semi + 1
	}
	if !strings.HasPrefix(name, "#") || len(name) < 2 {
		return "", 0
	}
	digits, base := name[1:], 10
	if digits[0] == 'x' || digits[0] == 'X' {
		digits, base = digits[1:], 16
	}
	if digits == "" || strings.ContainsAny(digits, "+-") {
		return "", 0
	}
	code, err := strconv.ParseUint(digits, base, 32)
	if err != nil || code == 0 || code > unicode.MaxRune || (code >= 0xD800 && code <= 0xDFFF) {
		return "", 0
	}
	return string(rune(code)), semi + 1
}

// EscapeText escapes text for element content: & < >.
func EscapeText(s string) string { return textEscaper.Replace(s) }

// EscapeAttr escapes an attribute value written in double quotes.
func EscapeAttr(s string) string { return attrEscaper.Replace(s) }

var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
)

// String serialises nodes back into a Satori element string: text escaped,
// attributes in sorted order, elements without children self-closing.
func String(nodes []Element) string {
	var b strings.Builder
	writeElements(&b, nodes)
	return b.String()
}

func writeElements(b *strings.Builder, nodes []Element) {
	for _, n := range nodes {
		if n.Type == "text" {
			b.WriteString(EscapeText(n.Text))
			continue
		}
		b.WriteByte('<')
		b.WriteString(n.Type)
		for _, k := range slices.Sorted(maps.Keys(n.Attrs)) {
			b.WriteByte(' ')
			b.WriteString(k)
			b.WriteString(`="`)
			b.WriteString(EscapeAttr(n.Attrs[k]))
			b.WriteByte('"')
		}
		if len(n.Children) == 0 {
			b.WriteString("/>")
			continue
		}
		b.WriteByte('>')
		writeElements(b, n.Children)
		b.WriteString("</")
		b.WriteString(n.Type)
		b.WriteByte('>')
	}
}
