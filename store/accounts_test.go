package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func bindReq(qq int64, player string, group int64, max int, whitelist ...string) BindRequest {
	return BindRequest{Binding: Binding{QQ: qq, Player: player, Group: group, BoundAt: t0}, Max: max, Whitelist: whitelist}
}

func changeList(cs []WhitelistChange) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Server + " " + c.Action + " " + c.Player
	}
	return out
}

func pending(t testing.TB, a *Accounts, server string) []string {
	t.Helper()
	cs, err := a.PendingWhitelist(context.Background(), server)
	if err != nil {
		t.Fatal(err)
	}
	return changeList(cs)
}

// A name is bound once whatever its case; the member at the limit and a
// second claim on a name are refused with what the reply needs to say.
func TestBindRules(t *testing.T) {
	ctx := context.Background()
	a := open(t, t.TempDir(), Options{}).Accounts()
	changes, err := a.Bind(ctx, bindReq(111, "Steve", 7, 1, "survival", "creative"))
	if err != nil {
		t.Fatal(err)
	}
	if got := changeList(changes); !slices.Equal(got, []string{"survival add Steve", "creative add Steve"}) {
		t.Errorf("changes %q", got)
	}

	var taken *TakenError
	if _, err := a.Bind(ctx, bindReq(222, "steve", 7, 1, "survival")); !errors.As(err, &taken) || taken.Binding.QQ != 111 || taken.Binding.Player != "Steve" {
		t.Errorf("another member binding steve: %v", err)
	}
	if _, err := a.Bind(ctx, bindReq(111, "STEVE", 7, 1)); !errors.As(err, &taken) || taken.Binding.QQ != 111 {
		t.Errorf("the member binding their own name again: %v", err)
	}
	var limit *LimitError
	if _, err := a.Bind(ctx, bindReq(111, "Alex", 7, 1, "survival")); !errors.As(err, &limit) || limit.Max != 1 || len(limit.Bound) != 1 || limit.Bound[0].Player != "Steve" {
		t.Errorf("a second name over the limit: %v", err)
	}
	if _, err := a.Bind(ctx, bindReq(111, "Alex", 7, 2, "survival")); err != nil {
		t.Errorf("a second name under a limit of 2: %v", err)
	}
	// Refused binds queued nothing.
	if got := pending(t, a, "survival"); !slices.Equal(got, []string{"survival add Steve", "survival add Alex"}) {
		t.Errorf("survival's queue %q", got)
	}

	b, err := a.Binding(ctx, "sTeVe")
	if err != nil || b.QQ != 111 || b.Player != "Steve" || b.Group != 7 || !b.BoundAt.Equal(t0) {
		t.Errorf("look-up by name: %+v, %v", b, err)
	}
	if _, err := a.Binding(ctx, "Herobrine"); !errors.Is(err, ErrNotBound) {
		t.Errorf("unknown name: %v", err)
	}
	list, err := a.BindingsOf(ctx, 111)
	if err != nil || len(list) != 2 || list[0].Player != "Steve" || list[1].Player != "Alex" {
		t.Errorf("bindings of 111: %+v, %v", list, err)
	}
	if list, err := a.BindingsOf(ctx, 999); err != nil || len(list) != 0 {
		t.Errorf("bindings of nobody: %+v, %v", list, err)
	}
}

// Unbinding removes the binding and queues the removals; the name is free
// again; a binding already gone, or bound to someone else, is not removed.
func TestUnbind(t *testing.T) {
	ctx := context.Background()
	a := open(t, t.TempDir(), Options{}).Accounts()
	if _, err := a.Bind(ctx, bindReq(111, "Steve", 7, 1, "survival")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Unbind(ctx, Binding{QQ: 222, Player: "Steve"}, []string{"survival"}, t0); !errors.Is(err, ErrNotBound) {
		t.Errorf("unbinding someone else's name as if one's own: %v", err)
	}
	changes, err := a.Unbind(ctx, Binding{QQ: 111, Player: "steve"}, []string{"survival"}, t0)
	if err != nil || !slices.Equal(changeList(changes), []string{"survival remove steve"}) {
		t.Fatalf("unbind: %q, %v", changeList(changes), err)
	}
	if _, err := a.Unbind(ctx, Binding{QQ: 111, Player: "Steve"}, nil, t0); !errors.Is(err, ErrNotBound) {
		t.Errorf("unbinding twice: %v", err)
	}
	if _, err := a.Bind(ctx, bindReq(222, "Steve", 7, 1)); err != nil {
		t.Errorf("the name is not free again: %v", err)
	}
	if got := pending(t, a, "survival"); !slices.Equal(got, []string{"survival add Steve", "survival remove steve"}) {
		t.Errorf("queue %q", got)
	}
}

// Whitelist changes are applied once each, in order per server, and what
// is left survives a restart like the bindings.
func TestWhitelistChangesSurviveRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := db.Accounts()
	for i, name := range []string{"Steve", "Alex", "Notch"} {
		if _, err := a.Bind(ctx, bindReq(int64(100+i), name, 7, 1, "survival", "creative")); err != nil {
			t.Fatal(err)
		}
	}
	first, err := a.PendingWhitelist(ctx, "survival")
	if err != nil || len(first) != 3 {
		t.Fatalf("%+v, %v", first, err)
	}
	if err := a.WhitelistApplied(ctx, first[0].ID); err != nil {
		t.Fatal(err)
	}
	db.Close()

	a = open(t, dir, Options{}).Accounts()
	if got := pending(t, a, "survival"); !slices.Equal(got, []string{"survival add Alex", "survival add Notch"}) {
		t.Errorf("survival after restart %q", got)
	}
	if got := pending(t, a, "creative"); len(got) != 3 {
		t.Errorf("creative after restart %q", got)
	}
	if servers, err := a.WhitelistServers(ctx); err != nil || !slices.Equal(servers, []string{"creative", "survival"}) {
		t.Errorf("servers %q, %v", servers, err)
	}
	if total, latest, err := a.Latest(ctx, 2); err != nil || total != 3 || len(latest) != 2 || latest[0].Player != "Notch" || latest[1].Player != "Alex" {
		t.Errorf("latest: %d %+v %v", total, latest, err)
	}
}

// Writes are transactions on the real file: of many members binding one
// name at once exactly one wins, and one member racing for several names
// under a limit of one gets exactly one.
func TestConcurrentBindsExactlyOneWins(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// Separate handles, as two bridges (or the sqlite3 shell) would hold.
	dbs := []*Accounts{open(t, dir, Options{}).Accounts(), open(t, dir, Options{}).Accounts()}
	const racers = 8
	run := func(req func(i int) BindRequest) (wins int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range racers {
			wg.Go(func() {
				<-start
				_, err := dbs[i%len(dbs)].Bind(ctx, req(i))
				var taken *TakenError
				var limit *LimitError
				switch {
				case err == nil:
					mu.Lock()
					wins++
					mu.Unlock()
				case errors.As(err, &taken), errors.As(err, &limit):
				default:
					t.Errorf("racer %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		return wins
	}
	names := []string{"Steve", "steve", "STEVE", "sTeve"}
	if wins := run(func(i int) BindRequest { return bindReq(int64(1000+i), names[i%len(names)], 7, 1, "survival") }); wins != 1 {
		t.Errorf("%d members bound Steve", wins)
	}
	if wins := run(func(i int) BindRequest { return bindReq(42, fmt.Sprintf("Name%d", i), 7, 1, "survival") }); wins != 1 {
		t.Errorf("one member got %d names under a limit of 1", wins)
	}
	if got := pending(t, dbs[0], "survival"); len(got) != 2 {
		t.Errorf("queued %q; want one add per winner", got)
	}
}

// A verification binds only with its code, for its member and player,
// before it expires, and only once.
func TestVerification(t *testing.T) {
	ctx := context.Background()
	a := open(t, t.TempDir(), Options{}).Accounts()
	v := Verification{Code: "123456", QQ: 111, Player: "Steve", Group: 7, MessageID: "m1", Expires: t0.Add(10 * time.Minute)}
	if err := a.StartVerification(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := a.StartVerification(ctx, Verification{Code: "123456", QQ: 222, Player: "Alex", Expires: t0.Add(time.Hour)}); !errors.Is(err, ErrCodeInUse) {
		t.Errorf("a code in use: %v", err)
	}
	got, err := a.Verification(ctx, "123456", t0)
	if err != nil || got.QQ != 111 || got.Player != "Steve" || got.Group != 7 || got.MessageID != "m1" || !got.Expires.Equal(v.Expires) {
		t.Errorf("look-up: %+v, %v", got, err)
	}
	if _, err := a.Verification(ctx, "123456", t0.Add(10*time.Minute)); !errors.Is(err, ErrNoVerification) {
		t.Errorf("look-up once expired: %v", err)
	}

	confirm := func(qq int64, player string, now time.Time) error {
		req := bindReq(qq, player, 7, 1, "survival")
		req.Code, req.Now = "123456", now
		_, err := a.Bind(ctx, req)
		return err
	}
	if err := confirm(111, "Alex", t0); !errors.Is(err, ErrNoVerification) {
		t.Errorf("another player saying the code: %v", err)
	}
	if err := confirm(111, "Steve", t0.Add(11*time.Minute)); !errors.Is(err, ErrNoVerification) {
		t.Errorf("the code after it expired: %v", err)
	}
	if err := confirm(111, "steve", t0.Add(time.Minute)); err != nil {
		t.Errorf("the player saying the code in time: %v", err)
	}
	if err := confirm(111, "Steve", t0.Add(time.Minute)); !errors.Is(err, ErrNoVerification) {
		t.Errorf("the code used twice: %v", err)
	}

	// A new /bind replaces the member's pending code; expiry removes codes.
	for i, code := range []string{"000001", "000002"} {
		if err := a.StartVerification(ctx, Verification{Code: code, QQ: 333, Player: "Notch", Expires: t0.Add(time.Duration(i+1) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Verification(ctx, "000001", t0); !errors.Is(err, ErrNoVerification) {
		t.Errorf("the replaced code still counts: %v", err)
	}
	if err := a.StartVerification(ctx, Verification{Code: "000003", QQ: 444, Player: "Jeb", Expires: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n, err := a.ExpireVerifications(ctx, t0.Add(5*time.Minute)); err != nil || n != 1 {
		t.Errorf("expired %d, %v; want 1", n, err)
	}
	if _, err := a.Verification(ctx, "000003", t0.Add(5*time.Minute)); err != nil {
		t.Errorf("an unexpired code was removed: %v", err)
	}
}

// A database made by the bridge before accounts existed gains the tables
// and keeps what it held.
func TestAccountsMigrationKeepsOlderData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	raw := rawDB(t, filepath.Join(dir, FileName))
	if err := migrate(ctx, raw, migrations[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO queued_messages (destination, enqueued_at, payload) VALUES ('mc:survival', 1, x'68')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db := open(t, dir, Options{})
	if got := payloads(t, db.Queue(), "mc:survival"); !slices.Equal(got, []string{"h"}) {
		t.Errorf("queue after the upgrade %q", got)
	}
	if _, err := db.Accounts().Bind(ctx, bindReq(111, "Steve", 7, 1)); err != nil {
		t.Errorf("binding after the upgrade: %v", err)
	}
}
