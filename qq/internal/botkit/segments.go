package botkit

import (
	"strings"
	"unicode/utf8"
)

// IsStickerImage tells an animated sticker or market face that arrives as an
// image from a picture. subType is the image's sub type in OneBot's
// spelling: "" or "0" for a picture, anything else a sticker. summary is
// the text QQ shows for it: a picture carries none or the plain "[图片]"
// (Milky implementations put that on every picture), while a summary that
// names something ("[动画表情]", "[狗头]") marks a sticker even without a
// sub type (NapCat sends market faces as images that way).
func IsStickerImage(subType, summary string) bool {
	if sub := strings.TrimSpace(subType); sub != "" && sub != "0" {
		return true
	}
	summary = strings.TrimSpace(summary)
	return summary != "" && summary != "[图片]"
}

// LooksLikeFileName accepts "modpack-1.20.1.zip" but not a path, a URL or
// an implementation's opaque file token, which OneBot bots put in the same
// "file" field that other builds fill with the file's name.
func LooksLikeFileName(s string) bool {
	s = strings.TrimSpace(s)
	dot := strings.LastIndexByte(s, '.')
	if dot <= 0 || dot == len(s)-1 || len(s)-dot > 11 || utf8.RuneCountInString(s) > 120 {
		return false
	}
	return !strings.ContainsAny(s, `/\:`)
}
