package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/store"
)

// checkDialSlack is how long -check gives each connection to come up, on
// top of the REQUEST_TIMEOUT its one request may take.
const checkDialSlack = 5 * time.Second

// runCheck validates the configuration (already done by the caller), prints
// it with secrets hidden, tries every connection once and prints a table. It
// returns non-zero when any connection fails.
func runCheck(ctx context.Context, cfg *Config, w io.Writer) int {
	redactor := cfg.Redactor()
	fmt.Fprintln(w, "Configuration (secrets shown as ***):")
	for _, line := range cfg.Redacted() {
		fmt.Fprintln(w, "  "+line)
	}
	fmt.Fprintln(w)

	// The connections' own logs would interleave with the table; keep errors only.
	quiet := slog.New(slog.DiscardHandler)
	b, err := build(cfg, quiet)
	if err != nil {
		fmt.Fprintln(w, "cannot build the bridge:", redactor.String(err.Error()))
		return exitFail
	}
	// The database first, on its own clock: a connection that uses up the
	// time below must not make a healthy database look unusable.
	storeOK, storeResult := true, ""
	if cfg.DataDir != "" {
		storeCtx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout+checkDialSlack)
		storeOK, storeResult = checkStore(storeCtx, cfg.DataDir)
		cancel()
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout+checkDialSlack)
	defer cancel()

	type probe struct {
		name, target string
		run          func(context.Context) error
		state        *link.State
		try          func(context.Context) error
		listen       string // the address a peer dials in to: checked by binding it
		addr         string // host:port dialled, to tell a silent port from an unreachable one
	}
	var probes []probe
	qqTarget := redactor.String(cfg.QQURL)
	if qqTarget == "" {
		qqTarget = "listen " + cfg.QQListen
	}
	var groupHint string
	qqProbe := probe{name: "qq (" + cfg.QQProtocol.String() + ")", target: qqTarget, run: b.qq.Run,
		state: b.qq.State(), try: func(ctx context.Context) error {
			var err error
			groupHint, err = checkGroups(ctx, b.qq, cfg)
			return err
		}, addr: urlAddr(cfg.QQURL)}
	if cfg.QQURL == "" {
		qqProbe.listen = cfg.QQListen
	}
	probes = append(probes, qqProbe)
	for i, s := range cfg.Servers {
		g := b.games[i]
		p := probe{name: "queqiao " + s.Name, target: redactor.String(s.WSURL), run: g.Run, state: g.State(),
			try: func(ctx context.Context) error {
				_, err := g.Status(ctx)
				var api *minecraft.APIError
				if errors.As(err, &api) {
					return nil // the plugin answered: the connection is accepted (older plugins lack get_status)
				}
				return err
			}, addr: urlAddr(s.WSURL)}
		if s.WSURL == "" {
			p.target = "listen " + cfg.MCListen
			p.listen = cfg.MCListen
		}
		probes = append(probes, p)
		if c := b.consoles[i]; c != nil {
			probes = append(probes, probe{name: "rcon " + s.Name, target: s.RCONAddr, run: c.Run, state: c.State(),
				addr: s.RCONAddr})
		}
	}

	rows := make([]row, len(probes)) // each written by its own probe
	// Listeners one after the other, each address once: servers share
	// MC_LISTEN, and a second bind of it here would find it taken by the first.
	bound := map[string]row{}
	for i, p := range probes {
		if p.listen == "" {
			continue
		}
		r, seen := bound[p.listen]
		if !seen {
			r = probeListener(p.listen)
			bound[p.listen] = r
		}
		rows[i] = r
	}
	var wg sync.WaitGroup
	for i, p := range probes {
		if p.listen != "" {
			continue
		}
		wg.Go(func() {
			ok, result := checkOne(ctx, p.run, p.state, p.try)
			rows[i] = row{ok, result, ""}
			if !ok {
				rows[i].hint = p.state.Get().Hint
			}
			if result == resultNoAnswer && rows[i].hint == "" {
				// Out of time before the connection's own timeout said why.
				rows[i].hint = p.state.Explain(silence(parent, p.addr)) // the hints build installed
			}
		})
	}
	wg.Wait()
	if !rows[0].ok && rows[0].hint == "" {
		rows[0].hint = groupHint
	}
	// A path that leaves one direction dead passes the probe: say so, and
	// fail where no bot would send events.
	if warning, eventsDead := oneBotPathProblem(cfg); warning != "" {
		if rows[0].ok && eventsDead {
			rows[0] = row{false, "FAIL: connected, but the bot sends no events on this path", ""}
		}
		if rows[0].hint == "" {
			rows[0].hint = warning
		}
	}

	code := exitOK
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONNECTION\tTARGET\tRESULT")
	if cfg.DataDir != "" {
		fmt.Fprintf(tw, "database\t%s\t%s\n", filepath.Join(cfg.DataDir, store.FileName), redactor.String(storeResult))
		if !storeOK {
			code = exitFail
		}
	}
	for i, p := range probes {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.name, p.target, redactor.String(rows[i].result))
		if !rows[i].ok {
			code = exitFail
		}
	}
	tw.Flush()
	var hints []string
	for i, p := range probes {
		if rows[i].hint != "" {
			hints = append(hints, "  "+p.name+": "+rows[i].hint)
		}
	}
	if len(hints) > 0 {
		fmt.Fprintln(w, "\nWhat to check:")
		fmt.Fprintln(w, strings.Join(hints, "\n"))
	}
	return code
}

// groupLister is a QQ client that can list the bot's groups.
type groupLister interface {
	Groups(ctx context.Context) ([]int64, error)
}

// checkGroups fails when the bot is not in a configured group: messages from
// it would never arrive and sends to it would fail. It asks for the bot's
// group list; a bot without one is asked about each group, and a group it
// says it cannot find fails. On failure it also returns a hint.
func checkGroups(ctx context.Context, bot qqClient, cfg *Config) (hint string, err error) {
	type group struct {
		id   int64
		vars []string // the MC_<n>_GROUPS naming it
	}
	var groups []*group
	byID := map[int64]*group{}
	for _, s := range cfg.Servers {
		for _, id := range s.Groups {
			g := byID[id]
			if g == nil {
				g = &group{id: id}
				byID[id] = g
				groups = append(groups, g)
			}
			g.vars = append(g.vars, fmt.Sprintf("MC_%d_GROUPS", s.Index))
		}
	}

	var missing []string // "111111 (MC_0_GROUPS)", with what the bot said when it said something
	var ids []string
	notIn := func(g *group, said string) {
		m := fmt.Sprintf("%d (%s)", g.id, strings.Join(g.vars, ", "))
		if said != "" {
			m += ": " + said
		}
		missing = append(missing, m)
		ids = append(ids, strconv.FormatInt(g.id, 10))
	}
	listed := false
	if l, ok := bot.(groupLister); ok {
		joined, err := l.Groups(ctx)
		var api *qq.APIError
		switch {
		case err == nil:
			listed = true
			for _, g := range groups {
				if !slices.Contains(joined, g.id) {
					notIn(g, "")
				}
			}
		case !errors.As(err, &api):
			return "", err
		} // a bot without get_group_list is asked about each group below
	}
	if !listed {
		for _, g := range groups {
			_, err := bot.GroupName(ctx, g.id)
			var api *qq.APIError
			switch {
			case errors.As(err, &api):
				notIn(g, api.Message)
			case err != nil:
				return "", err
			}
		}
	}
	if len(missing) == 0 {
		return "", nil
	}
	hint = fmt.Sprintf("add the bot's QQ account to group %s, or correct the group number", strings.Join(ids, ", "))
	return hint, fmt.Errorf("the bot is not in group %s", strings.Join(missing, "; "))
}

// row is one connection's line in -check's table, and its hint.
type row struct {
	ok     bool
	result string
	hint   string
}

// probeListener binds addr, where a peer would dial in, and lets it go at
// once: a bridge started now could listen there, or another process holds it.
func probeListener(addr string) row {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		return row{true, "ok: free", ""}
	}
	if msg := strings.ToLower(err.Error()); errors.Is(err, syscall.EADDRINUSE) ||
		strings.Contains(msg, "address already in use") || strings.Contains(msg, "only one usage of each socket address") {
		return row{false, "FAIL: in use by another process", "stop what listens on " + addr + " (a bridge already running?) or choose another port"}
	}
	return row{false, "FAIL: cannot listen: " + err.Error(), ""}
}

// resultNoAnswer is -check's result for a connection that neither came up
// nor failed in time.
const resultNoAnswer = "FAIL: no answer in time"

// silence tells why addr gave no answer in time: errSilentPeer when it
// accepts a TCP connection (something listens there, just not what was
// expected), a timeout when it does not.
func silence(ctx context.Context, addr string) error {
	var d net.Dialer
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return os.ErrDeadlineExceeded
	}
	c.Close()
	return errSilentPeer
}

// urlAddr is the host:port a URL points at; "" for no URL.
func urlAddr(rawURL string) string {
	if rawURL == "" {
		return ""
	}
	return net.JoinHostPort(hostPort(rawURL))
}

// checkOne starts one connection, waits for its first outcome and, once up,
// makes one request through it.
func checkOne(ctx context.Context, run func(context.Context) error, st *link.State,
	try func(context.Context) error) (bool, string) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = run(ctx) }()
	defer func() { cancel(); <-done }()

	for {
		changed := st.Changed() // before the check, so a change in between is not missed
		snap := st.Get()
		if snap.Up {
			break
		}
		if snap.LastError != "" {
			return false, "FAIL: " + snap.LastError
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false, resultNoAnswer
		}
	}
	if try != nil {
		if err := try(ctx); err != nil {
			// A peer that accepts the connection and then refuses the token
			// closes it; wait a moment for the reason to be recorded.
			select {
			case <-st.Changed():
			case <-time.After(500 * time.Millisecond):
			}
			if lastErr := st.Get().LastError; lastErr != "" {
				return false, "FAIL: " + lastErr
			}
			return false, "FAIL: " + err.Error()
		}
	}
	return true, "ok"
}

// checkStore says what the bridge would find in dir and do with it at
// start, changing nothing: -check may run beside a running bridge, or
// before an upgrade, and a migration it ran would make the older bridge
// still running refuse its own database.
func checkStore(ctx context.Context, dir string) (bool, string) {
	found, err := store.Inspect(ctx, dir)
	switch {
	case err != nil:
		return false, fmt.Sprintf("FAIL: DATA_DIR %s: %v", dir, err)
	case !found.Exists:
		return true, fmt.Sprintf("ok: will be created at start (schema version %d)", store.NewestSchema())
	case found.Version < store.NewestSchema():
		return true, fmt.Sprintf("ok: would migrate from schema v%d to v%d at start", found.Version, store.NewestSchema())
	}
	return true, fmt.Sprintf("ok (schema version %d)", found.Version)
}
