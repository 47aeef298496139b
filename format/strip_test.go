package format

import "testing"

func TestStripColor(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Tom & Jerry", "Tom & Jerry"},
		{"&aGreen §lBold", "Green Bold"},
		{"§x§f§f§0§0§0§0hex", "hex"},
		{"&Z and &z stay", "&Z and &z stay"},
		{"&R&K upper case codes", " upper case codes"},
		{"trailing §", "trailing "},
		{"trailing &", "trailing &"},
		{"§中文", "文"},
		{"no codes", "no codes"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := StripColor(tt.in); got != tt.want {
			t.Errorf("StripColor(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStripMarkdown(t *testing.T) {
	tests := []struct{ in, want string }{
		{"**公告**: 服务器已重启", "公告: 服务器已重启"},
		{"## 标题\n正文", "标题\n正文"},
		{"见[官网](https://minecraft.net)和![图](a.png)", "见官网和图"},
		{"```go\nfmt.Println()\n```\n`x`", "fmt.Println()\nx"},
		{"__下划线__ ~~删除~~", "下划线 删除"},
		{"2 * 3 = 6, snake_case", "2 * 3 = 6, snake_case"},
		{"#hashtag stays", "#hashtag stays"},
	}
	for _, tt := range tests {
		if got := stripMarkdown(tt.in); got != tt.want {
			t.Errorf("stripMarkdown(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStripSection(t *testing.T) {
	tests := []struct{ in, want string }{
		{"§aGreen &aStays", "Green &aStays"},
		{"trailing §", "trailing "},
		{"§中文", "文"},
		{"\xc2§a\xa7", "\ufffd\ufffd"}, // stray bytes do not join into a "§"
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := stripSection(tt.in); got != tt.want {
			t.Errorf("stripSection(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
