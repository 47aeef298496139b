package relay

import (
	"context"
	"sync"
	"time"
	"unsafe"

	"github.com/mcqq/bridge/internal/inbox"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// maxRendering is how many chat messages of one group may have their
// look-ups under way at once. Beyond it, intake waits and events wait in the
// client's inbox.
const maxRendering = 64

// Run relays until ctx ends, then shuts down in order: it stops taking
// events (the clients' inboxes are closed; later arrivals are counted), still
// handles every event it had read, and keeps delivering what is queued, all
// within DrainTimeout of ctx's end. It logs, once per direction, what it
// could not deliver.
//
// Concurrency: one goroutine takes QQ events and one per server takes game
// events; chat look-ups run concurrently per message, and one committer per
// group queues the rendered messages in arrival order; one sender per
// destination delivers. Commands run in goroutines of their own.
func (r *Relay) Run(ctx context.Context) error {
	// Everything after ctx ends shares one deadline.
	drainCtx, stopDrain := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDrain()
	var deadlineMu sync.Mutex
	var deadline *time.Timer
	stopWatch := context.AfterFunc(ctx, func() {
		deadlineMu.Lock()
		deadline = time.AfterFunc(r.o.DrainTimeout, stopDrain)
		deadlineMu.Unlock()
	})
	defer func() {
		stopWatch()
		deadlineMu.Lock()
		if deadline != nil {
			deadline.Stop()
		}
		deadlineMu.Unlock()
	}()

	// Senders start draining only once nothing can be queued any more
	// (events handled, running commands replied), and stop at drainCtx.
	intakeDone, endIntake := context.WithCancel(context.WithoutCancel(ctx))
	defer endIntake()
	var senders sync.WaitGroup
	var undeliveredMu sync.Mutex
	undelivered := map[string]int{}
	send := func(direction string, run func() int) {
		senders.Go(func() {
			if n := run(); n > 0 {
				undeliveredMu.Lock()
				undelivered[direction] += n
				undeliveredMu.Unlock()
			}
		})
	}
	for g, ob := range r.qqOut {
		send(mcToQQ, func() int { return ob.run(intakeDone, drainCtx, r.qq.State(), r.groupSender(g)) })
	}
	send(mcToQQ, func() int { return r.privOut.run(intakeDone, drainCtx, r.qq.State(), r.privateSender()) })
	for _, s := range r.servers {
		send(qqToMC, func() int { return s.out.run(intakeDone, drainCtx, s.Game.State(), r.gameSender(s)) })
	}

	in := &intake{cmdCtx: ctx, renderCtx: drainCtx, chats: map[int64]*chatPipeline{}}
	var committers sync.WaitGroup
	for g := range r.groups {
		p := &chatPipeline{jobs: make(chan *chatJob, maxRendering)}
		in.chats[g] = p
		committers.Go(func() { p.commit() })
	}
	var takers sync.WaitGroup
	takers.Go(func() { take(ctx, r.qq.Events(), func(ev qq.Event) { r.handleQQ(in, ev) }) })
	for _, s := range r.servers {
		takers.Go(func() { take(ctx, s.Game.Events(), func(ev minecraft.Event) { r.intakeGame(s, ev) }) })
	}
	takers.Wait()
	r.releaseHeldQuits() // JOIN_QUIT_DEBOUNCE: a quit still held goes out rather than being lost
	for _, p := range in.chats {
		close(p.jobs)
	}
	committers.Wait() // every chat message read is queued
	r.cmds.Wait()     // commands already running still get their replies queued
	endIntake()
	senders.Wait()

	late := map[string]int{qqToMC: r.qq.Events().Refused()}
	for _, s := range r.servers {
		late[mcToQQ] += s.Game.Events().Refused()
	}
	for _, dir := range []string{qqToMC, mcToQQ} {
		if late[dir] > 0 || undelivered[dir] > 0 {
			r.log.Warn("shutting down with messages not relayed", "direction", dir,
				"undelivered", undelivered[dir], "arrived_during_shutdown", late[dir])
		}
	}
	return nil
}

// take hands each event of in to handle, in order, until ctx ends; then it
// closes in and hands over what was already queued.
func take[T any](ctx context.Context, in *inbox.Inbox[T], handle func(T)) {
	for {
		for v, ok := in.Pop(); ok; v, ok = in.Pop() {
			handle(v)
		}
		select {
		case <-in.Ready():
		case <-ctx.Done():
			in.Close()
			for v, ok := in.Pop(); ok; v, ok = in.Pop() {
				handle(v)
			}
			return
		}
	}
}

// intake is what one Run hands the event handlers.
type intake struct {
	cmdCtx    context.Context // commands: ends at shutdown
	renderCtx context.Context // chat look-ups: end with the drain
	chats     map[int64]*chatPipeline
}

// chatPipeline keeps one group's chat in arrival order while the look-ups of
// several messages run at once: each message takes its place in jobs as it
// arrives, and the committer queues them for the servers in that order, each
// once its look-ups are done.
type chatPipeline struct {
	jobs chan *chatJob
}

type chatJob struct {
	servers []*server
	at      time.Time     // when the message was taken in
	done    chan struct{} // closed once comps is set
	comps   []minecraft.Component
}

// add queues a message whose components render returns; render runs in a
// goroutine of its own unless the message needs no look-up.
func (p *chatPipeline) add(servers []*server, async bool, render func() []minecraft.Component) {
	j := &chatJob{servers: servers, at: time.Now(), done: make(chan struct{})}
	p.jobs <- j // waits while maxRendering messages are being rendered
	if !async {
		j.comps = render()
		close(j.done)
		return
	}
	go func() {
		defer close(j.done)
		j.comps = render()
	}()
}

// commit queues each rendered message for its servers, in arrival order,
// until jobs is closed and empty.
func (p *chatPipeline) commit() {
	for j := range p.jobs {
		<-j.done
		size := componentsSize(j.comps)
		for _, s := range j.servers {
			s.out.push(gameMsg{Comps: j.comps}, j.at, size)
		}
	}
}

// componentsSize estimates the memory a message holds while queued: its
// text and links plus each component's own struct.
func componentsSize(cs []minecraft.Component) int {
	n := 0
	for _, c := range cs {
		n += int(unsafe.Sizeof(c)) + len(c.Text) + len(c.Color) + len(c.ClickURL) + len(c.ClickSuggest) +
			componentsSize(c.Hover) + componentsSize(c.Extra)
	}
	return n
}
