package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/listener"
	"github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/qq"
)

// rssBytes is this process's resident memory (Linux), or -1.
func rssBytes() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return -1
}

// memoryPeak samples the process's memory while the test runs f and
// returns how far the peaks rose above the start: resident memory, and the
// Go heap and stacks (which the race detector leaves as they are).
func memoryPeak(f func()) (rss, goMemory int64) {
	read := func() (int64, int64) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return rssBytes(), int64(m.HeapInuse + m.StackInuse)
	}
	runtime.GC()
	rss0, go0 := read()
	stop := make(chan struct{})
	done := make(chan struct{})
	var peakRSS, peakGo int64
	go func() {
		defer close(done)
		ticker := time.NewTicker(20 * time.Millisecond)
		defer ticker.Stop()
		for {
			r, g := read()
			peakRSS, peakGo = max(peakRSS, r), max(peakGo, g)
			select {
			case <-stop:
				return
			case <-ticker.C:
			}
		}
	}()
	f()
	close(stop)
	<-done
	r, g := read()
	return max(peakRSS, r) - rss0, max(peakGo, g) - go0
}

// checkMemory fails the test when a flood cost 150 MB or more.
func checkMemory(t *testing.T, what string, rss, goMemory int64) {
	t.Helper()
	t.Logf("%s: resident memory rose %d MiB, Go heap and stacks %d MiB", what, rss>>20, goMemory>>20)
	const limit = 150 << 20
	if goMemory >= limit {
		t.Errorf("Go heap and stacks rose by %d MiB; want < 150 MiB", goMemory>>20)
	}
	if !raceDetector && rss >= limit {
		t.Errorf("resident memory rose by %d MiB; want < 150 MiB", rss>>20)
	}
}

// slowPost sends a webhook post's headers (with extra) declaring a 4 MiB
// body, then all of the body but its last byte, as fast as the bridge takes
// it, and returns how long until the bridge closed the connection (or an
// error when it was still open after limit). It dials from 127.0.0.2, an
// address of its own as an attacker's would be: the bridge caps what one
// address may hold open, and the bot posting from 127.0.0.1 must not share
// the attacker's allowance.
func slowPost(addr, extra string, body []byte, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(start.Add(limit))
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n", len(body)+1, extra)
	go func() { _, _ = c.Write(body) }() // fails once the bridge closes
	_, err = io.Copy(io.Discard, bufio.NewReader(c))
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return 0, fmt.Errorf("still open after %s", limit)
		}
	}
	return time.Since(start), nil
}

// webhookWorld runs the bridge with a OneBot webhook on QQ_LISTEN.
func webhookWorld(t *testing.T) (*world, *onebot.Bot, string) {
	listen := freeAddr(t)
	bot := onebot.New(onebot.Options{Token: "qq-secret", WebhookURL: "http://" + listen + "/"})
	must(t, bot.Start("127.0.0.1:0"))
	t.Cleanup(bot.Stop)
	bot.AddMember(groupA, bob)
	w := startWithBot(t, map[string]string{"QQ_URL": bot.HTTPURL(), "QQ_ACCESS_TOKEN": "qq-secret", "QQ_LISTEN": listen})
	w.bot = bot
	return w, bot, listen
}

// promptly is how soon a real event must reach the game during a flood: a
// few milliseconds are usual; the race detector slows this process (the
// flood's senders included) several times over.
var promptly = map[bool]time.Duration{false: 500 * time.Millisecond, true: 2 * time.Second}[raceDetector]

// relayPromptly sends n signed events through the webhook while something
// else goes on and fails the test unless each reaches the game within
// limit.
func relayPromptly(t *testing.T, w *world, bot *onebot.Bot, n int, limit time.Duration) {
	t.Helper()
	before := len(w.requests("survival", "broadcast"))
	for i := range n {
		start := time.Now()
		bot.GroupMessage(groupA, bob, []qq.Segment{qq.Text("real event " + strconv.Itoa(i))})
		w.waitRequests("survival", "broadcast", before+i+1)
		if d := time.Since(start); d > limit {
			t.Errorf("real event %d took %s to reach the game", i, d)
		}
	}
}

// 200 unsigned webhook posts that never send the last byte of their 4 MiB
// bodies are refused from their headers and closed at once, cost next to
// no memory, and real signed events keep arriving promptly meanwhile.
func TestUnsignedWebhookFloodCostsNothing(t *testing.T) {
	w, bot, listen := webhookWorld(t)
	body := make([]byte, 4<<20-1)

	const flood = 200
	closed := make(chan time.Duration, flood)
	failed := make(chan error, flood)
	rss, goMemory := memoryPeak(func() {
		var wg sync.WaitGroup
		for range flood {
			wg.Go(func() {
				d, err := slowPost(listen, "", body, 15*time.Second)
				if err != nil {
					failed <- err
					return
				}
				closed <- d
			})
		}
		relayPromptly(t, w, bot, 5, promptly)
		wg.Wait()
	})
	close(closed)
	close(failed)
	for err := range failed {
		t.Errorf("an unsigned post: %v", err)
	}
	var slowest time.Duration
	for d := range closed {
		slowest = max(slowest, d)
	}
	t.Logf("%d unsigned 4 MiB posts: the slowest closed after %s", flood, slowest)
	checkMemory(t, "unsigned posts", rss, goMemory)
}

// Posts that look signed but never finish their bodies are read a few
// at a time and cut at the body deadline (shortened here), so they hold
// bounded memory, and the bridge serves real events again afterwards.
func TestSlowSignedLookingPostsAreBounded(t *testing.T) {
	saved := listenerLimits
	listenerLimits = listener.Limits{BodyTimeout: time.Second, SlotWait: 200 * time.Millisecond}
	t.Cleanup(func() { listenerLimits = saved })
	w, bot, listen := webhookWorld(t)
	body := make([]byte, 4<<20-1)

	const flood = 100
	errs := make(chan error, flood)
	rss, goMemory := memoryPeak(func() {
		var wg sync.WaitGroup
		for range flood {
			wg.Go(func() {
				if _, err := slowPost(listen, "X-Signature: sha1="+strings.Repeat("0", 40)+"\r\n", body, 5*time.Second); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
	})
	close(errs)
	for err := range errs {
		t.Errorf("a slow post: %v", err)
	}
	checkMemory(t, "slow signed-looking posts", rss, goMemory)
	relayPromptly(t, w, bot, 3, promptly)
}
