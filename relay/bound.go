package relay

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mcqq/bridge/store"
)

// boundPlayers are the player names bound to user, shown in the hover of
// their messages in game; none when accounts are off or the database
// cannot say. Answers are cached (see boundCache), as every message asks.
func (r *Relay) boundPlayers(budget *lookupBudget, user int64) []string {
	if r.o.Accounts == nil || user == 0 {
		return nil
	}
	if names, ok := r.bound.get(user, r.now()); ok {
		return names
	}
	gen := r.bound.generation()
	list, err := r.o.Accounts.BindingsOf(budget.context(), user)
	if err != nil {
		r.log.Debug("cannot read a sender's bindings", "user", user, "err", err.Error())
		return nil
	}
	names := playerNames(list)
	r.bound.put(user, names, gen, r.now())
	return names
}

// boundCache remembers the names bound to senders. Any binding made or
// removed through the bridge empties it (they are rare); an edit made
// with the sqlite3 shell shows within boundTTL. A load that began before a
// change is not stored. Safe for concurrent use.
type boundCache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[int64]boundEntry
}

type boundEntry struct {
	names []string
	at    time.Time
}

const (
	boundTTL     = time.Minute
	boundEntries = 4096 // beyond this the cache starts again empty
)

func (c *boundCache) get(user int64, now time.Time) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[user]
	if !ok || now.Sub(e.at) >= boundTTL || now.Before(e.at) {
		return nil, false
	}
	return e.names, true
}

func (c *boundCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put stores names loaded since generation gen, unless a change came
// between.
func (c *boundCache) put(user int64, names []string, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil || len(c.entries) >= boundEntries {
		c.entries = map[int64]boundEntry{}
	}
	c.entries[user] = boundEntry{names: names, at: now}
}

// changed forgets everything: a binding was made or removed.
func (c *boundCache) changed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries = nil
}

// boundMemberName is {qq} for a game event's player: the card, else the
// nickname, of the member bound to them in the group they bound in (the
// number when the look-up fails); "" when nobody is bound. Only looked up
// when a template shows it.
func (r *Relay) boundMemberName(player string) string {
	if !r.showQQName || player == "" {
		return ""
	}
	// Events read during shutdown still get their line, within the drain.
	ctx, cancel := context.WithTimeout(r.lifeCtx(), r.o.RequestTimeout)
	defer cancel()
	b, err := r.o.Accounts.Binding(ctx, player)
	if err != nil {
		if !errors.Is(err, store.ErrNotBound) {
			r.log.Debug("cannot read a player's binding", "player", player, "err", err.Error())
		}
		return ""
	}
	if name := r.memberName(ctx, b.Group, b.QQ); name != "" {
		return name
	}
	return strconv.FormatInt(b.QQ, 10)
}

// lifeCtx is the context look-ups made while handling events run under: it
// ends when Run's drain ends (so events read before shutdown are still
// handled), or the background before Run.
func (r *Relay) lifeCtx() context.Context {
	if r.life != nil {
		return r.life
	}
	return context.Background()
}

// startAccounts starts, in wg, each whitelist server's sync and the expiry
// of verification codes, which end with ctx, and logs the whitelist
// changes left waiting for servers that no longer keep a whitelist.
func (r *Relay) startAccounts(ctx context.Context, wg *sync.WaitGroup) {
	if r.o.Accounts == nil {
		return
	}
	for _, s := range r.servers {
		if s.wl != nil {
			wg.Go(func() { s.wl.run(ctx) })
		}
	}
	if r.o.Bind.Verify {
		wg.Go(func() { r.sweepCodes(ctx) })
	}
	waiting, err := r.o.Accounts.WhitelistServers(ctx)
	if err != nil {
		r.log.Warn("cannot list the whitelist changes waiting", "err", err.Error())
	}
	for _, name := range waiting {
		if s := r.byName[strings.ToLower(name)]; s == nil || s.wl == nil {
			r.log.Warn("whitelist changes wait for a server that does not keep its whitelist in step (unknown, or its whitelist setting is off); they stay in the database",
				"server", name)
		}
	}
}
