package botkit

import "testing"

func TestIsStickerImage(t *testing.T) {
	for _, tc := range []struct {
		subType, summary string
		sticker          bool
	}{
		{"", "", false},
		{"0", "", false},
		{" 0 ", "[图片]", false},
		{"", "[图片]", false},
		{"1", "", true},
		{"7", "[图片]", true},
		{"", "[动画表情]", true},
		{"0", "[狗头]", true},
	} {
		if got := IsStickerImage(tc.subType, tc.summary); got != tc.sticker {
			t.Errorf("IsStickerImage(%q, %q) = %v", tc.subType, tc.summary, got)
		}
	}
}

func TestLooksLikeFileName(t *testing.T) {
	for name, want := range map[string]bool{
		"modpack-1.20.1.zip": true, " world.zip ": true, "a.tar.gz": true,
		"NapCatOneBotUUID-token": false, ".hidden": false, "trailing.": false,
		"https://x/a.zip": false, "C:\\a.zip": false, "dir/a.zip": false, "a.verylongextension": false,
	} {
		if got := LooksLikeFileName(name); got != want {
			t.Errorf("LooksLikeFileName(%q) = %v", name, got)
		}
	}
}
