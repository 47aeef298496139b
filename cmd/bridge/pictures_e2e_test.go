package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	milkystandin "github.com/mcqq/bridge/internal/standin/milky"
	satoristandin "github.com/mcqq/bridge/internal/standin/satori"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

// checkGolden compares got with testdata/<name>.golden, or rewrites the file
// with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		must(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/bridge -run %s -update)", err, t.Name())
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the output; diff it with -update and review:\n%s", path, got)
	}
}

// gamePictureChat is what players type: ChatImage codes and picture links,
// alone and with text around them, and links that must stay text.
var gamePictureChat = []string{
	"[[CICode,url=https://i.example.com/cat.png,name=Image]]",
	"看 https://i.example.com/a/b.png 好看吗",
	"before [[CICode,url=https://i.example.com/x,name=截图]] middle https://cdn.example.org/p.jpeg?w=200&h=100 after",
	"[[CICode,url=javascript:alert(1),name=x]] and file:///etc/passwd.png",
}

// TestGamePicturesReachQQAsPictures sends each chat line through the bridge
// and records the message exactly as each QQ bot stand-in received it on the
// wire: OneBot image segments with the URL as file, Milky image segments
// with it as uri, Satori <img src> elements, text around them in order.
func TestGamePicturesReachQQAsPictures(t *testing.T) {
	var b strings.Builder
	t.Run("onebot", func(t *testing.T) {
		w := startWorld(t, []serverSpec{{name: "survival", groups: fmt.Sprint(groupA)}}, nil)
		fmt.Fprintf(&b, "## onebot (send_group_msg message)\n")
		for i, line := range gamePictureChat {
			w.mc["survival"].Chat("Steve", line)
			w.waitFor("message "+fmt.Sprint(i+1), func() bool { return len(w.bot.Sent()) > i })
			fmt.Fprintf(&b, "%s\n  %s\n", line, compactJSON(t, w.bot.Sent()[i].Raw))
		}
	})
	t.Run("milky", func(t *testing.T) {
		bot := started(t, milkystandin.New(milkystandin.Options{}))
		w := startWithBot(t, map[string]string{"QQ_PROTOCOL": "milky", "QQ_URL": bot.URL()})
		fmt.Fprintf(&b, "## milky (send_group_message body)\n")
		for i, line := range gamePictureChat {
			w.mc["survival"].Chat("Steve", line)
			w.waitFor("message "+fmt.Sprint(i+1), func() bool { return len(bot.Sent()) > i })
			fmt.Fprintf(&b, "%s\n  %s\n", line, compactJSON(t, bot.Sent()[i].Raw))
		}
	})
	t.Run("satori", func(t *testing.T) {
		bot := started(t, satoristandin.New(satoristandin.Options{}))
		w := startWithBot(t, map[string]string{"QQ_PROTOCOL": "satori", "QQ_URL": bot.URL()})
		fmt.Fprintf(&b, "## satori (message.create content)\n")
		for i, line := range gamePictureChat {
			w.mc["survival"].Chat("Steve", line)
			w.waitFor("message "+fmt.Sprint(i+1), func() bool { return len(bot.Sent()) > i })
			fmt.Fprintf(&b, "%s\n  %s\n", line, bot.Sent()[i].Content)
		}
	})
	if !t.Failed() {
		checkGolden(t, "game_pictures", b.String())
	}
}

// With MC_IMAGE_TO_QQ=false a ChatImage code is sent as the text it is.
func TestGamePicturesCanBeTurnedOff(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: fmt.Sprint(groupA)}},
		map[string]string{"MC_IMAGE_TO_QQ": "false"})
	w.mc["survival"].Chat("Steve", gamePictureChat[0])
	w.waitFor("the chat line", func() bool { return len(w.bot.Sent()) > 0 })
	got := w.bot.Sent()[0].Message
	if len(got) != 1 || got[0].Type != qq.SegText || got[0].Text != "Steve："+gamePictureChat[0] {
		t.Errorf("sent %+v, want the line as text", got)
	}
}

func compactJSON(t *testing.T, raw []byte) string {
	t.Helper()
	var out bytes.Buffer
	must(t, json.Compact(&out, raw))
	return out.String()
}

// A QQ link without a scheme (which a 1.21.5+ server refuses, kicking every
// client in some bridges) reaches a strict server as plain text: the
// broadcast parses with the server's codec and carries no click event.
func TestLinksWithoutSchemeReachStrictServersAsText(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: fmt.Sprint(groupA), version: "1.21.5"}}, nil)
	card := `{"app":"com.tencent.structmsg","prompt":"[分享]服务器地图","meta":{"news":{"title":"服务器地图","jumpUrl":"map.example.com/world"}}}`
	w.say(groupA, alice, seg(qq.SegImage, "url", "multimedia.nt.qq.com.cn/download?appid=1407&fileid=x", "sub_type", "0"),
		seg(qq.SegJSON, "data", card))
	req := w.waitRequests("survival", "broadcast", 1)[0]
	var data struct{ Message json.RawMessage }
	must(t, json.Unmarshal(req.Data, &data))
	if err := minecraft.ValidateJSON(data.Message, minecraft.StyleModern); err != nil {
		t.Errorf("a 1.21.5 server refuses the broadcast: %v\n%s", err, data.Message)
	}
	if s := string(data.Message); strings.Contains(s, "click_event") {
		t.Errorf("a link without scheme became a click event: %s", s)
	}
	if got := plain(decodeMessage(t, req.Data, "message")); !strings.HasSuffix(got, "：[图片][卡片:服务器地图]") {
		t.Errorf("line reads %q", got)
	}
}

// A QQ NT picture link that the bot sent with "&amp;" in its url (as some
// NapCat and LLBot builds do, even in the array format) opens in game with
// "&", or QQ would answer 403.
func TestEscapedPictureLinksReachTheGameDecoded(t *testing.T) {
	const link = "https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=EhTQ8bXk2F0a1z3c9Q&spec=0&rkey=CAQSKAB6"
	w := startWorld(t, []serverSpec{{name: "survival", groups: fmt.Sprint(groupA)}}, nil)
	w.say(groupA, alice, seg(qq.SegImage, "url", strings.ReplaceAll(link, "&", "&amp;"), "sub_type", "0"))
	req := w.waitRequests("survival", "broadcast", 1)[0]
	for _, c := range flatten(decodeMessage(t, req.Data, "message")) {
		if c.Text != "[图片]" {
			continue
		}
		var click struct{ Value string }
		must(t, json.Unmarshal(c.ClickEvent, &click))
		if click.Value != link {
			t.Errorf("the picture opens %q, want %q", click.Value, link)
		}
		return
	}
	t.Fatalf("no [图片] in %s", req.Data)
}
