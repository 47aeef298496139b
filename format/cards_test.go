package format

import (
	"encoding/json"
	"os"
	"testing"
)

// TestJSONCardSamples decodes every sample of json_card_samples.json (the
// card shapes seen in the wild) and checks the title, hover and link a player
// gets.
func TestJSONCardSamples(t *testing.T) {
	raw, err := os.ReadFile("testdata/json_card_samples.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Samples []struct {
			Kind string `json:"kind"`
			Data string `json:"data"`
		} `json:"samples"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ text, hover, click string }{
		"miniapp (e.g. Bilibili share)": {"[卡片:哔哩哔哩]", "【我的世界】红石音乐盒教程\n点击打开链接",
			"https://b23.tv/Nwdv3jB?share_medium=android&share_source=qq"},
		"structmsg news (link share)": {"[卡片:Minecraft 1.21 更新日志]", "试炼密室、旋风人与重锤\n点击打开链接",
			"https://www.minecraft.net/zh-hans/article/minecraft-1-21"},
		"structmsg music": {"[卡片:Sweden]", "C418\n点击打开链接", "https://y.music.163.com/m/song?id=1234567"},
		"multimsg (forwarded chat history delivered as ark)": {"[卡片:聊天记录]", "Alice: 今晚维护\nBob: 收到\n查看2条转发消息", ""},
		"contact / group recommendation card":                {"[卡片:推荐群聊: MC服务器交流群]", "推荐群聊\n点击打开链接", "https://qm.qq.com/q/abcdef"},
	}
	if len(file.Samples) != len(want) {
		t.Fatalf("%d samples in the fixture, %d expectations", len(file.Samples), len(want))
	}
	for _, s := range file.Samples {
		t.Run(s.Kind, func(t *testing.T) {
			w, ok := want[s.Kind]
			if !ok {
				t.Fatalf("no expectation for sample %q", s.Kind)
			}
			c := jsonCard(s.Data)
			if c.Text != w.text || hoverString(c) != w.hover || c.ClickURL != w.click {
				t.Errorf("got %q / hover %q / click %q\nwant %q / hover %q / click %q",
					c.Text, hoverString(c), c.ClickURL, w.text, w.hover, w.click)
			}
		})
	}
}

func TestJSONCardFallbacks(t *testing.T) {
	tests := []struct{ name, payload, want string }{
		{"prompt wins", `{"prompt":"标题","meta":{"news":{"title":"新闻"}}}`, "[卡片:标题]"},
		{"mini-app content title without prompt", `{"meta":{"detail_1":{"title":"哔哩哔哩","desc":"视频"}}}`, "[卡片:视频]"},
		{"news title", `{"meta":{"news":{"title":"新闻"}}}`, "[卡片:新闻]"},
		{"music title and artist", `{"meta":{"music":{"title":"Sweden","desc":"C418"}}}`, "[卡片:Sweden - C418]"},
		{"forwarded chat source", `{"meta":{"detail":{"source":"群聊的聊天记录"}}}`, "[卡片:群聊的聊天记录]"},
		{"contact", `{"meta":{"contact":{"nickname":"MC群"}}}`, "[卡片:MC群]"},
		{"top-level desc", `{"desc":"描述"}`, "[卡片:描述]"},
		{"numbers where text was expected", `{"prompt":12345}`, "[卡片:12345]"},
		{"tag only keeps its name", `{"prompt":"[聊天记录]"}`, "[卡片:聊天记录]"},
		{"§ codes and new lines removed", `{"prompt":"§a标\n题"}`, "[卡片:标 题]"},
		{"nothing named", `{"meta":{}}`, "[卡片消息]"},
		{"not an object", `[1,2]`, "[卡片]"},
		{"empty", ``, "[卡片]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jsonCard(tt.payload).Text; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestXMLCard(t *testing.T) {
	tests := []struct{ name, payload, want, click string }{
		{"brief", `<msg brief="[分享]公告" url="http://a.b/c"><item><title>T</title></item></msg>`, "[卡片:公告]", "http://a.b/c"},
		{"title when no brief", `<msg><item><title>服务器公告</title></item></msg>`, "[卡片:服务器公告]", ""},
		{"nothing named", `<msg/>`, "[卡片消息]", ""},
		{"link that is not http", `<msg brief="x" url="javascript:alert(1)"/>`, "[卡片:x]", ""},
		{"malformed", `<msg><title>x</msg>`, "[卡片]", ""},
		{"not XML", `hello`, "[卡片]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := xmlCard(tt.payload)
			if c.Text != tt.want || c.ClickURL != tt.click {
				t.Errorf("got %q click %q, want %q click %q", c.Text, c.ClickURL, tt.want, tt.click)
			}
		})
	}
}
