package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
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
