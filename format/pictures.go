package format

import (
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/mcqq/bridge/qq"
)

// MaxPicturesPerLine is how many pictures one game chat line may send to QQ;
// further codes and links stay text, so a line cannot make the bot fetch and
// post dozens of images.
const MaxPicturesPerLine = 3

// pictureRE finds, leftmost first, a ChatImage code "[[CICode,…]]" or an
// http(s) link. A link runs over printable ASCII, so it ends at a space or at
// full-width punctuation ("看 https://x/a.png。").
var pictureRE = regexp.MustCompile(`\[\[CICode,(.*?)\]\]|(?i:https?)://[!-~]+`)

// pictureExtensions are the file types a bare link must end with (before any
// query string) to be sent as a picture.
var pictureExtensions = []string{".png", ".jpg", ".jpeg", ".gif", ".webp"}

// ChatSegments splits a game chat line for QQ into text and pictures: each
// ChatImage code "[[CICode,url=…,name=…]]" and each bare http(s) link to a
// .png/.jpg/.jpeg/.gif/.webp picture (query string allowed) becomes an image
// segment whose URL is the link; the rest of the line stays text
// around them, in order. At most MaxPicturesPerLine pictures are made. Only
// absolute http(s) URLs to a public host qualify: a javascript: or file:
// link, or one to localhost or a private address (which the bot would fetch
// from inside its own network), stays text. A line without pictures is one
// text segment.
func ChatSegments(line string) []qq.Segment {
	var segs []qq.Segment
	text := strings.Builder{}
	flush := func() {
		if text.Len() > 0 {
			segs = append(segs, qq.Text(text.String()))
			text.Reset()
		}
	}
	pictures := 0
	rest := 0
	for _, m := range pictureRE.FindAllStringSubmatchIndex(line, -1) {
		start, end := m[0], m[1]
		text.WriteString(line[rest:start])
		rest = end
		match := line[start:end]
		var link, tail string
		if m[2] >= 0 { // a ChatImage code: any picture URL, extension or not
			link = ciCodeURL(line[m[2]:m[3]])
		} else {
			link, tail = trimLinkPunctuation(match)
			if !hasPictureExtension(link) {
				link = ""
			}
		}
		if link = publicPictureURL(link); pictures == MaxPicturesPerLine || link == "" {
			text.WriteString(match)
			continue
		}
		flush()
		segs = append(segs, qq.Segment{Type: qq.SegImage, URL: link})
		pictures++
		text.WriteString(tail)
	}
	text.WriteString(line[rest:])
	flush()
	if len(segs) == 0 {
		return []qq.Segment{qq.Text(line)}
	}
	return segs
}

// HasPicture tells whether segs holds an image.
func HasPicture(segs []qq.Segment) bool {
	for _, s := range segs {
		if s.Type == qq.SegImage {
			return true
		}
	}
	return false
}

// ciCodeURL returns the url field of a ChatImage code's body
// ("url=https://…,name=图片,nsfw=false"). Fields are split at a comma that
// starts another "key=" so a comma inside the URL stays part of it.
func ciCodeURL(body string) string {
	var fields []string
	for _, part := range strings.Split(body, ",") {
		if key, _, ok := strings.Cut(part, "="); ok && isFieldName(key) || len(fields) == 0 {
			fields = append(fields, part)
			continue
		}
		fields[len(fields)-1] += "," + part
	}
	for _, f := range fields {
		if key, value, ok := strings.Cut(f, "="); ok && strings.EqualFold(strings.TrimSpace(key), "url") {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

func isFieldName(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for _, c := range s {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// trimLinkPunctuation separates sentence punctuation typed right after a
// link ("see https://x/a.png." or "(https://x/a.png)") from the link.
func trimLinkPunctuation(s string) (link, tail string) {
	end := len(s)
	for end > 0 && strings.IndexByte(`.,;:!?'")]}>`, s[end-1]) >= 0 {
		end--
	}
	return s[:end], s[end:]
}

func hasPictureExtension(link string) bool {
	u, err := url.Parse(link)
	if err != nil {
		return false
	}
	path := strings.ToLower(u.Path)
	for _, ext := range pictureExtensions {
		if strings.HasSuffix(path, ext) {
			return true
		}
	}
	return false
}

// publicPictureURL returns link (escaped where needed) when it is an
// absolute http(s) URL whose host is a name or a public address, else "".
// Loopback, private, link-local and unspecified addresses and "localhost"
// are refused: the QQ bot downloads the picture, and a player must not make
// it request services on its own network.
func publicPictureURL(link string) string {
	link = httpURL(link)
	if link == "" {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "" || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return ""
	}
	ip := net.ParseIP(host)
	if ip == nil && endsInNumber(host) {
		// The bot's URL parser (WHATWG, as in Node) reads such a host as an
		// IPv4 address in another spelling: 127.1, 2130706433, 0x7f000001,
		// 017700000001 are all 127.0.0.1. Only the canonical dotted quad is
		// checked and let through.
		return ""
	}
	if ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() ||
		(ip.To4() != nil && ip.To4()[0] == 0)) { // 0.0.0.0/8 reaches this host on Linux
		return ""
	}
	return link
}

// endsInNumber reports whether a host's last label is a number (decimal or
// 0x hexadecimal), which makes a WHATWG URL parser read the whole host as an
// IPv4 address.
func endsInNumber(host string) bool {
	labels := strings.Split(host, ".")
	if len(labels) > 1 && labels[len(labels)-1] == "" {
		labels = labels[:len(labels)-1]
	}
	last := labels[len(labels)-1]
	if hex, ok := strings.CutPrefix(last, "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return last != "" && strings.Trim(last, "0123456789") == ""
}
