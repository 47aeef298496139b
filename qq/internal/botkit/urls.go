package botkit

import "strings"

// urlEntities are the HTML/CQ entities some bots leave in a media link:
// NapCat and LLBot builds have put the CQ-escaped form ("&amp;") into the
// url of array segments too, and a QQ NT multimedia link then opens a 403
// page, its query split at "&amp;".
var urlEntities = strings.NewReplacer("&amp;", "&", "&#44;", ",", "&#91;", "[", "&#93;", "]")

// UnescapeURL decodes the entities left in an http(s) link; anything else is
// returned as it is. A link is unescaped until no entity is left, so a
// twice-escaped "&amp;amp;" is decoded too; no real link contains one.
func UnescapeURL(s string) string {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return s
	}
	for range 4 {
		u := urlEntities.Replace(s)
		if u == s {
			break
		}
		s = u
	}
	return s
}
