package format

import (
	"testing"

	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// BenchmarkQQToGame renders a typical five-segment message: a reply with an
// @, a face, text and a picture.
func BenchmarkQQToGame(b *testing.B) {
	m := QQMessage{
		GroupID:   712345678,
		GroupName: "我的世界交流群",
		Sender:    qq.Member{UserID: 1019283746, Nickname: "alice", Card: "Alice"},
		Segments: []qq.Segment{
			{Type: qq.SegReply, ID: "1402815937"},
			{Type: qq.SegAt, Target: "1357924680"},
			qq.Text(" 今晚8点服务器维护，请提前下线"),
			{Type: qq.SegFace, ID: "14"},
			{Type: qq.SegImage, URL: imageURL},
		},
		Reply: &Reply{Author: "Bob", Quoted: []qq.Segment{qq.Text("服务器什么时候维护？")}},
		Names: map[int64]string{1357924680: "Bob"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(QQToGame(m, Options{ShowGroupName: true})) != 1 {
			b.Fatal("no line")
		}
	}
}

// BenchmarkGameToQQ renders a death, the event with the most work behind it.
func BenchmarkGameToQQ(b *testing.B) {
	ev := minecraft.Event{Kind: minecraft.Death, Server: "survival", Player: "Steve",
		Death: tr("death.attack.mob", "Steve was slain by Zombie", literal("Steve"), tr("entity.minecraft.zombie", "Zombie"))}
	t := DefaultTemplates()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := GameToQQ(ev, t, ""); !ok {
			b.Fatal("not relayed")
		}
	}
}
