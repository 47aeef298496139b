// Package relay routes messages between the QQ groups and the Minecraft
// servers: group chat into the game, game events into the groups, and the
// in-group commands. It owns the per-destination outage queues and the group
// rate limits; it never talks to a socket itself, only to the small interfaces
// below.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/VictoriaMetrics/metrics"

	"github.com/mcqq/bridge/format"
	"github.com/mcqq/bridge/internal/inbox"
	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// QQ is what the relay needs from the QQ connection (OneBot or Milky).
// Its methods are called from many goroutines at once (senders, chat
// look-ups, commands), so an implementation must be safe for concurrent
// use; Events is read by Run alone, which closes it at shutdown.
type QQ interface {
	Events() *inbox.Inbox[qq.Event]
	State() *link.State
	SendGroupMessage(ctx context.Context, group int64, msg []qq.Segment) error
	SendPrivateMessage(ctx context.Context, user int64, msg []qq.Segment) error
	Member(ctx context.Context, group, user int64) (qq.Member, error)
	GroupName(ctx context.Context, group int64) (string, error)
	GetMessage(ctx context.Context, id string) (qq.Message, error)
}

// Game is what the relay needs from one server's QueQiao connection. Like
// QQ, it is called from many goroutines at once (the server's sender,
// commands) and must be safe for concurrent use; Events is read by Run
// alone, which closes it at shutdown.
type Game interface {
	Events() *inbox.Inbox[minecraft.Event]
	State() *link.State
	Broadcast(ctx context.Context, msg []minecraft.Component) error
	// Broadcasts sends several broadcasts in order, in flight together, and
	// reports each one's error (nil when shown).
	Broadcasts(ctx context.Context, msgs [][]minecraft.Component) []error
	Title(ctx context.Context, title, subtitle []minecraft.Component) error
	ActionBar(ctx context.Context, msg []minecraft.Component) error
	PrivateMessage(ctx context.Context, player string, msg []minecraft.Component) error
	RunCommand(ctx context.Context, cmd string) (string, error)
	Status(ctx context.Context) (minecraft.Status, error)
}

// Console is a direct RCON connection. Commands may call Execute from
// several goroutines at once.
type Console interface {
	State() *link.State
	Execute(ctx context.Context, cmd string) (string, error)
}

// Server is one bridged Minecraft server.
type Server struct {
	Name    string
	Groups  []int64
	Game    Game
	Console Console // nil: console commands go through Game.RunCommand
	// Whitelist keeps the server's whitelist in step with the bindings made
	// in its groups (MC_<n>_WHITELIST; needs Options.Accounts).
	Whitelist bool
}

// The defaults of Options left zero, which are the configuration's too.
const (
	DefaultCommandPrefix = "/"
	DefaultQueueSize     = 500
	DefaultQueueBytes    = 16 << 20 // 16 MiB
	DefaultQueueTTL      = 10 * time.Minute
	// DefaultDrainTimeout: at shutdown, what is queued is delivered for up
	// to this long (what remains stays queued in Durable).
	DefaultDrainTimeout = 5 * time.Second
)

// Options are the relay's rules, filled from the configuration by main.
type Options struct {
	Admins           []int64  // QQ_ADMINS
	AdminRoles       []string // QQ_ADMIN_ROLES
	SyncQQToMC       bool
	SyncMCToQQ       []minecraft.EventKind
	QQSyncPrefix     string
	QQIgnorePrefixes []string
	MCIgnorePrefixes []string
	ShowServerName   ServerNames
	ShowGroupName    bool
	CrossServerChat  bool
	ChatImage        bool
	GroupRate        int           // messages per GroupRatePeriod per group; 0 = unlimited
	GroupRatePeriod  time.Duration //
	GroupRateBurst   int           // messages that may leave at once; 0 = GroupRate
	Templates        format.Templates
	CommandPrefix    string
	RCONPublic       []string
	RCONDeny         []string
	QueueSize        int           // messages waiting per destination
	QueueBytes       int64         // bytes waiting per destination
	QueueTTL         time.Duration // how long a message may wait
	RequestTimeout   time.Duration
	// DrainTimeout bounds how long Run keeps handling what it has read and
	// delivering what is queued after its context ends.
	DrainTimeout time.Duration
	// Seen remembers handled message ids; nil: no replay protection.
	Seen Seen
	// SeenFor is how long Seen remembers an id: a message sent longer ago
	// than that is taken for a replay, as Seen could no longer tell. Zero:
	// no age limit.
	SeenFor time.Duration
	// Durable keeps what waits for a destination that is down across a
	// restart; nil: queues live in memory alone.
	Durable Durable
	Logger  *slog.Logger
	// Metrics receives the relay's counters; nil makes a private set.
	Metrics *metrics.Set

	// Game events on their way to QQ.
	ImageToQQ        bool           // MC_IMAGE_TO_QQ: pictures in game chat reach QQ as pictures
	IgnorePlayers    PlayerPatterns // MC_IGNORE_PLAYERS: their chat and events are not relayed
	JoinQuitDebounce time.Duration  // JOIN_QUIT_DEBOUNCE; 0 relays quits at once

	// Accounts: the account commands, whitelist sync and the bound names
	// in messages (BIND); nil turns them off.
	Accounts Accounts
	Bind     BindOptions
	// Now is the clock of bindings and verification codes (default
	// time.Now); tests move it.
	Now func() time.Time
}

// Relay routes between one QQ connection and the servers.
//
// Concurrency contract: New only builds; Run must be called once, and owns
// every goroutine the relay starts (event intake, chat look-ups, commands,
// one sender per destination), all of which have ended when it returns. Run
// alone takes events from the connections' inboxes and closes them when it
// stops taking. Queued and Undelivered are safe from any goroutine, before,
// during and after Run. The Options and the servers' group lists must not be
// changed after New; the connections (QQ, Game, Console) keep running on
// their own and outlive Run: the relay never starts or stops them.
type Relay struct {
	qq      QQ
	servers []*server
	byName  map[string]*server
	groups  map[int64][]*server // group → its servers, in configuration order
	o       Options
	log     *slog.Logger
	m       *relayMetrics

	qqOut   map[int64]*outbox[qqLine] // per group
	privOut *outbox[qqPrivate]        // replies in private chat
	admins  map[int64]bool
	syncMC  map[minecraft.EventKind]bool
	quits   *quitHolder // JOIN_QUIT_DEBOUNCE; nil when off
	now     func() time.Time
	// showQQName: a template shows {qq}, so game events look up who is
	// bound to their player.
	showQQName bool
	bound      boundCache // names bound to senders, for their hover

	cmds sync.WaitGroup  // command handlers in flight
	life context.Context // Run's; set before anything reads it
}

type server struct {
	Server
	out *outbox[gameMsg]
	wl  *whitelistSync // nil unless Whitelist and accounts are on
}

// New checks the routing and prepares the queues. It does no I/O.
func New(q QQ, servers []Server, o Options) (*Relay, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = link.DefaultRequestTimeout
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	if o.QueueTTL <= 0 {
		o.QueueTTL = DefaultQueueTTL
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.CommandPrefix == "" {
		o.CommandPrefix = DefaultCommandPrefix
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Bind.NamePattern == nil {
		o.Bind.NamePattern = defaultNameRE
	}
	// Compared with what users type, whatever the configuration's spelling.
	o.RCONPublic = mapStrings(o.RCONPublic, consoleVerb)
	o.RCONDeny = mapStrings(o.RCONDeny, consoleVerb)
	if len(servers) == 0 {
		return nil, errors.New("relay: no servers")
	}
	r := &Relay{
		qq: q, o: o, log: o.Logger,
		byName: map[string]*server{}, groups: map[int64][]*server{},
		qqOut: map[int64]*outbox[qqLine]{}, admins: map[int64]bool{},
		syncMC:     map[minecraft.EventKind]bool{},
		m:          newRelayMetrics(o.Metrics),
		quits:      newQuitHolder(o.JoinQuitDebounce),
		now:        o.Now,
		showQQName: o.Accounts != nil && o.Templates.Uses("qq"),
	}
	lim := limits{size: o.QueueSize, maxBytes: o.QueueBytes, ttl: o.QueueTTL}
	var keep *keeper
	if o.Durable != nil {
		keep = &keeper{q: o.Durable, log: o.Logger}
	}
	for _, id := range o.Admins {
		r.admins[id] = true
	}
	for _, k := range o.SyncMCToQQ {
		r.syncMC[k] = true
	}
	for _, s := range servers {
		key := strings.ToLower(s.Name)
		if s.Name == "" || r.byName[key] != nil {
			return nil, fmt.Errorf("relay: server name %q empty or duplicate", s.Name)
		}
		if s.Game == nil {
			return nil, fmt.Errorf("relay: server %q has no game connection", s.Name)
		}
		sv := &server{Server: s}
		sv.out = newOutbox[gameMsg]("mc:"+s.Name, lim, s.Game.State(), keep, o.Logger.With("server", s.Name), r.m)
		if s.Whitelist && o.Accounts != nil {
			sv.wl = newWhitelistSync(r, sv)
		}
		r.servers = append(r.servers, sv)
		r.byName[key] = sv
		for _, g := range s.Groups {
			if !slices.Contains(r.groups[g], sv) {
				r.groups[g] = append(r.groups[g], sv)
			}
		}
	}
	for g := range r.groups {
		r.qqOut[g] = newOutbox[qqLine](fmt.Sprintf("qq:%d", g), lim, q.State(), keep, o.Logger.With("group", g), r.m)
	}
	r.privOut = newOutbox[qqPrivate]("qq:private", lim, q.State(), keep, o.Logger, r.m)
	return r, nil
}

// serversOf returns the servers bound to group, in configuration order.
func (r *Relay) serversOf(group int64) []*server { return r.groups[group] }

// handleGame turns one game event into QQ lines for the server's groups and,
// with CROSS_SERVER_CHAT, into broadcasts on the servers sharing a group.
func (r *Relay) handleGame(s *server, ev minecraft.Event) {
	ev.Server = s.Name
	log := r.log.With("server", s.Name)
	if !r.syncMC[ev.Kind] {
		return
	}
	if ev.Kind == minecraft.Chat && hasAnyPrefix(ev.Message, r.o.MCIgnorePrefixes) {
		return
	}
	line, ok := format.GameToQQ(ev, r.o.Templates, r.boundMemberName(ev.Player))
	if !ok || strings.TrimSpace(line) == "" {
		log.Debug("game event not relayed", "kind", ev.Kind.String(), "player", ev.Player)
		return
	}
	now := time.Now()
	for _, g := range s.Groups {
		text := line
		if r.showServerPrefix(g) {
			text = "[" + s.Name + "] " + line
		}
		l := r.gameLine(ev.Kind, text, s.Name)
		r.qqOut[g].push(l, now, l.queueBytes())
	}
	if r.o.CrossServerChat && crossServerKinds[ev.Kind] {
		comps := []minecraft.Component{
			{Text: "[" + s.Name + "] ", Color: "gray"},
			{Text: line, Color: "white"},
		}
		size := componentsSize(comps)
		for _, other := range r.neighbours(s) {
			other.out.push(gameMsg{Comps: comps, From: s.Name}, now, size)
		}
	}
}

var crossServerKinds = map[minecraft.EventKind]bool{
	minecraft.Chat: true, minecraft.Join: true, minecraft.Quit: true, minecraft.Death: true,
}

// neighbours are the other servers sharing at least one group with s.
func (r *Relay) neighbours(s *server) []*server {
	var out []*server
	for _, g := range s.Groups {
		for _, o := range r.groups[g] {
			if o != s && !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

// handleQQ routes one QQ event: commands first, then chat into the game.
func (r *Relay) handleQQ(in *intake, ev qq.Event) {
	if r.replayed(ev) {
		return
	}
	switch ev.Kind {
	case qq.GroupMessage:
		servers := r.serversOf(ev.GroupID)
		if len(servers) == 0 {
			return // not a bridged group
		}
		if cmd, ok := r.parseCommand(ev.Message); ok {
			r.startCommand(in.cmdCtx, ev, cmd)
			return
		}
		if !r.o.SyncQQToMC {
			return
		}
		segs, ok := r.chatSegments(ev.Message.Segments)
		if !ok {
			return
		}
		ev.Message.Segments = segs
		in.addChat(servers, r.needsLookup(ev), func() []minecraft.Component {
			return r.renderQQ(r.lifeCtx(), ev)
		})
	case qq.PrivateMessage:
		if !r.admins[ev.Message.Sender.UserID] {
			return
		}
		if cmd, ok := r.parseCommand(ev.Message); ok {
			r.startCommand(in.cmdCtx, ev, cmd)
		}
	case qq.MemberLeft:
		switch {
		case r.o.Accounts == nil || len(r.groups[ev.GroupID]) == 0:
		case !r.o.Bind.UnbindOnLeave:
			r.log.Debug("a member left; their bindings stay (unbinding on leave is off)", "group", ev.GroupID, "user", ev.UserID)
		default:
			r.cmds.Go(func() { r.memberLeft(r.lifeCtx(), ev.GroupID, ev.UserID) })
		}
	}
}

// chatSegments applies QQ_SYNC_PREFIX and QQ_IGNORE_PREFIXES to the message's
// leading text and reports whether it is to be forwarded.
func (r *Relay) chatSegments(segs []qq.Segment) ([]qq.Segment, bool) {
	lead := leadingText(segs)
	if hasAnyPrefix(lead, r.o.QQIgnorePrefixes) {
		return nil, false
	}
	if p := r.o.QQSyncPrefix; p != "" {
		if !strings.HasPrefix(lead, p) {
			return nil, false
		}
		segs = slices.Clone(segs)
		for i, s := range segs {
			if s.Type == qq.SegText {
				t := strings.TrimLeftFunc(s.Text, unicode.IsSpace) // as leadingText
				if t == "" {
					continue
				}
				segs[i] = qq.Text(strings.TrimPrefix(t, p))
				break
			}
		}
	}
	return segs, true
}

// leadingText is the message's first non-blank text, left-trimmed, skipping
// leading reply and mention segments ("@bot /mcs" still counts as "/mcs").
func leadingText(segs []qq.Segment) string {
	for _, s := range segs {
		switch s.Type {
		case qq.SegReply, qq.SegAt:
			continue
		case qq.SegText:
			if t := strings.TrimSpace(s.Text); t != "" {
				return t
			}
			continue
		}
		return ""
	}
	return ""
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// Queued is the number of messages waiting for a destination: "qq:<group>",
// "qq:private" or "mc:<server>"; -1 for an unknown one.
func (r *Relay) Queued(dest string) int {
	n := -1
	r.eachOutbox(func(ob anyOutbox) {
		if ob.queueName() == dest {
			n = ob.Len()
		}
	})
	return n
}

func mapStrings(in []string, f func(string) string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}
