package relay

import (
	"context"
	"sync"
	"time"

	"github.com/mcqq/bridge/internal/inbox"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// Rendering limits: at most maxRendering chat messages have look-ups under
// way at once (over all servers), and a server holds at most maxPerServer
// messages in its pipeline before intake waits for it (events then wait in
// the client's inbox). A message whose look-ups are slow thus holds up only
// the servers it goes to, and the others only once that many wait.
const (
	maxRendering = 64
	maxPerServer = 256
)

// Run relays until ctx ends, then shuts down in order: it stops taking
// events (the clients' inboxes are closed; later arrivals are counted
// there), still handles every event it had read, and keeps delivering what
// is queued, all within DrainTimeout of ctx's end. What it could not deliver
// stays queued; Undelivered counts it.
//
// Concurrency: one goroutine takes QQ events and one per server takes game
// events; chat look-ups run concurrently per message, and one committer per
// server queues the rendered messages in arrival order; one sender per
// destination delivers. Commands run in goroutines of their own.
func (r *Relay) Run(ctx context.Context) error {
	// Everything after ctx ends shares one deadline. (Cancelling twice is
	// harmless, so the timer needs no stopping.)
	drainCtx, stopDrain := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDrain()
	stopWatch := context.AfterFunc(ctx, func() { time.AfterFunc(r.o.DrainTimeout, stopDrain) })
	defer stopWatch()

	// What waited for a destination when the bridge last stopped goes
	// first.
	r.restoreQueues(ctx)

	// Senders start draining only once nothing can be queued any more
	// (events handled, running commands replied), and stop at drainCtx.
	intakeDone, endIntake := context.WithCancel(context.WithoutCancel(ctx))
	defer endIntake()
	var senders sync.WaitGroup
	for g, ob := range r.qqOut {
		senders.Go(func() { ob.run(intakeDone, drainCtx, r.groupSender(g)) })
	}
	senders.Go(func() { r.privOut.run(intakeDone, drainCtx, r.privateSender()) })
	for _, s := range r.servers {
		senders.Go(func() { s.out.run(intakeDone, drainCtx, r.gameSender(s)) })
	}
	// What waits for a destination that goes down is written to the
	// database at once.
	var watchers sync.WaitGroup
	stopWatching := make(chan struct{})
	r.eachOutbox(func(ob anyOutbox) { watchers.Go(func() { ob.watchDown(stopWatching) }) })

	r.life = drainCtx             // look-ups for what intake handles end with the drain
	var background sync.WaitGroup // whitelist sync, expiry of codes
	r.startAccounts(ctx, &background)

	in := &intake{cmdCtx: ctx, chats: map[*server]*chatPipeline{},
		rendering: make(chan struct{}, maxRendering)}
	var committers sync.WaitGroup
	for _, s := range r.servers {
		p := &chatPipeline{to: s, jobs: make(chan *chatJob, maxPerServer)}
		in.chats[s] = p
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
	background.Wait()
	endIntake()
	senders.Wait()
	close(stopWatching)
	watchers.Wait()
	// Whatever is left (delivered no more within the drain, or queued by
	// intake after a sender gave up) waits in the database for the next
	// start.
	r.eachOutbox(func(ob anyOutbox) { ob.saveWaiting() })
	return nil
}

// anyOutbox is what is done with every outbox whatever it holds.
type anyOutbox interface {
	queueName() string
	Len() int
	restore(ctx context.Context)
	watchDown(done <-chan struct{})
	saveWaiting()
}

// eachOutbox calls f with every outbox: private messages, the groups', the
// servers'.
func (r *Relay) eachOutbox(f func(anyOutbox)) {
	f(r.privOut)
	for _, ob := range r.qqOut {
		f(ob)
	}
	for _, s := range r.servers {
		f(s.out)
	}
}

// restoreQueues puts back what the database kept for each destination and
// drops what it kept for destinations no longer configured.
func (r *Relay) restoreQueues(ctx context.Context) {
	if r.o.Durable == nil {
		return
	}
	known := map[string]bool{}
	r.eachOutbox(func(ob anyOutbox) { known[ob.queueName()] = true })
	dropUnknownDestinations(ctx, r.o.Durable, known, r.log)
	r.eachOutbox(func(ob anyOutbox) { ob.restore(ctx) })
}

// Undelivered is how many messages are still queued in each direction
// ("qq_to_mc" includes cross-server lines; "mc_to_qq" includes command
// replies). After Run has returned it is what shutdown could not deliver.
func (r *Relay) Undelivered() map[string]int {
	n := map[string]int{qqToMC: 0, mcToQQ: r.privOut.Len()}
	for _, ob := range r.qqOut {
		n[mcToQQ] += ob.Len()
	}
	for _, s := range r.servers {
		n[qqToMC] += s.out.Len()
	}
	return n
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
	cmdCtx    context.Context // commands: ends at shutdown; chat look-ups use r.lifeCtx(), which ends with the drain
	chats     map[*server]*chatPipeline
	rendering chan struct{} // one token per message whose look-ups are under way
}

// chatPipeline keeps the chat going to one server in arrival order while
// the look-ups of several messages run at once: each message takes its place
// in the pipelines of its servers as it arrives, and each server's committer
// queues them in that order, each once its look-ups are done.
type chatPipeline struct {
	to   *server
	jobs chan *chatJob
}

type chatJob struct {
	at    time.Time     // when the message was taken in
	done  chan struct{} // closed once comps and size are set
	comps []minecraft.Component
	size  int
}

// addChat queues a chat message for servers; render returns its
// components, in a goroutine of its own unless the message needs no
// look-up. Only the taker calls it, so each server sees messages in the
// order they arrived.
func (in *intake) addChat(servers []*server, async bool, render func() []minecraft.Component) {
	j := &chatJob{at: time.Now(), done: make(chan struct{})}
	for _, s := range servers {
		in.chats[s].jobs <- j // waits while the server has maxPerServer messages in its pipeline
	}
	fill := func() {
		j.comps = render()
		j.size = componentsSize(j.comps)
	}
	if !async {
		fill()
		close(j.done)
		return
	}
	go func() {
		in.rendering <- struct{}{}
		fill()
		<-in.rendering // before done, so no goroutine is left once the committers are
		close(j.done)
	}()
}

// commit queues each rendered message for the server, in arrival order,
// until jobs is closed and empty.
func (p *chatPipeline) commit() {
	for j := range p.jobs {
		<-j.done
		p.to.out.push(gameMsg{Comps: j.comps}, j.at, j.size)
	}
}

// componentOverhead is about what one minecraft.Component struct costs.
const componentOverhead = 200

// componentsSize estimates the memory a message holds while queued: its
// text and links plus each component's own struct.
func componentsSize(cs []minecraft.Component) int {
	n := 0
	for _, c := range cs {
		n += componentOverhead + len(c.Text) + len(c.Color) + len(c.ClickURL) + len(c.ClickSuggest) +
			componentsSize(c.Hover) + componentsSize(c.Extra)
	}
	return n
}
