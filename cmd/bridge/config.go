package main

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/mcqq/bridge/format"
	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/internal/redact"
	"github.com/mcqq/bridge/relay"
)

// Config is the whole configuration, read from environment variables only.
// Field tags name the variables; `secret:"true"` fields are shown as *** by
// -check. Each default is written once: in the envDefault tag, as the zero
// value of the field's type, or, when a package that uses it owns it, in
// defaults.
type Config struct {
	QQProtocol   Protocol `env:"QQ_PROTOCOL"`
	QQURL        string   `env:"QQ_URL"`
	QQListen     string   `env:"QQ_LISTEN"`
	QQToken      string   `env:"QQ_ACCESS_TOKEN" secret:"true"`
	QQAdmins     IDList   `env:"QQ_ADMINS"`
	QQAdminRoles Roles    `env:"QQ_ADMIN_ROLES" envDefault:"owner,admin"`
	MCListen     string   `env:"MC_LISTEN"`
	Servers      []Server `env:"-"`

	SyncQQToMC       bool              `env:"SYNC_QQ_TO_MC" envDefault:"true"`
	SyncMCToQQ       EventKinds        `env:"SYNC_MC_TO_QQ" envDefault:"chat,join,quit,death,advancement"`
	QQSyncPrefix     string            `env:"QQ_SYNC_PREFIX"`
	QQIgnorePrefixes List              `env:"QQ_IGNORE_PREFIXES"`
	MCIgnorePrefixes List              `env:"MC_IGNORE_PREFIXES" envDefault:"!!"`
	ShowServerName   relay.ServerNames `env:"SHOW_SERVER_NAME"`
	ShowGroupName    bool              `env:"SHOW_GROUP_NAME" envDefault:"false"`
	CrossServerChat  bool              `env:"CROSS_SERVER_CHAT" envDefault:"false"`
	ChatImage        bool              `env:"CHAT_IMAGE" envDefault:"false"`
	MCImageToQQ      bool              `env:"MC_IMAGE_TO_QQ" envDefault:"true"`
	MCIgnorePlayers  Players           `env:"MC_IGNORE_PLAYERS"`
	JoinQuitDebounce time.Duration     `env:"JOIN_QUIT_DEBOUNCE" envDefault:"0s"`
	QQGroupRate      Rate              `env:"QQ_GROUP_RATE" envDefault:"20/1m"`

	// The FORMAT_* defaults are format.DefaultTemplates.
	FormatChat        string `env:"FORMAT_CHAT"`
	FormatJoin        string `env:"FORMAT_JOIN"`
	FormatQuit        string `env:"FORMAT_QUIT"`
	FormatDeath       string `env:"FORMAT_DEATH"`
	FormatAdvancement string `env:"FORMAT_ADVANCEMENT"`
	FormatCommand     string `env:"FORMAT_COMMAND"`

	CommandPrefix string `env:"COMMAND_PREFIX"` // default relay.DefaultCommandPrefix
	RCONPublic    List   `env:"RCON_PUBLIC" envDefault:"list"`
	RCONDeny      List   `env:"RCON_DENY" envDefault:"stop,restart,op,deop"`

	// The QUEUE_* defaults are relay.DefaultQueue*, REQUEST_TIMEOUT's is
	// link.DefaultRequestTimeout.
	QueueSize      int           `env:"QUEUE_SIZE"`
	QueueBytes     ByteSize      `env:"QUEUE_BYTES"`
	QueueTTL       time.Duration `env:"QUEUE_TTL"`
	RequestTimeout time.Duration `env:"REQUEST_TIMEOUT"`

	// Accounts (accounts.go).
	Bind              bool        `env:"BIND" envDefault:"true"`
	BindMax           int         `env:"BIND_MAX" envDefault:"1"`
	BindNamePattern   NamePattern `env:"BIND_NAME_PATTERN"` // default relay.DefaultNamePattern
	BindVerify        bool        `env:"BIND_VERIFY" envDefault:"false"`
	BindUnbindOnLeave bool        `env:"BIND_UNBIND_ON_LEAVE" envDefault:"true"`

	HTTPListen OptionalAddr `env:"HTTP_LISTEN" envDefault:"127.0.0.1:9180"`
	// DataDir holds bridge.db. Empty (never from the environment, where
	// empty means the default) runs without a database, as the demo does.
	DataDir   string    `env:"DATA_DIR" envDefault:"data"`
	LogFormat LogFormat `env:"LOG_FORMAT"`
	LogLevel  LogLevel  `env:"LOG_LEVEL"`
}

// Server is one MC_<n>_ block.
type Server struct {
	Index        int         `env:"-"`
	Name         string      `env:"NAME"`
	WSURL        string      `env:"WS_URL"`
	Token        string      `env:"TOKEN" secret:"true"`
	RCONAddr     string      `env:"RCON_ADDR"`
	RCONPassword string      `env:"RCON_PASSWORD" secret:"true"`
	Groups       IDList      `env:"GROUPS"`
	GameVersion  GameVersion `env:"GAME_VERSION"`
	Whitelist    bool        `env:"WHITELIST" envDefault:"false"`
}

// defaults is the configuration before the environment is read: the
// defaults owned by the packages that use them. A variable that is unset or
// empty leaves its field as it is here.
func defaults() *Config {
	t := format.DefaultTemplates()
	return &Config{
		FormatChat:        t.Chat,
		FormatJoin:        t.Join,
		FormatQuit:        t.Quit,
		FormatDeath:       t.Death,
		FormatAdvancement: t.Advancement,
		FormatCommand:     t.Command,
		CommandPrefix:     relay.DefaultCommandPrefix,
		QueueSize:         relay.DefaultQueueSize,
		QueueBytes:        relay.DefaultQueueBytes,
		QueueTTL:          relay.DefaultQueueTTL,
		RequestTimeout:    link.DefaultRequestTimeout,
		BindNamePattern:   NamePattern{regexp.MustCompile(relay.DefaultNamePattern)},
	}
}

// Templates returns the FORMAT_* templates.
func (c *Config) Templates() format.Templates {
	return format.Templates{Chat: c.FormatChat, Join: c.FormatJoin, Quit: c.FormatQuit,
		Death: c.FormatDeath, Advancement: c.FormatAdvancement, Command: c.FormatCommand}
}

var serverVarRE = regexp.MustCompile(`^MC_(\d+)_`)

// serverVar splits a server variable into its block's index and the rest
// (MC_1_NAME: 1, NAME). The index must be written as fmt.Sprintf("MC_%d_")
// writes it: MC_01_NAME or MC_00_TOKEN would otherwise count as known here
// while the block's MC_1_/MC_0_ prefix never reads them.
func serverVar(name string) (index int, rest string, ok bool) {
	m := serverVarRE.FindStringSubmatch(name)
	if m == nil {
		return 0, "", false
	}
	i, err := strconv.Atoi(m[1])
	if err != nil || strconv.Itoa(i) != m[1] {
		return 0, "", false
	}
	return i, name[len(m[0]):], true
}

// isSetting reports whether name is one of the bridge's variables: a
// top-level one or one of a server block (MC_<n>_NAME, …).
func isSetting(name string) bool {
	top, server := knownVars()
	if top[name] {
		return true
	}
	_, rest, ok := serverVar(name)
	return ok && server[rest]
}

// LoadConfig reads the configuration from environ (KEY → value). It returns
// warnings (likely typos, quoted values) and an error joining one error per
// bad variable.
func LoadConfig(environ map[string]string) (cfg *Config, warnings []string, err error) {
	return loadConfig(environ, envSource{})
}

// loadConfig is LoadConfig knowing how the dotenv file wrote its values.
func loadConfig(environ map[string]string, source envSource) (cfg *Config, warnings []string, err error) {
	var errs []error
	environ, spaced := trimValues(environ, source.quoted)
	cfg = defaults()
	if e := env.ParseWithOptions(cfg, env.Options{Environment: environ}); e != nil {
		errs = append(errs, envErrors(e, reflect.TypeFor[Config](), "", environ)...)
	}

	indices := map[int]bool{}
	for k := range environ {
		if i, _, ok := serverVar(k); ok {
			indices[i] = true
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

	errs = append(errs, cfg.validate()...)
	errs, warnings = explainTypos(onePerVariable(errs), environ)
	warnings = append(warnings, quotedValues(environ)...)
	warnings = append(warnings, spaced...)
	warnings = append(warnings, hashInside(source)...)
	if !cfg.HTTPListen.None() && addrProblem(string(cfg.HTTPListen)) == "" && !isLoopback(string(cfg.HTTPListen)) {
		// Listeners reachable from other hosts need a token; health and
		// metrics have none, so say plainly what is exposed.
		warnings = append(warnings, fmt.Sprintf("HTTP_LISTEN %s is reachable from other hosts: /healthz, /readyz and /metrics have no token", cfg.HTTPListen))
	}
	return cfg, warnings, errors.Join(errs...)
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

// knownVars lists every variable name the bridge reads (servers as MC_<n>_X).
// The maps are shared: callers only read them.
var knownVars = sync.OnceValues(func() (top map[string]bool, server map[string]bool) {
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
})

// Secrets are the values no log line or printed table may show: every
// `secret:"true"` variable, and the passwords and token parameters inside
// QQ_URL and MC_<n>_WS_URL.
func (c *Config) Secrets() []string {
	var out []string
	c.eachSecret(func(_, value string) { out = append(out, value) })
	return out
}

// eachSecret calls f with every secret Secrets lists and the variable it
// comes from, in the same order.
func (c *Config) eachSecret(f func(name, value string)) {
	tagged := func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := range t.NumField() {
			if t.Field(i).Tag.Get("secret") == "true" {
				f(prefix+strings.Split(t.Field(i).Tag.Get("env"), ",")[0], v.Field(i).String())
			}
		}
	}
	tagged(reflect.ValueOf(*c), "")
	for _, s := range redact.URLSecrets(c.QQURL) {
		f("QQ_URL", s)
	}
	for _, srv := range c.Servers {
		prefix := fmt.Sprintf("MC_%d_", srv.Index)
		tagged(reflect.ValueOf(srv), prefix)
		for _, s := range redact.URLSecrets(srv.WSURL) {
			f(prefix+"WS_URL", s)
		}
	}
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
