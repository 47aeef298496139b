package relay

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcqq/bridge/minecraft"
)

// intakeGame is where every game event enters the relay. Events of ignored
// players (MC_IGNORE_PLAYERS) stop here, for QQ and the other servers alike,
// and so does a verification code said in chat (BIND_VERIFY); with
// JOIN_QUIT_DEBOUNCE a quit waits, and a join that follows within the
// window cancels it and is itself not relayed. Everything else goes on to
// handleGame at once.
func (r *Relay) intakeGame(s *server, ev minecraft.Event) {
	if r.o.IgnorePlayers.Match(ev.Player) {
		r.log.Debug("game event of an ignored player not relayed", "server", s.Name,
			"kind", ev.Kind.String(), "player", ev.Player)
		return
	}
	if r.verificationLine(s, ev) {
		return
	}
	if r.quits != nil && ev.Player != "" {
		key := s.Name + "\x00" + strings.ToLower(ev.Player)
		switch ev.Kind {
		case minecraft.Quit:
			r.quits.hold(key, func() { r.handleGame(s, ev) })
			return
		case minecraft.Join:
			if r.quits.cancel(key) {
				r.log.Debug("player back within JOIN_QUIT_DEBOUNCE: quit and join not relayed",
					"server", s.Name, "player", ev.Player)
				return
			}
		}
	}
	r.handleGame(s, ev)
}

// releaseHeldQuits relays the quits still waiting, at shutdown, so none is
// lost.
func (r *Relay) releaseHeldQuits() {
	if r.quits != nil {
		r.quits.flush()
	}
}

// quitHolder keeps quits back for a window. Each held quit is released
// exactly once — by its timer, or by flush — unless cancel drops it first.
// Releases run under the holder's lock, so flush returns only after every
// release has finished. Safe for concurrent use; a release must not call
// back into the holder.
type quitHolder struct {
	window time.Duration

	mu   sync.Mutex
	seq  int
	held map[string]*heldQuit
}

type heldQuit struct {
	seq     int // hold order, so flush releases in arrival order
	timer   *time.Timer
	release func()
}

// newQuitHolder returns a holder for window, or nil when window is not
// positive (JOIN_QUIT_DEBOUNCE=0s: nothing is held).
func newQuitHolder(window time.Duration) *quitHolder {
	if window <= 0 {
		return nil
	}
	return &quitHolder{window: window, held: map[string]*heldQuit{}}
}

// hold keeps release back for the window. A second quit for the same key
// replaces the first, so one line goes out.
func (h *quitHolder) hold(key string, release func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if old := h.held[key]; old != nil {
		old.timer.Stop()
	}
	h.seq++
	q := &heldQuit{seq: h.seq, release: release}
	h.held[key] = q
	q.timer = time.AfterFunc(h.window, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.held[key] != q {
			return // cancelled, replaced or flushed meanwhile
		}
		delete(h.held, key)
		q.release()
	})
}

// cancel drops the quit held for key and reports whether there was one.
func (h *quitHolder) cancel(key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	q := h.held[key]
	if q == nil {
		return false
	}
	q.timer.Stop()
	delete(h.held, key)
	return true
}

// flush releases every held quit now, oldest first.
func (h *quitHolder) flush() {
	h.mu.Lock()
	defer h.mu.Unlock()
	pending := make([]*heldQuit, 0, len(h.held))
	for key, q := range h.held {
		q.timer.Stop()
		pending = append(pending, q)
		delete(h.held, key)
	}
	slices.SortFunc(pending, func(a, b *heldQuit) int { return a.seq - b.seq })
	for _, q := range pending {
		q.release()
	}
}
