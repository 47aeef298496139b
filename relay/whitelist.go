package relay

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/store"
)

// whitelistSync applies one server's whitelist changes (MC_<n>_WHITELIST),
// in the order they were stored, over the server's console path: direct
// RCON when configured, else QueQiao's send_rcon_command. Changes wait in
// the database while the server is down or failing and are applied when it
// is back, also after a restart of the bridge. A change leaves the database
// once the server has answered it; should that answer be lost, the change
// runs again, which whitelist add/remove take in their stride.
//
// run is the one goroutine applying changes; await may be called from any
// goroutine.
type whitelistSync struct {
	r    *Relay
	s    *server
	kick chan struct{} // one pending wake-up

	mu      sync.Mutex
	waiters map[int64][]chan whitelistOutcome
	// done remembers the last outcomes, for a waiter that registers after
	// its change was applied by a pass already under way.
	done      map[int64]whitelistOutcome
	doneOrder []int64

	failing bool // run only: the last attempt failed (logged once per streak)
}

// whitelistOutcome is what became of one change.
type whitelistOutcome struct {
	applied bool
	output  string // applied: what the server answered
	down    bool   // not applied: the server is not connected
	err     error  // not applied: why, when connected
}

// Retry pauses while the server is connected but a change fails (a timeout,
// the plugin's RCON switched off): 1 s doubling to a minute.
const (
	whitelistRetryMin = time.Second
	whitelistRetryMax = time.Minute
	// maxRemembered bounds done.
	maxRemembered = 256
)

func newWhitelistSync(r *Relay, s *server) *whitelistSync {
	return &whitelistSync{r: r, s: s, kick: make(chan struct{}, 1),
		waiters: map[int64][]chan whitelistOutcome{}, done: map[int64]whitelistOutcome{}}
}

// consoleState is the state of the path console commands take.
func (s *server) consoleState() *link.State {
	if s.Console != nil {
		return s.Console.State()
	}
	return s.Game.State()
}

func (w *whitelistSync) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// run applies changes until ctx ends: at start (what the last run left),
// when woken, when the connection changes state, and after a pause when a
// change failed while connected.
func (w *whitelistSync) run(ctx context.Context) {
	pause := time.Duration(0)
	for {
		changed := w.s.consoleState().Changed()
		var retry *time.Timer
		if w.pass(ctx) {
			pause = min(max(2*pause, whitelistRetryMin), whitelistRetryMax)
			retry = time.NewTimer(pause)
		} else {
			pause = 0
			retry = time.NewTimer(whitelistRetryMax) // a stale state may hide a server that is back
		}
		select {
		case <-ctx.Done():
		case <-w.kick:
		case <-changed:
		case <-retry.C:
		}
		retry.Stop()
		if ctx.Err() != nil {
			return
		}
	}
}

// pass applies the pending changes in order until one fails, and reports
// whether to try again after a pause (it failed while connected).
func (w *whitelistSync) pass(ctx context.Context) (retry bool) {
	log := w.r.log.With("server", w.s.Name)
	changes, err := w.r.o.Accounts.PendingWhitelist(ctx, w.s.Name)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("cannot read the whitelist changes waiting; trying again shortly", "err", err.Error())
		}
		return ctx.Err() == nil
	}
	for i, c := range changes {
		if !w.s.consoleState().Up() {
			w.settle(changes[i:], whitelistOutcome{down: true})
			return false
		}
		cctx, cancel := context.WithTimeout(ctx, w.r.o.RequestTimeout)
		out, err := w.r.console(cctx, w.s, "whitelist "+c.Action+" "+c.Player)
		cancel()
		if err != nil {
			down := !w.s.consoleState().Up() || errors.Is(err, link.ErrNotConnected)
			w.settle(changes[i:], whitelistOutcome{down: down, err: err})
			if ctx.Err() != nil {
				return false
			}
			if !w.failing {
				log.Warn("whitelist change not applied yet; it waits and is tried again",
					"action", c.Action, "player", c.Player, "err", err.Error())
			}
			w.failing = true
			return !down
		}
		if w.failing {
			log.Info("whitelist changes go through again")
			w.failing = false
		}
		out = strings.TrimSpace(out)
		log.Info("whitelist changed", "action", c.Action, "player", c.Player, "output", out)
		w.settle([]store.WhitelistChange{c}, whitelistOutcome{applied: true, output: out})
		if err := w.r.o.Accounts.WhitelistApplied(ctx, c.ID); err != nil {
			// It stays first and runs again on the next pass (the command is
			// harmless twice); the changes after it wait for it, so they
			// never run out of order.
			log.Warn("cannot mark a whitelist change done; trying again shortly", "id", c.ID, "err", err.Error())
			return ctx.Err() == nil
		}
	}
	return false
}

// settle hands each change's outcome to whoever awaits it.
func (w *whitelistSync) settle(changes []store.WhitelistChange, o whitelistOutcome) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range changes {
		for _, ch := range w.waiters[c.ID] {
			ch <- o // buffered, one outcome per waiter
		}
		delete(w.waiters, c.ID)
		if o.applied {
			w.done[c.ID] = o
			w.doneOrder = append(w.doneOrder, c.ID)
			if len(w.doneOrder) > maxRemembered {
				delete(w.done, w.doneOrder[0])
				w.doneOrder = w.doneOrder[1:]
			}
		}
	}
}

// await wakes the syncer and waits for the outcome of change id: applied,
// or not yet (the server is down or failing). It gives up after two
// request timeouts (a change may wait behind another) or when ctx ends,
// and then says the change is still waiting.
func (w *whitelistSync) await(ctx context.Context, id int64) whitelistOutcome {
	ch := make(chan whitelistOutcome, 1)
	w.mu.Lock()
	if o, ok := w.done[id]; ok {
		w.mu.Unlock()
		return o
	}
	w.waiters[id] = append(w.waiters[id], ch)
	w.mu.Unlock()
	w.wake()
	t := time.NewTimer(2 * w.r.o.RequestTimeout)
	defer t.Stop()
	select {
	case o := <-ch:
		return o
	case <-t.C:
	case <-ctx.Done():
	}
	w.mu.Lock()
	list := w.waiters[id]
	for i, c := range list {
		if c == ch {
			w.waiters[id] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(w.waiters[id]) == 0 {
		delete(w.waiters, id)
	}
	w.mu.Unlock()
	select {
	case o := <-ch: // settled meanwhile
		return o
	default:
	}
	return whitelistOutcome{down: !w.s.consoleState().Up(), err: context.DeadlineExceeded}
}

// applyWhitelist waits for each change's outcome (all servers at once) and
// describes them, one line per server.
func (r *Relay) applyWhitelist(ctx context.Context, changes []store.WhitelistChange) []string {
	lines := make([]string, len(changes))
	var wg sync.WaitGroup
	for i, c := range changes {
		s := r.byName[strings.ToLower(c.Server)]
		if s == nil || s.wl == nil {
			lines[i] = "[" + c.Server + "] " + describeWhitelist(c, whitelistOutcome{down: true})
			continue
		}
		wg.Go(func() { lines[i] = "[" + s.Name + "] " + describeWhitelist(c, s.wl.await(ctx, c.ID)) })
	}
	wg.Wait()
	return lines
}

// describeWhitelist is a change's outcome in the members' words.
func describeWhitelist(c store.WhitelistChange, o whitelistOutcome) string {
	add := c.Action == store.WhitelistAdd
	switch {
	case o.applied && strings.Contains(strings.ToLower(o.output), "does not exist"):
		// Vanilla's answer for a name no account has.
		return "服务器找不到玩家 " + c.Player + "，未能加入白名单"
	case o.applied && add:
		return "已加入白名单"
	case o.applied:
		return "已移出白名单"
	case o.down && add:
		return "未连接，恢复后自动加入"
	case o.down:
		return "未连接，恢复后自动移出"
	}
	return "暂未完成（" + whitelistReason(o.err) + "），稍后自动重试"
}

func whitelistReason(err error) string {
	var me *minecraft.APIError
	switch {
	case errors.As(err, &me):
		return me.Message
	case errors.Is(err, context.DeadlineExceeded):
		return "服务器没有及时回应"
	}
	return "连接出错"
}
