package relay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/store"
)

// openQueue opens a real database in a temp directory.
func openQueue(t *testing.T, dir string) *store.Queue {
	t.Helper()
	db, err := store.Open(t.Context(), dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.Queue()
}

func durableOutbox(q Durable, st *link.State, size int, logs io.Writer) *outbox[string] {
	log := slog.New(slog.NewTextHandler(logs, nil))
	return newOutbox[string]("mc:test", limits{size: size, ttl: time.Hour}, st,
		&keeper{q: q, log: log}, log, newRelayMetrics(metrics.NewSet()))
}

func queuedIn(t *testing.T, q *store.Queue) []string {
	t.Helper()
	entries, err := q.List(t.Context(), "mc:test", 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, string(e.Payload))
	}
	return out
}

// While the destination is down every message is in the database as soon
// as push returns; overflow and expiry remove it there too; another outbox
// on the same database (the next start) gets them back in order and, once
// delivered, they are gone from it.
func TestDurableOutboxKeepsWhatWaitsForADestinationThatIsDown(t *testing.T) {
	dir := t.TempDir()
	q := openQueue(t, dir)
	var logs bytes.Buffer
	var down link.State
	ob := durableOutbox(q, &down, 3, &logs)
	for _, m := range []string{"1", "2", "3", "4"} { // QUEUE_SIZE 3: "1" goes
		ob.push(m, time.Now(), 1)
	}
	if got := queuedIn(t, q); !slices.Equal(got, []string{`"2"`, `"3"`, `"4"`}) {
		t.Fatalf("database holds %v", got)
	}
	expiring := newOutbox[string]("mc:expiring", limits{size: 10, ttl: time.Hour}, &down,
		&keeper{q: q, log: slog.New(slog.DiscardHandler)}, slog.New(slog.DiscardHandler), newRelayMetrics(metrics.NewSet()))
	expiring.push("stale", time.Now().Add(-2*time.Hour), 1) // older than QUEUE_TTL
	expiring.pending()                                      // expiry runs with the sender
	if n, _, _ := q.Count(t.Context(), "mc:expiring"); n != 0 {
		t.Fatalf("an expired message stayed in the database (%d left)", n)
	}

	// The next start: the same database, the destination up.
	var up link.State
	up.Set(true, nil)
	next := durableOutbox(q, &up, 10, &logs)
	next.push("new", time.Now(), 1) // pushed before restore: restored ones go first
	next.restore(t.Context())
	rec := &recorder{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); next.run(ctx, ctx, sender[string]{batch: 1, deliver: rec.deliver}) }()
	defer func() { cancel(); <-done }()
	testutil.WaitFor(t, "4 deliveries", func() bool { return len(rec.list()) >= 4 && next.Len() == 0 }, 5*time.Second)
	if got := rec.list(); !slices.Equal(got, []string{"2", "3", "4", "new"}) {
		t.Fatalf("delivered %v after the restart", got)
	}
	if got := queuedIn(t, q); len(got) != 0 {
		t.Fatalf("delivered messages stayed in the database: %v", got)
	}
}

// A destination that goes down with messages waiting in memory gets them
// written to the database.
func TestDurableOutboxSavesWhatWaitsWhenTheDestinationGoesDown(t *testing.T) {
	q := openQueue(t, t.TempDir())
	var logs bytes.Buffer
	var st link.State
	st.Set(true, nil)
	ob := durableOutbox(q, &st, 10, &logs)
	ob.push("a", time.Now(), 1) // up: memory alone
	ob.push("b", time.Now(), 1)
	if got := queuedIn(t, q); len(got) != 0 {
		t.Fatalf("messages for a live destination were written: %v", got)
	}
	st.Set(false, nil)
	ob.saveWaiting() // what run does once it sees the destination down
	if got := queuedIn(t, q); !slices.Equal(got, []string{`"a"`, `"b"`}) {
		t.Fatalf("database holds %v", got)
	}
	ob.saveWaiting() // nothing twice
	if got := queuedIn(t, q); len(got) != 2 {
		t.Fatalf("saved twice: %v", got)
	}
}

// A database that fails costs durability, never a message: what cannot be
// written stays in memory and is delivered, and the failure is logged once
// rather than once per message.
func TestDurableOutboxSurvivesAFailingDatabase(t *testing.T) {
	db, err := store.Open(t.Context(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close() // every call fails from now on
	logs := &testutil.LogBuffer{}
	var st link.State
	ob := durableOutbox(db.Queue(), &st, 10, logs)
	for _, m := range []string{"a", "b", "c"} {
		ob.push(m, time.Now(), 1)
	}
	rec := &recorder{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); ob.run(ctx, ctx, sender[string]{batch: 1, deliver: rec.deliver}) }()
	defer func() { cancel(); <-done }()
	st.Set(true, nil)
	testutil.WaitFor(t, "3 deliveries", func() bool { return len(rec.list()) == 3 }, 5*time.Second)
	if got := rec.list(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("delivered %v", got)
	}
	if n := strings.Count(logs.String(), "cannot write a queued message to the database"); n != 1 {
		t.Fatalf("logged the failure %d times, want once:\n%s", n, logs.String())
	}
}

// faultyQueue is a real queue whose first failures appends fail, as a disk
// that is full for a while would; it counts every append tried.
type faultyQueue struct {
	*store.Queue
	failures, appends int
}

func (f *faultyQueue) Append(ctx context.Context, dest string, payload []byte, at time.Time) (int64, error) {
	f.appends++
	if f.appends <= f.failures {
		return 0, errors.New("database or disk is full")
	}
	return f.Queue.Append(ctx, dest, payload, at)
}

// A database that fails for a while and recovers still holds the messages
// in the order they were queued (a message is written only once every one
// before it is), and one that keeps failing costs one write per message
// pushed, not one per message waiting.
func TestDurableOutboxKeepsOrderAcrossAFailingSpell(t *testing.T) {
	q := &faultyQueue{Queue: openQueue(t, t.TempDir()), failures: 2}
	var st link.State // down
	ob := durableOutbox(q, &st, 100, io.Discard)
	for _, m := range []string{"a", "b", "c", "d"} {
		ob.push(m, time.Now(), 1)
	}
	if got := queuedIn(t, q.Queue); !slices.Equal(got, []string{`"a"`, `"b"`, `"c"`, `"d"`}) {
		t.Errorf("the database holds %v, want a to d in order", got)
	}

	q.failures = 1 << 30
	q.appends = 0
	ob2 := durableOutbox(q, &st, 100, io.Discard)
	for i := range 50 {
		ob2.push(strconv.Itoa(i), time.Now(), 1)
	}
	if q.appends > 50 {
		t.Errorf("50 pushes to a failing database tried %d writes, want at most one each", q.appends)
	}
}

// A destination that drops mid-delivery: what waits is written to the
// database as soon as it is down (before the sender notices), messages
// pushed meanwhile go after it, and the next start gets them in queue order.
func TestDurableOutboxKeepsOrderWhenTheDestinationDropsMidDelivery(t *testing.T) {
	q := openQueue(t, t.TempDir())
	var logs bytes.Buffer
	var st link.State
	st.Set(true, nil)
	ob := durableOutbox(q, &st, 10, &logs)
	delivering, release := make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(done)
		ob.run(ctx, ctx, sender[string]{batch: 1, deliver: func(context.Context, []queued[string]) []error {
			close(delivering)
			<-release
			return []error{link.ErrNotConnected}
		}})
	}()
	go func() { defer close(watched); ob.watchDown(ctx.Done()) }()
	defer func() { cancel(); <-done; <-watched }()

	ob.push("a", time.Now(), 1) // up: memory alone, and in flight
	<-delivering
	ob.push("b", time.Now(), 1) // up: memory alone, waiting
	st.Set(false, nil)          // the connection drops
	testutil.WaitFor(t, "what waits saved once the destination is down", func() bool {
		return len(queuedIn(t, q)) == 2
	}, 5*time.Second)
	ob.push("c", time.Now(), 1) // down: saved at once, after the others
	close(release)
	if got := queuedIn(t, q); !slices.Equal(got, []string{`"a"`, `"b"`, `"c"`}) {
		t.Fatalf("database holds %v, want a, b, c in that order", got)
	}
}

// A reply to a group that is no longer bridged (a verification code said
// after a configuration change) is logged, not a crash.
func TestReplyToAGroupNoLongerBridged(t *testing.T) {
	var logs bytes.Buffer
	r := &Relay{qqOut: map[int64]*outbox[qqLine]{}, log: slog.New(slog.NewTextHandler(&logs, nil))}
	r.reply(caller{group: 424242}, "已绑定 Steve")
	if !bytes.Contains(logs.Bytes(), []byte("no longer bridged")) {
		t.Errorf("log: %s", logs.String())
	}
}
