package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock moves a millisecond forward at every reading, so that every
// write has its own time, and jumps when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		c.t = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	}
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.now()
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func payloads(t testing.TB, q *Queue, dest string) []string {
	t.Helper()
	list, err := q.List(context.Background(), dest, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = string(e.Payload)
	}
	return out
}

// Each destination's entries come back in the order they were appended,
// whatever else was appended in between, and across a restart.
func TestQueueKeepsOrderPerDestination(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	clock := &fakeClock{}
	db, err := Open(ctx, dir, Options{Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	q := db.Queue()
	var wantMC, wantQQ []string
	for i := range 20 {
		mc, qq := fmt.Sprintf("to game %d", i), fmt.Sprintf("to group %d", i)
		if _, err := q.Append(ctx, "mc:survival", []byte(mc), clock.now()); err != nil {
			t.Fatal(err)
		}
		if _, err := q.Append(ctx, "qq:712345678", []byte(qq), clock.now()); err != nil {
			t.Fatal(err)
		}
		wantMC, wantQQ = append(wantMC, mc), append(wantQQ, qq)
	}
	db.Close()

	q = open(t, dir, Options{}).Queue()
	if got := payloads(t, q, "mc:survival"); !slices.Equal(got, wantMC) {
		t.Errorf("mc:survival after restart:\n got %q\nwant %q", got, wantMC)
	}
	if got := payloads(t, q, "qq:712345678"); !slices.Equal(got, wantQQ) {
		t.Errorf("qq:712345678 after restart:\n got %q\nwant %q", got, wantQQ)
	}
	if got := payloads(t, q, "qq:private"); len(got) != 0 {
		t.Errorf("an empty destination lists %q", got)
	}
	first3, err := q.List(ctx, "mc:survival", 3)
	if err != nil || len(first3) != 3 || string(first3[2].Payload) != "to game 2" {
		t.Errorf("List with a limit: %+v, %v", first3, err)
	}
	if dests, err := q.Destinations(ctx); err != nil || !slices.Equal(dests, []string{"mc:survival", "qq:712345678"}) {
		t.Errorf("destinations %q, %v", dests, err)
	}
}

// Delivered and dropped entries go, by id; expired ones by time; Count
// tells what is left.
func TestQueueRemoval(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{}
	q := open(t, t.TempDir(), Options{Now: clock.now}).Queue()
	start := clock.now()
	var ids []int64
	for i := range 10 {
		id, err := q.Append(ctx, "mc:survival", []byte(fmt.Sprintf("m%d", i)), start.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := q.Append(ctx, "mc:creative", []byte("other"), start); err != nil {
		t.Fatal(err)
	}

	if n, size, err := q.Count(ctx, "mc:survival"); err != nil || n != 10 || size != 20 {
		t.Errorf("count %d, %d bytes, %v; want 10, 20 bytes", n, size, err)
	}
	if err := q.Delete(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := q.Delete(ctx, ids[1], ids[2], ids[2], 999999); err != nil {
		t.Fatal(err)
	}
	if got := payloads(t, q, "mc:survival"); !slices.Equal(got, []string{"m3", "m4", "m5", "m6", "m7", "m8", "m9"}) {
		t.Errorf("after deleting three: %q", got)
	}
	if got := payloads(t, q, "mc:creative"); !slices.Equal(got, []string{"other"}) {
		t.Errorf("another destination was touched: %q", got)
	}
	if n, size, err := q.Count(ctx, "qq:private"); err != nil || n != 0 || size != 0 {
		t.Errorf("empty count %d, %d, %v", n, size, err)
	}
}

// Ids only grow, even when the newest entry was deleted before the next
// append: an id held by a sender can never name a later message.
func TestQueueIdsAreNeverReused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := db.Queue().Append(ctx, "mc:survival", []byte("a"), time.Now())
	if err := db.Queue().Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	db.Close()
	b, err := open(t, dir, Options{}).Queue().Append(ctx, "mc:survival", []byte("b"), time.Now())
	if err != nil || b <= a {
		t.Errorf("id after delete and restart %d (before: %d), %v", b, a, err)
	}
}

// What a crash can leave: appends from several senders at once all land.
func TestQueueConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	q := open(t, t.TempDir(), Options{}).Queue()
	var wg sync.WaitGroup
	for s := range 4 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := q.Append(ctx, fmt.Sprintf("mc:s%d", s), []byte(fmt.Sprint(i)), time.Now()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for s := range 4 {
		got := payloads(t, q, fmt.Sprintf("mc:s%d", s))
		for i, p := range got {
			if p != fmt.Sprint(i) {
				t.Fatalf("mc:s%d out of order: %q", s, got)
			}
		}
		if len(got) != 50 {
			t.Errorf("mc:s%d has %d entries; want 50", s, len(got))
		}
	}
}
