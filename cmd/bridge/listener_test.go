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

// flooder is the address the floods come from: not the bot's (127.0.0.1),
// as an attacker's would not be. The listener bounds connections and reads
// per address, so a flood from the bot's own address would crowd the bot
// out by design.
var flooder = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}

// slowPost sends a webhook post's headers (with extra) declaring a 4 MiB
// body from flooder, then all of the body but its last byte, as fast as the
// bridge takes it, and returns how long until the bridge closed the
// connection (or an error when it was still open after limit).
func slowPost(addr, extra string, body []byte, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	d := net.Dialer{LocalAddr: flooder}
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
	bot := started(t, onebot.New(onebot.Options{Token: "qq-secret", WebhookURL: "http://" + listen + "/"}))
	bot.AddMember(groupA, bob)
	w := startWithBot(t, map[string]string{"QQ_URL": bot.HTTPURL(), "QQ_ACCESS_TOKEN": "qq-secret", "QQ_LISTEN": listen})
	w.bot = bot
	return w, bot, listen
}

// floodPosts runs slowPost n times at once against addr and returns how
// long the slowest took to be closed, and every post's error.
func floodPosts(addr, extra string, body []byte, n int, limit time.Duration) (slowest time.Duration, errs []error) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for range n {
		wg.Go(func() {
			d, err := slowPost(addr, extra, body, limit)
			mu.Lock()
			defer mu.Unlock()
			slowest = max(slowest, d)
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return slowest, errs
}

// closeAfterHeaders listens on loopback and answers every request 401 as
// soon as its headers are in, then closes the connection: the least any
// server can do with a post, so a flood against it measures what the flood
// itself costs this machine (the senders run in this process) right now.
func closeAfterHeaders(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						_, _ = io.WriteString(c, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
						return
					}
				}
			})
		}
	})
	return ln.Addr().String()
}

// relaySlowest sends n signed events through the webhook one after another
// and returns the longest any took to reach the game.
func relaySlowest(t *testing.T, w *world, bot *onebot.Bot, n int) time.Duration {
	t.Helper()
	before := len(w.requests("survival", "broadcast"))
	var slowest time.Duration
	for i := range n {
		start := time.Now()
		bot.GroupMessage(groupA, bob, []qq.Segment{qq.Text("real event " + strconv.Itoa(i))})
		w.waitRequests("survival", "broadcast", before+i+1)
		slowest = max(slowest, time.Since(start))
	}
	return slowest
}

// loadAllowance is how long a step may take given a yardstick measured
// in the same test: the machine is shared, so the bound moves with its load
// (and the race detector's slowdown) instead of being fixed. Starving the
// step — making it wait for a body, a turn or a timeout — costs seconds on
// top of what the machine's load explains, and fails it. The floor keeps a
// yardstick of a few milliseconds from turning one GC pause after a flood
// of 4 MiB bodies into a failure; it stays under the shortest body timeout
// a test here sets (1 s), so waiting one out still fails.
func loadAllowance(yardstick time.Duration) time.Duration {
	return max(3*yardstick+250*time.Millisecond, 750*time.Millisecond)
}

// 200 unsigned webhook posts that never send the last byte of their 4 MiB
// bodies are refused from their headers and closed at once, cost next to
// no memory, and real signed events keep arriving promptly meanwhile.
//
// "At once" and "promptly" are measured against the same flood sent to a
// server that does the least possible (closeAfterHeaders) and a real event
// sent before the flood: the senders run in this process, so on a loaded
// machine under the race detector the flood alone takes seconds.
func TestUnsignedWebhookFloodCostsNothing(t *testing.T) {
	w, bot, listen := webhookWorld(t)
	body := make([]byte, 4<<20-1)
	const flood = 200

	quiet := relaySlowest(t, w, bot, 3)
	reference, errs := floodPosts(closeAfterHeaders(t), "", body, flood, 15*time.Second)
	for _, err := range errs {
		t.Fatalf("a post to the reference server: %v", err)
	}
	limit := loadAllowance(reference + quiet)
	t.Logf("the flood took %s against a server that closes after the headers; a real event %s alone", reference, quiet)

	var slowestClose, slowestEvent time.Duration
	rss, goMemory := memoryPeak(func() {
		flooded := make(chan struct{})
		go func() {
			defer close(flooded)
			slowestClose, errs = floodPosts(listen, "", body, flood, 15*time.Second)
		}()
		slowestEvent = relaySlowest(t, w, bot, 5)
		<-flooded
	})
	for _, err := range errs {
		t.Errorf("an unsigned post: %v", err)
	}
	t.Logf("against the bridge: the slowest post closed after %s, the slowest real event took %s (limit %s)",
		slowestClose, slowestEvent, limit)
	if slowestClose > limit {
		t.Errorf("the bridge took %s to close the flood's posts; want under %s", slowestClose, limit)
	}
	if slowestEvent > limit {
		t.Errorf("a real event took %s to reach the game during the flood; want under %s", slowestEvent, limit)
	}
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
	quiet := relaySlowest(t, w, bot, 3)

	const flood = 100
	var slowest time.Duration
	var errs []error
	rss, goMemory := memoryPeak(func() {
		slowest, errs = floodPosts(listen, "X-Signature: sha1="+strings.Repeat("0", 40)+"\r\n", body, flood, 15*time.Second)
	})
	for _, err := range errs {
		t.Errorf("a slow post: %v", err)
	}
	t.Logf("%d slow signed-looking posts: the slowest closed after %s", flood, slowest)
	checkMemory(t, "slow signed-looking posts", rss, goMemory)
	if after, limit := relaySlowest(t, w, bot, 3), loadAllowance(quiet); after > limit {
		t.Errorf("a real event took %s to reach the game after the flood (%s before it); want under %s", after, quiet, limit)
	}
}
