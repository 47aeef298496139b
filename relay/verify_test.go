package relay

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcqq/bridge/store"
)

// Codes nobody said are removed by the periodic sweep once their ten
// minutes are up, on the fake clock of a synctest bubble; one still
// running is kept.
func TestExpiredCodesAreSwept(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		db, err := store.Open(context.Background(), dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		accounts := db.Accounts()
		r := &Relay{o: Options{Accounts: accounts, Bind: BindOptions{Verify: true}}, now: time.Now,
			log: slog.New(slog.DiscardHandler)}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { r.sweepCodes(ctx); close(done) }()

		start := time.Now()
		for _, v := range []store.Verification{
			{Code: "111111", QQ: 1, Player: "Steve", Expires: start.Add(VerifyWindow)},
			{Code: "222222", QQ: 2, Player: "Alex", Expires: start.Add(VerifyWindow + 5*time.Minute)},
		} {
			if err := accounts.StartVerification(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		pending := func(code string) bool {
			// Looked up at the start, so an expired code counts only while stored.
			_, err := accounts.Verification(context.Background(), code, start)
			return !errors.Is(err, store.ErrNoVerification)
		}
		time.Sleep(VerifyWindow - time.Second)
		synctest.Wait()
		if !pending("111111") || !pending("222222") {
			t.Fatal("a code went before its time")
		}
		time.Sleep(sweepEvery + time.Second)
		synctest.Wait()
		if pending("111111") {
			t.Error("an expired code is still stored after a sweep")
		}
		if !pending("222222") {
			t.Error("a running code was swept")
		}
		cancel()
		<-done
	})
}
