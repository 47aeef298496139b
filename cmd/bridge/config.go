package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/mcqq/bridge/format"
	"github.com/mcqq/bridge/internal/redact"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/relay"
)

// Config is the whole configuration, read from environment variables only
// (SPEC §2). Field tags name the variables; `secret:"true"` fields are shown
// as *** by -check.
type Config struct {
	QQProtocol   string   `env:"QQ_PROTOCOL" envDefault:"onebot"`
	QQURL        string   `env:"QQ_URL"`
	QQListen     string   `env:"QQ_LISTEN"`
	QQToken      string   `env:"QQ_ACCESS_TOKEN" secret:"true"`
	QQAdmins     IDList   `env:"QQ_ADMINS"`
	QQAdminRoles List     `env:"QQ_ADMIN_ROLES" envDefault:"owner,admin"`
	MCListen     string   `env:"MC_LISTEN"`
	Servers      []Server `env:"-"`

	SyncQQToMC       bool          `env:"SYNC_QQ_TO_MC" envDefault:"true"`
	SyncMCToQQ       List          `env:"SYNC_MC_TO_QQ" envDefault:"chat,join,quit,death,advancement"`
	QQSyncPrefix     string        `env:"QQ_SYNC_PREFIX"`
	QQIgnorePrefixes List          `env:"QQ_IGNORE_PREFIXES"`
	MCIgnorePrefixes List          `env:"MC_IGNORE_PREFIXES" envDefault:"!!"`
	ShowServerName   string        `env:"SHOW_SERVER_NAME" envDefault:"auto"`
	ShowGroupName    bool          `env:"SHOW_GROUP_NAME" envDefault:"false"`
	CrossServerChat  bool          `env:"CROSS_SERVER_CHAT" envDefault:"false"`
	ChatImage        bool          `env:"CHAT_IMAGE" envDefault:"false"`
	MCImageToQQ      bool          `env:"MC_IMAGE_TO_QQ" envDefault:"true"`
	MCIgnorePlayers  Players       `env:"MC_IGNORE_PLAYERS"`
	JoinQuitDebounce time.Duration `env:"JOIN_QUIT_DEBOUNCE" envDefault:"0s"`
	QQGroupRate      Rate          `env:"QQ_GROUP_RATE" envDefault:"20/1m"`

	FormatChat        string `env:"FORMAT_CHAT" envDefault:"{player}：{message}"`
	FormatJoin        string `env:"FORMAT_JOIN" envDefault:"{player} 加入了游戏"`
	FormatQuit        string `env:"FORMAT_QUIT" envDefault:"{player} 离开了游戏"`
	FormatDeath       string `env:"FORMAT_DEATH" envDefault:"{text}"`
	FormatAdvancement string `env:"FORMAT_ADVANCEMENT" envDefault:"{player} 达成了进度 [{title}]"`
	FormatCommand     string `env:"FORMAT_COMMAND" envDefault:"{player} 执行了命令 /{command}"`

	CommandPrefix string `env:"COMMAND_PREFIX" envDefault:"/"`
	RCONPublic    List   `env:"RCON_PUBLIC" envDefault:"list"`
	RCONDeny      List   `env:"RCON_DENY" envDefault:"stop,restart,op,deop"`

	QueueSize      int           `env:"QUEUE_SIZE" envDefault:"500"`
	QueueBytes     ByteSize      `env:"QUEUE_BYTES" envDefault:"16MiB"`
	QueueTTL       time.Duration `env:"QUEUE_TTL" envDefault:"10m"`
	RequestTimeout time.Duration `env:"REQUEST_TIMEOUT" envDefault:"10s"`

	// Accounts (accounts.go).
	Bind              bool        `env:"BIND" envDefault:"true"`
	BindMax           int         `env:"BIND_MAX" envDefault:"1"`
	BindNamePattern   NamePattern `env:"BIND_NAME_PATTERN" envDefault:"^[A-Za-z0-9_]{3,16}$"`
	BindVerify        bool        `env:"BIND_VERIFY" envDefault:"false"`
	BindUnbindOnLeave bool        `env:"BIND_UNBIND_ON_LEAVE" envDefault:"true"`

	HTTPListen string `env:"HTTP_LISTEN" envDefault:"127.0.0.1:9180"`
	// DataDir holds bridge.db. Empty (never from the environment, where
	// empty means the default) runs without a database, as the demo does.
	DataDir   string `env:"DATA_DIR" envDefault:"data"`
	LogFormat string `env:"LOG_FORMAT" envDefault:"auto"`
	LogLevel  string `env:"LOG_LEVEL" envDefault:"info"`
}

// Server is one MC_<n>_ block.
type Server struct {
	Index        int    `env:"-"`
	Name         string `env:"NAME"`
	WSURL        string `env:"WS_URL"`
	Token        string `env:"TOKEN" secret:"true"`
	RCONAddr     string `env:"RCON_ADDR"`
	RCONPassword string `env:"RCON_PASSWORD" secret:"true"`
	Groups       IDList `env:"GROUPS"`
	GameVersion  string `env:"GAME_VERSION" envDefault:"auto"`
	Whitelist    bool   `env:"WHITELIST" envDefault:"false"`
}

// Templates returns the FORMAT_* templates.
func (c *Config) Templates() format.Templates {
	return format.Templates{Chat: c.FormatChat, Join: c.FormatJoin, Quit: c.FormatQuit,
		Death: c.FormatDeath, Advancement: c.FormatAdvancement, Command: c.FormatCommand}
}

// List is a comma-separated list; "none" means the empty list. The
// full-width comma "，" and the enumeration comma "、" of a Chinese input
// method separate items too.
type List []string

// UnmarshalText implements encoding.TextUnmarshaler for env.
func (l *List) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	*l = List{}
	if strings.EqualFold(s, "none") {
		return nil
	}
	for _, p := range strings.FieldsFunc(s, isListSeparator) {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// IDList is a comma-separated list of QQ numbers; "none" means empty.
type IDList []int64

// UnmarshalText implements encoding.TextUnmarshaler for env.
func (l *IDList) UnmarshalText(b []byte) error {
	var parts List
	_ = parts.UnmarshalText(b)
	*l = IDList{}
	for _, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a QQ number (want digits, such as 123456789)", p)
		}
		*l = append(*l, n)
	}
	return nil
}

// ByteSize is a size in bytes, written as a plain number or with a unit:
// 16MiB, 512KiB, 1GiB (KB, MB and GB are read as the same powers of 1024).
type ByteSize int64

// UnmarshalText implements encoding.TextUnmarshaler for env.
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	}
	mult, ok := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}[unit]
	n, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || n <= 0 {
		return fmt.Errorf("%q: want a size such as 16MiB or 512KiB", s)
	}
	*b = ByteSize(n * mult)
	return nil
}

func (b ByteSize) String() string {
	switch {
	case b >= 1<<20 && b%(1<<20) == 0:
		return strconv.FormatInt(int64(b)>>20, 10) + "MiB"
	case b >= 1<<10 && b%(1<<10) == 0:
		return strconv.FormatInt(int64(b)>>10, 10) + "KiB"
	}
	return strconv.FormatInt(int64(b), 10)
}

// Players is MC_IGNORE_PLAYERS: comma-separated player names or "*"
// patterns, checked and compiled once; "none" means nobody.
type Players struct{ relay.PlayerPatterns }

// UnmarshalText implements encoding.TextUnmarshaler for env.
func (p *Players) UnmarshalText(b []byte) error {
	var names List
	_ = names.UnmarshalText(b)
	patterns, err := relay.ParsePlayerPatterns(names)
	if err != nil {
		return err
	}
	*p = Players{patterns}
	return nil
}

var serverVarRE = regexp.MustCompile(`^MC_(\d+)_`)

// LoadConfig reads the configuration from environ (KEY → value). It returns
// warnings (likely typos, quoted values) and an error joining one error per
// bad variable.
func LoadConfig(environ map[string]string) (cfg *Config, warnings []string, err error) {
	var errs []error
	cfg = &Config{}
	if e := env.ParseWithOptions(cfg, env.Options{Environment: environ}); e != nil {
		errs = append(errs, envErrors(e, reflect.TypeFor[Config](), "", environ)...)
	}

	indices := map[int]bool{}
	for k := range environ {
		if m := serverVarRE.FindStringSubmatch(k); m != nil {
			if i, e := strconv.Atoi(m[1]); e == nil {
				indices[i] = true
			}
		}
	}
	order := make([]int, 0, len(indices))
	for i := range indices {
		order = append(order, i)
	}
	sort.Ints(order)
	for _, i := range order {
		prefix := fmt.Sprintf("MC_%d_", i)
		s := Server{Index: i}
		// Each block is parsed on its own so one bad server does not hide another.
		if e := env.ParseWithOptions(&s, env.Options{Environment: environ, Prefix: prefix}); e != nil {
			errs = append(errs, envErrors(e, reflect.TypeFor[Server](), prefix, environ)...)
		}
		cfg.Servers = append(cfg.Servers, s)
	}

	cfg.normalize()
	errs = append(errs, cfg.validate()...)
	errs, warnings = explainTypos(onePerVariable(errs), environ)
	warnings = append(warnings, quotedValues(environ)...)
	if cfg.HTTPListen != "none" && !isLoopback(cfg.HTTPListen) {
		// SPEC §4 wants tokens on listeners; health and metrics have none,
		// so say plainly what is exposed.
		warnings = append(warnings, fmt.Sprintf("HTTP_LISTEN %s is reachable from other hosts: /healthz, /readyz and /metrics have no token", cfg.HTTPListen))
	}
	return cfg, warnings, errors.Join(errs...)
}

// normalize lower-cases the values that name a choice, so OneBot, JSON or
// ALWAYS are read as onebot, json and always.
func (c *Config) normalize() {
	for _, p := range []*string{&c.QQProtocol, &c.ShowServerName, &c.LogFormat, &c.LogLevel} {
		*p = strings.ToLower(strings.TrimSpace(*p))
	}
	if strings.EqualFold(c.HTTPListen, "none") {
		c.HTTPListen = "none"
	}
	for _, l := range []List{c.QQAdminRoles, c.SyncMCToQQ} {
		for i := range l {
			l[i] = strings.ToLower(l[i])
		}
	}
	for i := range c.Servers {
		if strings.EqualFold(c.Servers[i].GameVersion, "auto") {
			c.Servers[i].GameVersion = "auto"
		}
	}
}

// envErrors turns the env library's errors into one error per variable,
// named by the variable (the library names the Go field) and saying in plain
// words what is wanted instead of the Go parser's text.
func envErrors(err error, t reflect.Type, prefix string, environ map[string]string) []error {
	var agg env.AggregateError
	list := []error{err}
	if errors.As(err, &agg) {
		list = agg.Errors
	}
	var out []error
	for _, e := range list {
		var pe env.ParseError
		if errors.As(e, &pe) {
			name := pe.Name
			if f, ok := t.FieldByName(pe.Name); ok {
				name = prefix + strings.Split(f.Tag.Get("env"), ",")[0]
			}
			out = append(out, &varError{Name: name, Msg: valueProblem(pe, environ[name])})
			continue
		}
		out = append(out, e)
	}
	return out
}

func (c *Config) validate() []error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, &varError{Name: name, Msg: fmt.Sprintf(format, args...)})
	}
	// missing is bad for a variable that must be set and is not; a likely
	// typo of its name is then pointed out on the same line.
	missing := func(name, format string, args ...any) {
		errs = append(errs, &varError{Name: name, Msg: fmt.Sprintf(format, args...), Missing: true})
	}

	switch c.QQProtocol {
	case "onebot":
		if c.QQURL != "" {
			u, err := url.Parse(c.QQURL)
			switch {
			case err != nil || u.Host == "":
				bad("QQ_URL", "%q is not a URL such as ws://127.0.0.1:3001", redact.URL(c.QQURL))
			case u.Scheme == "ws" || u.Scheme == "wss":
				if c.QQListen != "" {
					bad("QQ_LISTEN", "set together with a ws:// QQ_URL: use QQ_URL for the bot's forward WebSocket, or QQ_LISTEN alone for its reverse WebSocket")
				}
			case u.Scheme == "http" || u.Scheme == "https":
				// The HTTP API: events come as webhook posts to QQ_LISTEN, or
				// from the SSE stream {QQ_URL}/_events without it.
			default:
				bad("QQ_URL", "scheme %q: want ws://, wss://, http:// or https://", u.Scheme)
			}
		}
	case "milky":
		if c.QQURL == "" {
			missing("QQ_URL", "required for milky (the bot's base URL, e.g. http://127.0.0.1:3010)")
		} else if u, err := url.Parse(c.QQURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("QQ_URL", "%q: milky wants an http:// or https:// base URL", redact.URL(c.QQURL))
		}
	case "satori":
		if c.QQURL == "" {
			missing("QQ_URL", "required for satori (the server's base URL before /v1, e.g. http://127.0.0.1:5600 for LLBot, http://127.0.0.1:5140/satori for Koishi)")
		} else if u, err := url.Parse(c.QQURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("QQ_URL", "%q: satori wants an http:// or https:// base URL", redact.URL(c.QQURL))
		}
		if c.QQListen != "" {
			bad("QQ_LISTEN", "not used with satori: the bridge dials the server's event stream at QQ_URL; unset QQ_LISTEN")
		}
	default:
		bad("QQ_PROTOCOL", "%q: want onebot, milky or satori", c.QQProtocol)
	}
	// milky and satori have said QQ_URL is required.
	if c.QQURL == "" && c.QQListen == "" && c.QQProtocol != "milky" && c.QQProtocol != "satori" {
		missing("QQ_URL", "set QQ_URL (we dial the bot) or QQ_LISTEN (the bot dials us)")
	}
	if c.QQListen != "" && c.QQProtocol != "satori" {
		if err := checkListen(c.QQListen, c.QQToken != ""); err != nil {
			bad("QQ_LISTEN", "%v", err)
		}
	}
	for _, r := range c.QQAdminRoles {
		if r != "owner" && r != "admin" && r != "member" {
			bad("QQ_ADMIN_ROLES", "%q: want owner, admin, member or none", r)
		}
	}

	if len(c.Servers) == 0 {
		missing("MC_0_NAME", "no Minecraft server configured (set MC_0_NAME and MC_0_GROUPS)")
	}
	names := map[string]int{}
	reverse := false
	for _, s := range c.Servers {
		p := fmt.Sprintf("MC_%d_", s.Index)
		if s.Name == "" {
			missing(p+"NAME", "required: the server's name, as server_name in QueQiao's config.yml")
		} else if j, dup := names[strings.ToLower(s.Name)]; dup {
			bad(p+"NAME", "%q is also MC_%d_NAME; names must be unique", s.Name, j)
		} else {
			names[strings.ToLower(s.Name)] = s.Index
		}
		if strings.ContainsAny(s.Name, " \t@") {
			bad(p+"NAME", "%q: no spaces or @ (users type @name in commands)", s.Name)
		}
		if len(s.Groups) == 0 {
			missing(p+"GROUPS", "required: the QQ groups bridged with this server")
		}
		if s.WSURL == "" {
			reverse = true
			if c.MCListen == "" {
				missing(p+"WS_URL", "empty, so the server must dial in, but MC_LISTEN is not set")
			} else if s.Token == "" && !isLoopback(c.MCListen) {
				missing(p+"TOKEN", "required: MC_LISTEN accepts connections from other hosts")
			}
		} else if u, err := url.Parse(s.WSURL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			bad(p+"WS_URL", "%q: want ws://host:port", redact.URL(s.WSURL))
		}
		if s.RCONAddr != "" {
			if _, port, err := net.SplitHostPort(s.RCONAddr); err != nil || port == "" {
				bad(p+"RCON_ADDR", "%q: want host:port", s.RCONAddr)
			}
		}
		if s.GameVersion != "auto" {
			if _, ok := minecraft.StyleFor(s.GameVersion); !ok {
				bad(p+"GAME_VERSION", "%q: want auto or a game version such as 1.21.4", s.GameVersion)
			}
		}
	}
	if c.MCListen != "" {
		if _, _, err := net.SplitHostPort(c.MCListen); err != nil {
			bad("MC_LISTEN", "%q: want host:port", c.MCListen)
		} else if !reverse {
			bad("MC_LISTEN", "set, but every server has MC_<n>_WS_URL; leave a server's WS_URL empty for it to dial in")
		}
	}

	for _, k := range c.SyncMCToQQ {
		if _, ok := minecraft.ParseEventKind(k); !ok {
			bad("SYNC_MC_TO_QQ", "%q: want some of chat, join, quit, death, advancement, command, or none", k)
		}
	}
	if !slices.Contains([]string{"auto", "always", "never"}, c.ShowServerName) {
		bad("SHOW_SERVER_NAME", "%q: want auto, always or never", c.ShowServerName)
	}
	if err := c.Templates().Validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.validateAccounts()...)
	if strings.TrimSpace(c.CommandPrefix) == "" {
		bad("COMMAND_PREFIX", "must not be blank")
	}
	if c.QueueSize <= 0 {
		bad("QUEUE_SIZE", "must be positive")
	}
	if c.QueueTTL <= 0 {
		bad("QUEUE_TTL", "must be positive")
	}
	if c.JoinQuitDebounce < 0 {
		bad("JOIN_QUIT_DEBOUNCE", "must not be negative (0s turns it off)")
	}
	if c.RequestTimeout <= 0 {
		bad("REQUEST_TIMEOUT", "must be positive")
	}
	if c.HTTPListen != "none" {
		if _, _, err := net.SplitHostPort(c.HTTPListen); err != nil {
			bad("HTTP_LISTEN", "%q: want host:port or none", c.HTTPListen)
		}
	}
	if !slices.Contains([]string{"auto", "text", "json"}, c.LogFormat) {
		bad("LOG_FORMAT", "%q: want auto, text or json", c.LogFormat)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		bad("LOG_LEVEL", "%v", err)
	}
	return errs
}

// checkListen refuses a listener reachable from other hosts without a token
// (SPEC §4).
func checkListen(addr string, hasToken bool) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%q: want host:port", addr)
	}
	if !hasToken && !isLoopback(addr) {
		return fmt.Errorf("%q is reachable from other hosts: set QQ_ACCESS_TOKEN, or bind to 127.0.0.1", addr)
	}
	return nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// knownVars lists every variable name the bridge reads (servers as MC_<n>_X).
func knownVars() (top map[string]bool, server map[string]bool) {
	top, server = map[string]bool{}, map[string]bool{}
	collect := func(t reflect.Type, into map[string]bool) {
		for f := range t.Fields() {
			if name := strings.Split(f.Tag.Get("env"), ",")[0]; name != "" && name != "-" {
				into[name] = true
			}
		}
	}
	collect(reflect.TypeFor[Config](), top)
	collect(reflect.TypeFor[Server](), server)
	return top, server
}

// Secrets are the values no log line or printed table may show: every
// `secret:"true"` variable, and the passwords and token parameters inside
// QQ_URL and MC_<n>_WS_URL.
func (c *Config) Secrets() []string {
	var out []string
	add := func(v reflect.Value) {
		t := v.Type()
		for i := range t.NumField() {
			if t.Field(i).Tag.Get("secret") == "true" {
				out = append(out, v.Field(i).String())
			}
		}
	}
	add(reflect.ValueOf(*c))
	out = append(out, redact.URLSecrets(c.QQURL)...)
	for _, s := range c.Servers {
		add(reflect.ValueOf(s))
		out = append(out, redact.URLSecrets(s.WSURL)...)
	}
	return out
}

// Redactor hides the configuration's secrets (see Secrets) and any URL's
// password or token in text.
func (c *Config) Redactor() *redact.Redactor { return redact.New(c.Secrets()...) }

// Redacted returns "NAME=value" lines for -check, secrets shown as ***.
func (c *Config) Redacted() []string {
	r := c.Redactor()
	var lines []string
	add := func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("env"), ",")[0]
			if name == "" || name == "-" {
				continue
			}
			val := fmt.Sprint(v.Field(i).Interface())
			switch x := v.Field(i).Interface().(type) {
			case time.Duration:
				val = shortDuration(x)
			case List:
				val = strings.Join(x, ",")
			case IDList:
				parts := make([]string, len(x))
				for j, id := range x {
					parts[j] = strconv.FormatInt(id, 10)
				}
				val = strings.Join(parts, ",")
			}
			if f.Tag.Get("secret") == "true" && val != "" {
				val = redact.Mask
			}
			val = r.String(val) // URLs with a password or token
			lines = append(lines, prefix+name+"="+val)
		}
	}
	add(reflect.ValueOf(*c), "")
	for _, s := range c.Servers {
		add(reflect.ValueOf(s), fmt.Sprintf("MC_%d_", s.Index))
	}
	return lines
}
