package main

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/mcqq/bridge/qq"
)

// BenchmarkQQMessageToGame measures a typical group message (text, mention,
// face, image) from the moment the bot emits it to the moment the QueQiao
// stand-in holds the broadcast: decoding, name look-up (cached), rendering,
// queueing and the WebSocket round trips on loopback.
//
//	go test -run '^$' -bench QQMessageToGame -benchmem ./cmd/bridge
func BenchmarkQQMessageToGame(b *testing.B) {
	w := startWorld(b, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}}, nil)
	msg := []qq.Segment{
		qq.Text("今晚8点服务器维护 "),
		seg(qq.SegAt, "qq", strconv.FormatInt(bob.UserID, 10)),
		seg(qq.SegFace, "id", "14"),
		seg(qq.SegImage, "url", "https://example.com/a.png", "sub_type", "0"),
		qq.Text(" 请提前下线"),
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		start := time.Now()
		w.bot.GroupMessage(groupA, alice, msg)
		if err := w.mc["survival"].WaitRequests(ctx, "broadcast", i+1); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		i++
	}
	reportPercentiles(b, lat)
}

// reportPercentiles adds p50/p99 latency in microseconds to the benchmark.
func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
