package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/goleak"

	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a destination that takes messages while up.
type recorder struct {
	mu   sync.Mutex
	got  []string
	fail error // returned (once) instead of taking the next message
}

func (r *recorder) deliver(_ context.Context, batch []queued[string]) []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		err := r.fail
		r.fail = nil
		return []error{err}
	}
	r.got = append(r.got, batch[0].v)
	return []error{nil}
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func newTestOutbox(size int, ttl time.Duration, st *link.State, logs *bytes.Buffer) *outbox[string] {
	log := slog.New(slog.NewTextHandler(logs, nil))
	return newOutbox[string]("mc:test", limits{size: size, ttl: ttl}, st, nil, log, newRelayMetrics(metrics.NewSet()))
}

// While the destination is down the queue keeps the newest QUEUE_SIZE
// messages and logs how many it dropped; once up they go out in order.
func TestOutboxOverflowDropsOldestAndDeliversInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		var st link.State
		ob := newTestOutbox(3, time.Hour, &st, &logs)
		rec := &recorder{}
		stop := runOutbox(t, ob, sender[string]{batch: 1, deliver: rec.deliver})
		for _, m := range []string{"1", "2", "3", "4", "5"} {
			ob.push(m, time.Now(), len(m))
		}
		synctest.Wait()
		if got := rec.list(); len(got) != 0 {
			t.Fatalf("delivered %v while down", got)
		}
		st.Set(true, nil)
		synctest.Wait()
		if got := rec.list(); !slices.Equal(got, []string{"3", "4", "5"}) {
			t.Fatalf("delivered %v", got)
		}
		// Two drops, logged as they happened or once the queue moved again.
		total := 0
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var n int
			if i := strings.Index(line, "count="); i >= 0 {
				fmt.Sscanf(line[i+len("count="):], "%d", &n)
			}
			total += n
		}
		if total != 2 {
			t.Fatalf("logged %d drops:\n%s", total, logs.String())
		}
		stop()
	})
}

// Messages older than QUEUE_TTL are dropped, not delivered late.
func TestOutboxExpiresOldMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		var st link.State
		ob := newTestOutbox(10, time.Minute, &st, &logs)
		rec := &recorder{}
		stop := runOutbox(t, ob, sender[string]{batch: 1, deliver: rec.deliver})
		ob.push("stale", time.Now(), 5)
		time.Sleep(2 * time.Minute)
		ob.push("fresh", time.Now(), 5)
		st.Set(true, nil)
		synctest.Wait()
		if got := rec.list(); !slices.Equal(got, []string{"fresh"}) {
			t.Fatalf("delivered %v", got)
		}
		if !strings.Contains(logs.String(), "expired") {
			t.Fatalf("log: %s", logs.String())
		}
		stop()
	})
}

// A connection lost mid-delivery keeps the message for after the reconnect;
// a message the peer refuses is dropped so it cannot block the queue.
func TestOutboxRetriesTransientAndDropsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		var st link.State
		ob := newTestOutbox(10, time.Hour, &st, &logs)
		st.Set(true, nil)
		rec := &recorder{fail: link.ErrNotConnected}
		stop := runOutbox(t, ob, sender[string]{batch: 1, deliver: func(ctx context.Context, b []queued[string]) []error {
			if b[0].v == "bad" {
				return []error{classify(&minecraft.APIError{API: "broadcast", Code: 500, Message: "解析消息失败"})}
			}
			errs := rec.deliver(ctx, b)
			if errors.Is(errs[0], link.ErrNotConnected) {
				st.Set(false, errs[0]) // as the client would
			}
			return errs
		}})
		ob.push("a", time.Now(), 1)
		ob.push("bad", time.Now(), 1)
		ob.push("b", time.Now(), 1)
		synctest.Wait()
		if got := rec.list(); len(got) != 0 {
			t.Fatalf("delivered %v while the link was lost", got)
		}
		st.Set(true, nil)
		synctest.Wait()
		if got := rec.list(); !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("delivered %v", got)
		}
		if !strings.Contains(logs.String(), "refused by the peer") {
			t.Fatalf("log: %s", logs.String())
		}
		stop()
	})
}

// Messages that overflow the queue while a delivery is under way push out
// the oldest waiting ones, never the ones being delivered: what the peer took
// leaves the queue, every other message is either delivered or counted as
// dropped.
func TestOutboxOverflowDuringDeliveryKeepsAccountsExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		set := metrics.NewSet()
		var st link.State
		ob := newOutbox[string]("mc:test", limits{size: 2, ttl: time.Hour}, &st, nil, slog.New(slog.NewTextHandler(&logs, nil)), newRelayMetrics(set))
		st.Set(true, nil)
		rec := &recorder{}
		delivering, release := make(chan struct{}), make(chan struct{})
		stop := runOutbox(t, ob, sender[string]{batch: 1, deliver: func(ctx context.Context, b []queued[string]) []error {
			if b[0].v == "1" {
				close(delivering)
				<-release
			}
			return rec.deliver(ctx, b)
		}})
		ob.push("1", time.Now(), 1)
		<-delivering
		for _, m := range []string{"2", "3", "4"} { // QUEUE_SIZE 2 waiting: "2" goes
			ob.push(m, time.Now(), len(m))
		}
		close(release)
		synctest.Wait()
		if got := rec.list(); !slices.Equal(got, []string{"1", "3", "4"}) {
			t.Fatalf("delivered %v, want 1 3 4", got)
		}
		if n := set.GetOrCreateCounter(`bridge_messages_dropped_total{queue="mc:test"}`).Get(); n != 1 {
			t.Fatalf("counted %d dropped, want 1", n)
		}
		if ob.Len() != 0 {
			t.Fatalf("%d left in the queue", ob.Len())
		}
		stop()
	})
}

// runOutbox runs ob's sender in the test's bubble; stop ends it and waits.
func runOutbox(t *testing.T, ob *outbox[string], s sender[string]) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		ob.run(ctx, ctx, s)
	}()
	return func() { cancel(); <-done }
}

// QUEUE_BYTES bounds what waits as QUEUE_SIZE does: the oldest go first,
// but the newest message stays even when it alone is over the bound.
func TestOutboxByteBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		var st link.State
		ob := newOutbox[string]("mc:test", limits{size: 100, maxBytes: 10, ttl: time.Hour}, &st, nil,
			slog.New(slog.NewTextHandler(&logs, nil)), newRelayMetrics(metrics.NewSet()))
		rec := &recorder{}
		stop := runOutbox(t, ob, sender[string]{batch: 1, deliver: rec.deliver})
		for _, m := range []string{"aaaa", "bbbb", "cccc"} { // 12 bytes: "aaaa" goes
			ob.push(m, time.Now(), len(m))
		}
		if ob.Len() != 2 {
			t.Fatalf("%d waiting after 12 bytes with QUEUE_BYTES 10", ob.Len())
		}
		st.Set(true, nil)
		synctest.Wait()
		st.Set(false, nil)
		synctest.Wait()
		ob.push("dddd", time.Now(), 4)
		ob.push(strings.Repeat("e", 20), time.Now(), 20) // over the bound alone: it stays, "dddd" goes
		st.Set(true, nil)
		synctest.Wait()
		if got := rec.list(); !slices.Equal(got, []string{"bbbb", "cccc", strings.Repeat("e", 20)}) {
			t.Fatalf("delivered %v", got)
		}
		stop()
	})
}

// scriptedDestination answers each delivery attempt of a message with the
// next error scripted for it (nil once the script is used up) and records
// what it took.
type scriptedDestination struct {
	mu       sync.Mutex
	script   map[string][]error
	attempts map[string]int
	got      []string
	maxTake  int // report at most this many outcomes per delivery; 0: all
}

func (d *scriptedDestination) deliver(_ context.Context, batch []queued[string]) []error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.maxTake > 0 && len(batch) > d.maxTake {
		batch = batch[:d.maxTake]
	}
	errs := make([]error, len(batch))
	for i, q := range batch {
		d.attempts[q.v]++
		if s := d.script[q.v]; len(s) > 0 {
			errs[i], d.script[q.v] = s[0], s[1:]
			continue
		}
		d.got = append(d.got, q.v)
	}
	return errs
}

func (d *scriptedDestination) state() ([]string, map[string]int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.got), maps.Clone(d.attempts)
}

// How a failed delivery is judged: a refusal drops the message at once; a
// failure of its own is tried again and dropped after the third; a message
// the server had not got to (queued behind an unanswered one) or a
// delivery cut short by shutdown counts no attempt; order is kept.
// (Were a later message of the same delivery taken while an earlier one
// failed, the retried one would follow it; the clients never report that:
// behind an unanswered broadcast the rest of the window is ErrQueuedBehind.)
func TestOutboxJudgesFailures(t *testing.T) {
	boom := errors.New("boom")
	behind := fmt.Errorf("broadcast: %w", minecraft.ErrQueuedBehind)
	cancelled := fmt.Errorf("broadcast: %w", context.Canceled)
	refused := classify(&minecraft.APIError{API: "broadcast", Code: 500, Message: "解析消息失败"})
	cases := []struct {
		name    string
		batch   int
		script  map[string][]error
		want    []string
		dropped int
		log     string
	}{
		{"refused", 1, map[string][]error{"a": {refused}}, []string{"b", "c"}, 1, "message refused by the peer, dropped"},
		{"fails twice, then goes", 1, map[string][]error{"a": {boom, boom}}, []string{"a", "b", "c"}, 0, "delivery failed, retrying"},
		{"fails three times", 1, map[string][]error{"a": {boom, boom, boom}}, []string{"b", "c"}, 1, "message not delivered after retries, dropped"},
		// As the QueQiao client reports a window of broadcasts whose first
		// went unanswered.
		{"queued behind, often", 3, map[string][]error{"a": {boom, boom}, "b": {behind, behind, boom}, "c": {behind, behind, behind}},
			[]string{"a", "b", "c"}, 0, "delivery failed, retrying"},
		{"queued behind a refused one", 3, map[string][]error{"a": {refused}, "b": {behind}, "c": {behind}},
			[]string{"b", "c"}, 1, "message refused by the peer, dropped"},
		{"cut short by shutdown, often", 1, map[string][]error{"b": {cancelled, cancelled, cancelled, cancelled}}, []string{"a", "b", "c"}, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var logs bytes.Buffer
				set := metrics.NewSet()
				var st link.State
				st.Set(true, nil)
				ob := newOutbox[string]("mc:test", limits{size: 10, ttl: time.Hour}, &st, nil,
					slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), newRelayMetrics(set))
				dest := &scriptedDestination{script: c.script, attempts: map[string]int{}}
				for _, m := range []string{"a", "b", "c"} {
					ob.push(m, time.Now(), 1)
				}
				stop := runOutbox(t, ob, sender[string]{batch: c.batch, deliver: dest.deliver})
				time.Sleep(time.Minute) // many retry pauses
				synctest.Wait()
				got, _ := dest.state()
				if !slices.Equal(got, c.want) {
					t.Errorf("delivered %v, want %v", got, c.want)
				}
				if n := set.GetOrCreateCounter(`bridge_messages_dropped_total{queue="mc:test"}`).Get(); int(n) != c.dropped {
					t.Errorf("counted %d dropped, want %d", n, c.dropped)
				}
				if !strings.Contains(logs.String(), c.log) {
					t.Errorf("log lacks %q:\n%s", c.log, logs.String())
				}
				if ob.Len() != 0 {
					t.Errorf("%d left queued", ob.Len())
				}
				stop()
			})
		})
	}
}

// A delivery that reports fewer outcomes than it was given leaves the rest
// at the head, in order, for the next one.
func TestOutboxKeepsWhatADeliveryDidNotReach(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var st link.State
		st.Set(true, nil)
		ob := newTestOutbox(10, time.Hour, &st, &bytes.Buffer{})
		for _, m := range []string{"a", "b", "c", "d"} {
			ob.push(m, time.Now(), 1)
		}
		dest := &scriptedDestination{script: map[string][]error{}, attempts: map[string]int{}, maxTake: 1}
		stop := runOutbox(t, ob, sender[string]{batch: 4, deliver: dest.deliver})
		synctest.Wait()
		got, attempts := dest.state()
		if !slices.Equal(got, []string{"a", "b", "c", "d"}) {
			t.Errorf("delivered %v", got)
		}
		if attempts["d"] != 1 {
			t.Errorf("d was tried %d times", attempts["d"])
		}
		stop()
	})
}

// A connection lost during a delivery pauses the queue until the
// connection's state changes, rather than retrying in a loop; if the state
// never says so, it tries again after a second.
func TestOutboxWaitsForTheReconnectAfterALostConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var st link.State
		st.Set(true, nil) // the client has not noticed yet
		ob := newTestOutbox(10, time.Hour, &st, &bytes.Buffer{})
		lost := fmt.Errorf("broadcast: %w", link.ErrNotConnected)
		dest := &scriptedDestination{script: map[string][]error{"a": {lost, lost}}, attempts: map[string]int{}}
		ob.push("a", time.Now(), 1)
		stop := runOutbox(t, ob, sender[string]{batch: 1, deliver: dest.deliver})
		synctest.Wait()
		if _, attempts := dest.state(); attempts["a"] != 1 {
			t.Fatalf("%d attempts before the state changed, want 1", attempts["a"])
		}
		st.Set(false, lost)
		st.Set(true, nil)
		synctest.Wait()
		if _, attempts := dest.state(); attempts["a"] != 2 {
			t.Fatalf("%d attempts after the reconnect, want 2", attempts["a"])
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got, attempts := dest.state(); !slices.Equal(got, []string{"a"}) || attempts["a"] != 3 {
			t.Fatalf("delivered %v after %d attempts; want delivered on the third", got, attempts["a"])
		}
		stop()
	})
}

// Errors about the message itself are permanent (retrying cannot help);
// errors about the connection or the moment are not.
func TestClassify(t *testing.T) {
	cases := []struct {
		err       error
		permanent bool
	}{
		{nil, false},
		{&qq.APIError{Action: "send_group_msg", Retcode: 1200, Message: "消息体无法解析"}, true},
		{fmt.Errorf("queqiao survival: %w", &minecraft.APIError{API: "broadcast", Code: 500, Message: "解析消息失败"}), true},
		{fmt.Errorf("empty message: %w", minecraft.ErrInvalidMessage), true},
		{fmt.Errorf("broadcast: %w", link.ErrNotConnected), false},
		{fmt.Errorf("broadcast: %w", minecraft.ErrQueuedBehind), false},
		{context.DeadlineExceeded, false},
		{errors.New("connection reset by peer"), false},
	}
	for _, c := range cases {
		got := classify(c.err)
		var p permanent
		if errors.As(got, &p) != c.permanent {
			t.Errorf("classify(%v) = %#v; permanent want %v", c.err, got, c.permanent)
		}
		if c.err != nil && !errors.Is(got, c.err) {
			t.Errorf("classify(%v) hides the error", c.err)
		}
	}
}
