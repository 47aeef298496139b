package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestUnsafe(t *testing.T) {
	unsafe := []rune{0, '\a', '\b', '\t', '\n', '\v', '\f', '\r', 0x1b, 0x1f, 0x7f, 0x80, 0x85, 0x9f,
		0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x2028, 0x2029}
	for _, r := range unsafe {
		if !Unsafe(r) {
			t.Errorf("%U is not unsafe", r)
		}
	}
	safe := []rune{' ', 'a', '~', 0xa0, 0xa7 /* § */, 0x200b, 0x200e, 0x2027, 0x2065, 0x206a, 0x202f, 0x4e2d /* 中 */, 0xff01, 0x1f600, utf8.RuneError}
	for _, r := range safe {
		if Unsafe(r) {
			t.Errorf("%U is unsafe", r)
		}
	}
}

func TestClean(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"plain 中文 §a text", "plain 中文 §a text"},
		{"line\nbreak", "line\nbreak"},
		{"crlf\r\nand cr\rend\r", "crlf\nand cr\nend\n"},
		{"nul\x00bel\aesc\x1b[31mred", "nulbelesc[31mred"},
		{"tab\there", "tabhere"},
		{"del\x7fc1\u0085\u009b", "delc1"},
		{"evil\u202etxt.exe", "eviltxt.exe"},
		{"iso\u2066late\u2069d", "isolated"},
		{"sep\u2028ara\u2029tors", "separators"},
		{"\x00\x1b\u202e", ""},
	}
	for _, c := range cases {
		if got := Clean(c.in); got != c.want {
			t.Errorf("Clean(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

func FuzzClean(f *testing.F) {
	f.Add("a\x1b\r\n\u202eb\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		got := Clean(s)
		if strings.IndexFunc(got, func(r rune) bool { return r != '\n' && Unsafe(r) }) >= 0 {
			t.Errorf("Clean(%q) = %q keeps an unsafe character", s, got)
		}
		if Clean(got) != got {
			t.Errorf("Clean is not idempotent on %q", s)
		}
		if strings.Count(got, "\n") > strings.Count(s, "\n")+strings.Count(s, "\r") {
			t.Errorf("Clean(%q) = %q made line breaks up", s, got)
		}
	})
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"404 page not found\n":                "404 page not found",
		"<html>\r\n  <body>Not\tFound</body>": "<html> <body>Not Found</body>",
		"a\u2028b\x00c  d":                    "a b c d",
		"":                                    "",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q; want %q", in, got, want)
		}
	}
}
