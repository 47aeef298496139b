package botkit

import "testing"

func TestUnescapeURL(t *testing.T) {
	const nt = "https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=EhTQ8b&spec=0&rkey=CAQSKAB6"
	for in, want := range map[string]string{
		"https://multimedia.nt.qq.com.cn/download?appid=1407&amp;fileid=EhTQ8b&amp;spec=0&amp;rkey=CAQSKAB6": nt,
		"https://multimedia.nt.qq.com.cn/download?appid=1407&amp;amp;fileid=EhTQ8b&spec=0&rkey=CAQSKAB6":     nt,
		nt:                                   nt,
		"https://e.x/a&#44;b&#91;1&#93;.png": "https://e.x/a,b[1].png",
		"a &amp; b":                          "a &amp; b", // not a link: text is not touched
		"file:///tmp/a&amp;b.png":            "file:///tmp/a&amp;b.png",
	} {
		if got := UnescapeURL(in); got != want {
			t.Errorf("UnescapeURL(%q) = %q, want %q", in, got, want)
		}
	}
}
