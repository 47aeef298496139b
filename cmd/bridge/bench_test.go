package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/standin/queqiao"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
)

// The benchmarks run the real bridge against the loopback stand-ins in the
// same process, so the figures include the stand-ins' own work (encoding
// events, decoding and answering requests). BENCHMARKS.md has the figures
// and how to read them.
//
//	go test -run '^$' -bench . -benchtime 3x ./cmd/bridge

// BenchmarkQQMessageToGame measures a typical group message (text, mention,
// face, image) from the moment the bot emits it to the moment the QueQiao
// stand-in holds the broadcast: decoding, name look-up (cached), rendering,
// queueing and the WebSocket round trips on loopback, one at a time.
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

// blastSize is how many messages one blast holds.
const blastSize = 5000

// BenchmarkBlast measures how fast a burst drains with rate limiting off:
// blastSize plain chat messages emitted back to back by the QQ bot until the
// last broadcast reached the game (qq_to_mc), or by the game until the last
// line reached the group (mc_to_qq, where queued lines merge into fewer QQ
// messages). Reports msg/s, allocations and bytes per message, and the peak
// RSS of the whole test process.
func BenchmarkBlast(b *testing.B) {
	b.Run("qq_to_mc", func(b *testing.B) {
		w := startWorld(b, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}}, benchEnv)
		measureBlasts(b, func(first int) (func(), func() error) {
			frames := w.qqFrames(groupA, first, blastSize)
			return func() { emitAll(frames, w.bot.Emit) },
				func() error { return w.waitBroadcasts("survival", first+blastSize) }
		})
	})
	b.Run("mc_to_qq", func(b *testing.B) {
		w := startWorld(b, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}}, benchEnv)
		measureBlasts(b, func(first int) (func(), func() error) {
			frames := w.gameFrames("survival", first, blastSize)
			return func() { emitAll(frames, w.mc["survival"].Emit) },
				func() error { return w.bot.WaitLines(context.Background(), groupA, first+blastSize) }
		})
	})
}

// BenchmarkBlastManyServers is the blast on a larger configuration: 10
// servers and 20 groups, each server bound to two groups; QQ messages are
// spread over the groups, game chat over the servers (each line reaches two
// groups).
func BenchmarkBlastManyServers(b *testing.B) {
	const servers, groups = 10, 20
	var specs []serverSpec
	for i := range servers {
		specs = append(specs, serverSpec{name: "s" + strconv.Itoa(i),
			groups: strconv.Itoa(groupA+2*i) + "," + strconv.Itoa(groupA+2*i+1)})
	}
	b.Run("qq_to_mc", func(b *testing.B) {
		w := startWorld(b, specs, benchEnv) // each run of the function counts from zero
		measureBlasts(b, func(first int) (func(), func() error) {
			var frames [][]byte
			for g := range groups {
				frames = append(frames, w.qqFrames(int64(groupA+g), first, blastSize/groups)...)
			}
			return func() { emitAll(frames, w.bot.Emit) }, func() error {
				for i := range servers {
					if err := w.waitBroadcasts("s"+strconv.Itoa(i), (first+blastSize)/servers); err != nil {
						return err
					}
				}
				return nil
			}
		})
	})
	b.Run("mc_to_qq", func(b *testing.B) {
		w := startWorld(b, specs, benchEnv)
		measureBlasts(b, func(first int) (func(), func() error) {
			frames := make([][][]byte, servers)
			for i := range frames {
				frames[i] = w.gameFrames("s"+strconv.Itoa(i), first, blastSize/servers)
			}
			return func() {
					for i, f := range frames {
						emitAll(f, w.mc["s"+strconv.Itoa(i)].Emit)
					}
				}, func() error {
					for g := range groups {
						if err := w.bot.WaitLines(context.Background(), int64(groupA+g), (first+blastSize)/groups); err != nil {
							return err
						}
					}
					return nil
				}
		})
	})
}

// benchEnv lifts the limits a blast would hit: no group rate, queues large
// enough to hold a whole blast.
var benchEnv = map[string]string{"QQ_GROUP_RATE": "0", "QUEUE_SIZE": "100000", "QUEUE_BYTES": "1GiB",
	"REQUEST_TIMEOUT": "10s"}

// measureBlasts runs one blast per iteration. blast prepares the messages
// numbered from first and returns how to emit them and how to wait until
// they all arrived; only those two are timed and counted.
func measureBlasts(b *testing.B, blast func(first int) (emit func(), arrived func() error)) {
	var elapsed time.Duration
	var mallocs, allocBytes uint64
	messages := 0
	for b.Loop() {
		b.StopTimer()
		emit, arrived := blast(messages)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		start := time.Now()
		emit()
		if err := arrived(); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		b.StopTimer()
		runtime.ReadMemStats(&after)
		mallocs += after.Mallocs - before.Mallocs
		allocBytes += after.TotalAlloc - before.TotalAlloc
		messages += blastSize
		b.StartTimer()
	}
	b.ReportMetric(float64(messages)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(mallocs)/float64(messages), "allocs/msg")
	b.ReportMetric(float64(allocBytes)/float64(messages), "B/msg")
	reportPeakRSS(b)
}

func emitAll(frames [][]byte, emit func([]byte)) {
	for _, f := range frames {
		emit(f)
	}
}

// waitBroadcasts waits until server has received n broadcasts in all.
func (w *world) waitBroadcasts(server string, n int) error {
	return w.mc[server].WaitRequests(context.Background(), "broadcast", n)
}

// BenchmarkSteady1000 measures latency at a steady 1,000 messages a second
// each way (2,000 messages per run): from the moment a stand-in emits a
// message to the moment the other stand-in received it.
func BenchmarkSteady1000(b *testing.B) {
	const n = 2000
	b.Run("qq_to_mc", func(b *testing.B) {
		w := startWorld(b, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}}, benchEnv)
		var lat []time.Duration
		sent := 0
		for b.Loop() {
			b.StopTimer()
			frames := w.qqFrames(groupA, sent, n)
			b.StartTimer()
			emitted := emitSteadily(frames, w.bot.Emit)
			if err := w.waitBroadcasts("survival", sent+n); err != nil {
				b.Fatal(err)
			}
			for _, r := range w.requests("survival", "broadcast")[sent:] {
				if i, ok := burstNumber(string(r.Data)); ok && i >= sent {
					lat = append(lat, r.At.Sub(emitted[i-sent]))
				}
			}
			sent += n
		}
		reportPercentiles(b, lat)
	})
	b.Run("mc_to_qq", func(b *testing.B) {
		w := startWorld(b, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}}, benchEnv)
		var lat []time.Duration
		sent := 0
		for b.Loop() {
			b.StopTimer()
			frames := w.gameFrames("survival", sent, n)
			b.StartTimer()
			emitted := emitSteadily(frames, w.mc["survival"].Emit)
			if err := w.bot.WaitLines(context.Background(), groupA, sent+n); err != nil {
				b.Fatal(err)
			}
			for _, s := range w.bot.Sent() {
				for _, line := range strings.Split(s.Text, "\n") {
					if i, ok := burstNumber(line); ok && i >= sent && i < sent+n {
						lat = append(lat, s.At.Sub(emitted[i-sent]))
					}
				}
			}
			sent += n
		}
		reportPercentiles(b, lat)
	})
}

// emitSteadily emits one frame per millisecond and returns when each went.
func emitSteadily(frames [][]byte, emit func([]byte)) []time.Time {
	at := make([]time.Time, len(frames))
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for i, f := range frames {
		<-tick.C
		at[i] = time.Now()
		emit(f)
	}
	return at
}

func burstNumber(s string) (int, bool) {
	m := seqRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// qqFrames prepares n group message events numbered from first, each with a
// message id of its own, from one frame of the bot stand-in.
func (w *world) qqFrames(group int64, first, n int) [][]byte {
	tmpl, id := w.bot.GroupMessageFrame(group, alice, []qq.Segment{qq.Text("今晚8点维护 " + numbered(0))})
	idText := []byte(strconv.FormatInt(id, 10))
	out := make([][]byte, n)
	for i := range out {
		f := bytes.ReplaceAll(tmpl, idText, []byte(strconv.FormatInt(id+1_000_000+int64(first+i), 10)))
		out[i] = bytes.ReplaceAll(f, []byte(numbered(0)), []byte(numbered(first+i)))
	}
	return out
}

// gameFrames prepares n numbered chat events of server.
func (w *world) gameFrames(server string, first, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = w.mc[server].ChatFrame("Steve", "收到 "+numbered(first+i))
	}
	return out
}

// reportPercentiles adds p50/p99 latency in microseconds to the benchmark.
func reportPercentiles(b *testing.B, lat []time.Duration) { reportPercentilesAs(b, "", lat) }

// reportPercentilesAs is reportPercentiles with the units named after what.
func reportPercentilesAs(b *testing.B, what string, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	if what != "" {
		what += "-"
	}
	slices.Sort(lat)
	at := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(at(0.50), what+"p50-µs")
	b.ReportMetric(at(0.99), what+"p99-µs")
}

// reportPeakRSS adds the test process's peak resident set size, where the
// system reports it.
func reportPeakRSS(b *testing.B) {
	if kb, ok := peakRSS("/proc/self/status"); ok {
		b.ReportMetric(float64(kb)/1024, "peak-RSS-MiB")
	}
}

// peakRSS reads VmHWM (kB) from a /proc/<pid>/status file.
func peakRSS(statusFile string) (kb int, ok bool) {
	status, err := os.ReadFile(statusFile)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, found := strings.CutPrefix(line, "VmHWM:"); found {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kb, err == nil
		}
	}
	return 0, false
}

// BenchmarkBinary runs the built bridge as a process of its own against the
// stand-ins in the benchmark's process, so its memory is measured alone
// (VmHWM, the peak resident set, read before SIGTERM):
//
//   - steady: 1,000 messages a second each way for two seconds, with their
//     latency;
//
//   - blast: blastSize messages each way at once, with the drain rate.
//
//     go test -run '^$' -bench Binary ./cmd/bridge
func BenchmarkBinary(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc")
	}
	bin := buildBridge(b)
	b.Run("steady", func(b *testing.B) {
		w, cmd := binaryWorld(b, bin)
		var qqLat, mcLat []time.Duration
		sent := 0
		const n = 2000
		for b.Loop() {
			b.StopTimer()
			qqFrames, mcFrames := w.qqFrames(groupA, sent, n), w.gameFrames("survival", sent, n)
			b.StartTimer()
			done := make(chan []time.Time)
			go func() { done <- emitSteadily(mcFrames, w.mc["survival"].Emit) }()
			qqAt := emitSteadily(qqFrames, w.bot.Emit)
			mcAt := <-done
			if err := w.waitBroadcasts("survival", sent+n); err != nil {
				b.Fatal(err)
			}
			if err := w.bot.WaitLines(context.Background(), groupA, sent+n); err != nil {
				b.Fatal(err)
			}
			for _, r := range w.requests("survival", "broadcast")[sent:] {
				if i, ok := burstNumber(string(r.Data)); ok && i >= sent {
					qqLat = append(qqLat, r.At.Sub(qqAt[i-sent]))
				}
			}
			for _, s := range w.bot.Sent() {
				for _, line := range strings.Split(s.Text, "\n") {
					if i, ok := burstNumber(line); ok && i >= sent && i < sent+n {
						mcLat = append(mcLat, s.At.Sub(mcAt[i-sent]))
					}
				}
			}
			sent += n
		}
		reportPercentilesAs(b, "qq_to_mc", qqLat)
		reportPercentilesAs(b, "mc_to_qq", mcLat)
		reportProcessRSS(b, cmd)
	})
	b.Run("blast", func(b *testing.B) {
		w, cmd := binaryWorld(b, bin)
		const n = blastSize
		var qqRate, mcRate float64
		sent := 0
		for b.Loop() {
			b.StopTimer()
			qqFrames, mcFrames := w.qqFrames(groupA, sent, n), w.gameFrames("survival", sent, n)
			b.StartTimer()
			start := time.Now()
			emitAll(qqFrames, w.bot.Emit)
			if err := w.waitBroadcasts("survival", sent+n); err != nil {
				b.Fatal(err)
			}
			qqRate += n / time.Since(start).Seconds()
			start = time.Now()
			emitAll(mcFrames, w.mc["survival"].Emit)
			if err := w.bot.WaitLines(context.Background(), groupA, sent+n); err != nil {
				b.Fatal(err)
			}
			mcRate += n / time.Since(start).Seconds()
			sent += n
		}
		runs := float64(sent / n)
		b.ReportMetric(qqRate/runs, "qq_to_mc-msg/s")
		b.ReportMetric(mcRate/runs, "mc_to_qq-msg/s")
		reportProcessRSS(b, cmd)
	})
}

// binaryWorld starts the stand-ins and the built bridge against them, as a
// process of its own with a database, and waits until it is ready.
func binaryWorld(b *testing.B, bin string) (*world, *exec.Cmd) {
	w := &world{t: b, mc: map[string]*queqiao.Server{}}
	w.bot = onebot.New(onebot.Options{})
	must(b, w.bot.Start("127.0.0.1:0"))
	b.Cleanup(w.bot.Stop)
	w.bot.AddMember(groupA, alice)
	mc := started(b, queqiao.New(queqiao.Options{ServerName: "survival"}))
	w.mc["survival"] = mc
	httpAddr := freeAddr(b)
	cmd := exec.Command(bin)
	cmd.Env = []string{"QQ_URL=" + w.bot.URL(), "MC_0_NAME=survival", "MC_0_WS_URL=" + mc.URL(),
		"MC_0_GROUPS=" + strconv.Itoa(groupA), "HTTP_LISTEN=" + httpAddr, "LOG_LEVEL=warn",
		"QQ_GROUP_RATE=0", "QUEUE_SIZE=100000", "QUEUE_BYTES=1GiB", "DATA_DIR=" + b.TempDir()}
	cmd.Stderr = os.Stderr
	must(b, cmd.Start())
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	testutil.WaitFor(b, "the bridge to be ready", func() bool {
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second)
	return w, cmd
}

// reportProcessRSS adds the bridge process's peak resident set size.
func reportProcessRSS(b *testing.B, cmd *exec.Cmd) {
	if kb, ok := peakRSS(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); ok {
		b.ReportMetric(float64(kb)/1024, "bridge-peak-RSS-MiB")
	}
}
