package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/mcqq/bridge/internal/inbox"
	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/internal/listener"
	"github.com/mcqq/bridge/internal/redact"
	"github.com/mcqq/bridge/minecraft/queqiao"
	"github.com/mcqq/bridge/minecraft/rcon"
	"github.com/mcqq/bridge/qq/milky"
	"github.com/mcqq/bridge/qq/onebot"
	"github.com/mcqq/bridge/qq/satori"
	"github.com/mcqq/bridge/relay"
	"github.com/mcqq/bridge/store"
)

// listenerLimits bound every listener (QQ_LISTEN, MC_LISTEN, HTTP_LISTEN);
// the defaults, which tests shorten.
var listenerLimits = listener.Limits{}

// qqClient is the QQ connection as main sees it: what the relay uses, plus
// its run loop and, for QQ_LISTEN, its HTTP handler (OneBot reverse
// WebSocket or Milky webhook).
type qqClient interface {
	relay.QQ
	http.Handler
	Run(ctx context.Context) error
}

// withoutListener is a QQ client that takes no connections: Satori events
// come over the stream it dials, and the configuration refuses QQ_LISTEN.
type withoutListener struct{ *satori.Client }

func (withoutListener) ServeHTTP(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }

var (
	_ qqClient      = (*onebot.Client)(nil)
	_ qqClient      = (*milky.Client)(nil)
	_ qqClient      = withoutListener{}
	_ relay.Game    = (*queqiao.Client)(nil)
	_ relay.Console = (*rcon.Console)(nil)
)

// bridge is every part of one running service.
type bridge struct {
	cfg      *Config
	log      *slog.Logger
	qq       qqClient
	games    []*queqiao.Client
	consoles []*rcon.Console // nil entries where RCON is not configured
	relay    *relay.Relay
	metrics  *metrics.Set
	db       *store.DB // open while run runs; nil without DATA_DIR
	handled  *handledMessages
	queue    *durableQueue
	accounts *accountBook     // nil without BIND or a database
	redactor *redact.Redactor // for whatever shows connection errors or URLs
	// clock is the relay's clock for bindings and verification codes; a
	// test may replace it before run.
	clock func() time.Time
}

// build turns the configuration into connected-up parts; it does no I/O.
func build(cfg *Config, log *slog.Logger) (*bridge, error) {
	b := &bridge{cfg: cfg, log: log, metrics: metrics.NewSet(), handled: &handledMessages{log: log},
		queue:    &durableQueue{},
		redactor: cfg.Redactor(), clock: time.Now}
	// Events wait for the relay in each client's inbox, bounded like a
	// queue (count fixed, bytes QUEUE_BYTES); drops are counted per inbox.
	inboxFor := func(name string) inbox.Options {
		dropped := b.metrics.GetOrCreateCounter(fmt.Sprintf(`bridge_messages_dropped_total{queue=%q}`, "in:"+name))
		return inbox.Options{MaxBytes: int64(cfg.QueueBytes), OnDrop: func(n int) { dropped.Add(n) }}
	}
	var err error
	switch cfg.QQProtocol {
	case ProtocolMilky:
		b.qq, err = milky.New(milky.Options{BaseURL: cfg.QQURL, AccessToken: cfg.QQToken,
			Webhook: cfg.QQListen != "", RequestTimeout: cfg.RequestTimeout, Logger: log.With("conn", "qq"),
			Inbox: inboxFor("qq")})
	case ProtocolSatori:
		var c *satori.Client
		c, err = satori.New(satori.Options{BaseURL: cfg.QQURL, AccessToken: cfg.QQToken,
			RequestTimeout: cfg.RequestTimeout, Logger: log.With("conn", "qq"), Inbox: inboxFor("qq")})
		b.qq = withoutListener{c}
	default:
		b.qq, err = onebot.New(onebot.Options{URL: cfg.QQURL, AccessToken: cfg.QQToken,
			Webhook:        cfg.QQListen != "" && cfg.QQURL != "", // with an http:// QQ_URL (config checks)
			RequestTimeout: cfg.RequestTimeout,
			Logger:         log.With("conn", "qq"),
			Inbox:          inboxFor("qq")})
	}
	if err != nil {
		return nil, fmt.Errorf("qq: %w", err)
	}
	b.qq.State().SetHint(qqHint(cfg))

	var servers []relay.Server
	for _, s := range cfg.Servers {
		g, err := queqiao.New(queqiao.Options{Name: s.Name, URL: s.WSURL, Token: s.Token,
			GameVersion: string(s.GameVersion), RequestTimeout: cfg.RequestTimeout,
			Logger: log, Inbox: inboxFor("mc:" + s.Name)})
		if err != nil {
			return nil, fmt.Errorf("queqiao %s: %w", s.Name, err)
		}
		g.State().SetHint(gameHint(s))
		b.games = append(b.games, g)
		rs := relay.Server{Name: s.Name, Groups: s.Groups, Game: g, Whitelist: s.Whitelist}
		var c *rcon.Console
		if s.RCONAddr != "" {
			c = rcon.New(rcon.Options{Addr: s.RCONAddr, Password: s.RCONPassword,
				Timeout: cfg.RequestTimeout, Logger: log.With("server", s.Name)})
			c.State().SetHint(rconHint(s))
			rs.Console = c
		}
		b.consoles = append(b.consoles, c)
		servers = append(servers, rs)
	}

	var accounts relay.Accounts // a nil interface when off
	if cfg.Bind && cfg.DataDir != "" {
		b.accounts = &accountBook{}
		accounts = b.accounts
	}
	b.relay, err = relay.New(b.qq, servers, relay.Options{
		Accounts: accounts, Bind: cfg.bindOptions(), Now: func() time.Time { return b.clock() },
		Admins: cfg.QQAdmins, AdminRoles: cfg.QQAdminRoles,
		SyncQQToMC: cfg.SyncQQToMC, SyncMCToQQ: cfg.SyncMCToQQ,
		QQSyncPrefix: cfg.QQSyncPrefix, QQIgnorePrefixes: cfg.QQIgnorePrefixes,
		MCIgnorePrefixes: cfg.MCIgnorePrefixes, ShowServerName: cfg.ShowServerName,
		ShowGroupName: cfg.ShowGroupName, CrossServerChat: cfg.CrossServerChat,
		ChatImage: cfg.ChatImage, ImageToQQ: cfg.MCImageToQQ,
		IgnorePlayers: cfg.MCIgnorePlayers.PlayerPatterns, JoinQuitDebounce: cfg.JoinQuitDebounce,
		GroupRate: cfg.QQGroupRate.N, GroupRatePeriod: cfg.QQGroupRate.Period, GroupRateBurst: cfg.QQGroupRate.Burst,
		Templates: cfg.Templates(), CommandPrefix: cfg.CommandPrefix,
		RCONPublic: cfg.RCONPublic, RCONDeny: cfg.RCONDeny,
		QueueSize: cfg.QueueSize, QueueBytes: int64(cfg.QueueBytes), QueueTTL: cfg.QueueTTL,
		RequestTimeout: cfg.RequestTimeout,
		DrainTimeout:   relay.DefaultDrainTimeout, Logger: log, Metrics: b.metrics, Seen: b.handled, SeenFor: store.DefaultHandledFor, Durable: b.durable(),
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// connections names every supervised connection and its state, for /readyz,
// /metrics and -check.
func (b *bridge) connections() []namedState {
	out := []namedState{{Name: "qq", Kind: "qq", State: b.qq.State(), Required: true}}
	for i, g := range b.games {
		name := b.cfg.Servers[i].Name
		out = append(out, namedState{Name: name, Kind: "queqiao", Server: name, State: g.State(), Required: true})
		if c := b.consoles[i]; c != nil {
			out = append(out, namedState{Name: name + "/rcon", Kind: "rcon", Server: name, State: c.State()})
		}
	}
	return out
}

type namedState struct {
	Name     string
	Kind     string // qq, queqiao, rcon
	Server   string
	State    *link.State
	Required bool // counts for /readyz
}

// serve runs the bridge until ctx ends, then shuts down: it stops
// accepting, delivers what is queued for up to relay.DefaultDrainTimeout
// (what remains is kept in the database, when there is one), and closes the
// connections with 1000 (normal closure).
func serve(ctx context.Context, cfg *Config, log *slog.Logger) error {
	b, err := build(cfg, log)
	if err != nil {
		return err
	}
	qqTarget := b.redactor.String(cfg.QQURL)
	if qqTarget == "" {
		qqTarget = "listening on " + cfg.QQListen
	}
	for _, s := range cfg.Servers {
		target := b.redactor.String(s.WSURL)
		if target == "" {
			target = "dials in on " + cfg.MCListen
		}
		log.Info("server", "server", s.Name, "queqiao", target, "rcon", s.RCONAddr != "", "groups", fmt.Sprint([]int64(s.Groups)))
	}
	log.Info("starting", "qq", cfg.QQProtocol.String()+" "+qqTarget, "servers", len(cfg.Servers))
	return b.run(ctx)
}

func (b *bridge) run(ctx context.Context) error {
	// The database first: without it nothing queued would survive, so a
	// DATA_DIR that cannot be used stops start-up. Closed last, after the
	// relay has drained into it.
	if b.cfg.DataDir != "" {
		db, err := openStore(ctx, b.cfg.DataDir)
		if err != nil {
			return err
		}
		b.db = db
		handled, err := db.LoadHandled(ctx)
		if err != nil {
			db.Close()
			return fmt.Errorf("DATA_DIR %s: %w", b.cfg.DataDir, err)
		}
		b.handled.ids.Store(handled)
		b.queue.q.Store(db.Queue())
		if b.accounts != nil {
			b.accounts.db.Store(db.Accounts())
		}
		// Handled message ids are written in the background until the relay
		// is done, then the rest.
		writeCtx, stopWriting := context.WithCancel(context.WithoutCancel(ctx))
		writerDone := make(chan struct{})
		go func() {
			defer close(writerDone)
			handled.Run(writeCtx, func(err error) { b.log.Warn("cannot record handled message ids", "err", err.Error()) })
		}()
		defer func() {
			stopWriting()
			<-writerDone
			b.handled.ids.Store(nil)
			b.queue.q.Store(nil)
			if b.accounts != nil {
				b.accounts.db.Store(nil)
			}
			db.Close()
		}()
		b.log.Info("database", "path", db.Path())
	}
	// Connections live until the relay has drained, so they get their own
	// context, cancelled only after relay.Run returns.
	connCtx, stopConns := context.WithCancelCause(context.WithoutCancel(ctx))
	var conns sync.WaitGroup
	// The first fatal error stops the bridge; later ones are only logged, so
	// that no goroutine blocks reporting one.
	fatal := make(chan error, 1)
	report := func(err error) {
		select {
		case fatal <- err:
		default:
			b.log.Error("fatal", "err", err)
		}
	}
	start := func(name string, f func(context.Context) error) {
		conns.Go(func() {
			if err := f(connCtx); err != nil && connCtx.Err() == nil {
				report(fmt.Errorf("%s: %w", name, err))
			}
		})
	}

	// Listeners first, so a bind failure stops start-up at once.
	var servers []*http.Server
	listen := func(name, addr string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s %s: %w", name, addr, err)
		}
		// Header and body deadlines, 32 requests read at once (8 from one
		// address), 4 MiB bodies, 1024 connections (64 from one address).
		log := b.log.With("listener", name)
		ln = listener.LimitConns(ln, listenerLimits, log)
		srv := listener.NewServer(h, listenerLimits, log)
		servers = append(servers, srv)
		b.log.Info("listening", "listener", name, "addr", ln.Addr().String())
		conns.Go(func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				report(fmt.Errorf("%s: %w", name, err))
			}
		})
		return nil
	}
	closeListeners := func() {
		for _, s := range servers {
			_ = s.Close() // hijacked WebSockets are not affected; connCtx ends them
		}
	}
	// stopAll ends everything run started; deferred too, so that nothing
	// outlives run when a listener cannot bind.
	stopAll := func() {
		closeListeners()
		stopConns(errors.New("shutdown"))
		conns.Wait()
	}
	defer stopAll()
	if !b.cfg.HTTPListen.None() {
		if err := listen("HTTP_LISTEN", string(b.cfg.HTTPListen), b.httpHandler()); err != nil {
			return err
		}
	}
	if b.cfg.QQListen != "" {
		if err := listen("QQ_LISTEN", b.cfg.QQListen, b.qq); err != nil {
			return err
		}
	}
	if b.cfg.MCListen != "" {
		var reverse []*queqiao.Client
		for i, g := range b.games {
			if b.cfg.Servers[i].WSURL == "" {
				reverse = append(reverse, g)
			}
		}
		if err := listen("MC_LISTEN", b.cfg.MCListen, queqiao.NewListener(reverse, b.log.With("conn", "mc_listen"))); err != nil {
			return err
		}
	}

	start("qq", b.qq.Run)
	for i, g := range b.games {
		start("queqiao "+b.cfg.Servers[i].Name, g.Run)
		if c := b.consoles[i]; c != nil {
			start("rcon "+b.cfg.Servers[i].Name, c.Run)
		}
	}
	for _, c := range b.connections() {
		conns.Go(func() { watchState(connCtx, c, b.metrics) })
	}

	relayCtx, stopRelay := context.WithCancel(ctx)
	defer stopRelay()
	relayDone := make(chan error, 1)
	go func() { relayDone <- b.relay.Run(relayCtx) }()

	var runErr error
	select {
	case <-ctx.Done():
		b.log.Info("shutting down: delivering queued messages for up to " + shortDuration(relay.DefaultDrainTimeout))
	case runErr = <-fatal:
		b.log.Error("fatal", "err", runErr)
	}
	closeListeners()
	stopRelay()
	<-relayDone
	stopAll()
	b.reportUnrelayed()
	b.log.Info("stopped")
	return runErr
}

// reportUnrelayed logs, once per direction, what shutdown left: messages
// still queued (kept in the database for the next start, when there is
// one), and events that arrived after the relay stopped taking them.
func (b *bridge) reportUnrelayed() {
	undelivered := b.relay.Undelivered()
	late := map[string]int{"qq_to_mc": b.qq.Events().Refused()}
	for _, g := range b.games {
		late["mc_to_qq"] += g.Events().Refused()
	}
	for _, dir := range []string{"qq_to_mc", "mc_to_qq"} {
		if undelivered[dir] > 0 || late[dir] > 0 {
			b.log.Warn("shutting down with messages not relayed", "direction", dir,
				"undelivered", undelivered[dir], "arrived_during_shutdown", late[dir],
				"undelivered_kept_for_next_start", b.db != nil)
		}
	}
}

// openStore opens DATA_DIR/bridge.db; its error names DATA_DIR and the path
// in one line.
func openStore(ctx context.Context, dir string) (*store.DB, error) {
	db, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		return nil, fmt.Errorf("DATA_DIR %s: %w", dir, err)
	}
	return db, nil
}

// handledMessages is the relay's memory of handled QQ messages, the
// database's once run has opened it. Without one every message counts as
// new: relaying twice beats losing one.
type handledMessages struct {
	ids atomic.Pointer[store.HandledIDs]
	log *slog.Logger
}

var _ relay.Seen = (*handledMessages)(nil)

func (h *handledMessages) FirstTime(chat, id string) bool {
	ids := h.ids.Load()
	return ids == nil || ids.FirstTime(chat, id)
}

// durableQueue is the relay's durable queue: the database's once run has
// opened it. Until then (and after) every call fails, and the relay keeps
// messages in memory.
type durableQueue struct {
	q atomic.Pointer[store.Queue]
}

var _ relay.Durable = (*durableQueue)(nil)

// durable is the relay's durable queue, nil without a DATA_DIR.
func (b *bridge) durable() relay.Durable {
	if b.cfg.DataDir == "" {
		return nil
	}
	return b.queue
}

var errNoDatabase = errors.New("the database is not open")

func (d *durableQueue) Append(ctx context.Context, dest string, payload []byte, at time.Time) (int64, error) {
	if q := d.q.Load(); q != nil {
		return q.Append(ctx, dest, payload, at)
	}
	return 0, errNoDatabase
}

func (d *durableQueue) List(ctx context.Context, dest string, limit int) ([]store.Entry, error) {
	if q := d.q.Load(); q != nil {
		return q.List(ctx, dest, limit)
	}
	return nil, errNoDatabase
}

func (d *durableQueue) Delete(ctx context.Context, ids ...int64) error {
	if q := d.q.Load(); q != nil {
		return q.Delete(ctx, ids...)
	}
	return errNoDatabase
}

func (d *durableQueue) Destinations(ctx context.Context) ([]string, error) {
	if q := d.q.Load(); q != nil {
		return q.Destinations(ctx)
	}
	return nil, errNoDatabase
}
