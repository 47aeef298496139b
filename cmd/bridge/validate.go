package main

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/mcqq/bridge/internal/redact"
)

// validate checks what the value types (values.go) cannot check alone:
// what each QQ protocol accepts, the server blocks, listeners and their
// tokens, ranges and the templates' placeholders. It returns errors naming
// the variables; LoadConfig keeps the first of each.
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
	case ProtocolOneBot:
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
	case ProtocolMilky:
		if c.QQURL == "" {
			missing("QQ_URL", "required for milky (the bot's base URL, e.g. http://127.0.0.1:3010)")
		} else if u, err := url.Parse(c.QQURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("QQ_URL", "%q: milky wants an http:// or https:// base URL", redact.URL(c.QQURL))
		}
	case ProtocolSatori:
		if c.QQURL == "" {
			missing("QQ_URL", "required for satori (the server's base URL before /v1, e.g. http://127.0.0.1:5600 for LLBot, http://127.0.0.1:5140/satori for Koishi)")
		} else if u, err := url.Parse(c.QQURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("QQ_URL", "%q: satori wants an http:// or https:// base URL", redact.URL(c.QQURL))
		}
		if c.QQListen != "" {
			bad("QQ_LISTEN", "not used with satori: the bridge dials the server's event stream at QQ_URL; unset QQ_LISTEN")
		}
	}
	if u, err := url.Parse(c.QQURL); c.QQURL != "" && err == nil && !validURLPort(u) {
		bad("QQ_URL", "%q: %s", redact.URL(c.QQURL), badPort)
	}
	// milky and satori have said QQ_URL is required.
	if c.QQURL == "" && c.QQListen == "" && c.QQProtocol != ProtocolMilky && c.QQProtocol != ProtocolSatori {
		missing("QQ_URL", "set QQ_URL (we dial the bot) or QQ_LISTEN (the bot dials us)")
	}
	if c.QQListen != "" && c.QQProtocol != ProtocolSatori {
		if err := checkListen(c.QQListen, c.QQToken != ""); err != nil {
			bad("QQ_LISTEN", "%v", err)
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
			bad(p+"NAME", "%q is also MC_%d_NAME; names must be unique (compared ignoring case)", s.Name, j)
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
		} else if !validURLPort(u) {
			bad(p+"WS_URL", "%q: %s", redact.URL(s.WSURL), badPort)
		}
		if s.RCONAddr != "" {
			if problem := addrProblem(s.RCONAddr); problem != "" {
				bad(p+"RCON_ADDR", "%q: %s", s.RCONAddr, problem)
			}
		}
	}
	if c.MCListen != "" {
		if problem := addrProblem(c.MCListen); problem != "" {
			bad("MC_LISTEN", "%q: %s", c.MCListen, problem)
		} else if !reverse {
			bad("MC_LISTEN", "set, but every server has MC_<n>_WS_URL; leave a server's WS_URL empty for it to dial in")
		}
	}

	for _, u := range c.Templates().UnknownPlaceholders() {
		bad(u.Variable, "%s", u.Problem())
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
	if !c.HTTPListen.None() {
		if problem := addrProblem(string(c.HTTPListen)); problem == badPort {
			bad("HTTP_LISTEN", "%q: %s", c.HTTPListen, problem)
		} else if problem != "" {
			bad("HTTP_LISTEN", "%q: want host:port or none", c.HTTPListen)
		}
	}
	return errs
}

// checkListen refuses a listener reachable from other hosts without a
// token: anyone who can reach it could otherwise speak for the bot.
func checkListen(addr string, hasToken bool) error {
	if problem := addrProblem(addr); problem != "" {
		return fmt.Errorf("%q: %s", addr, problem)
	}
	if !hasToken && !isLoopback(addr) {
		return fmt.Errorf("%q is reachable from other hosts: set QQ_ACCESS_TOKEN, or bind to 127.0.0.1", addr)
	}
	return nil
}

// badPort is what is wrong with a port that is not a number from 1 to
// 65535: a service name, 0 (any free port, which nothing could be told) or
// too large.
const badPort = "the port must be a number from 1 to 65535"

// addrProblem says what is wrong with addr as a host:port, or "" when
// nothing is.
func addrProblem(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	switch {
	case err != nil || port == "":
		return "want host:port"
	case !validPort(port):
		return badPort
	}
	return ""
}

// validPort reports whether port is a number from 1 to 65535.
func validPort(port string) bool {
	n, err := strconv.ParseUint(port, 10, 16)
	return err == nil && n >= 1
}

// validURLPort reports whether u has no port or a valid one; "host:" with
// nothing after the colon is neither (it would dial port 0).
func validURLPort(u *url.URL) bool {
	return !strings.HasSuffix(u.Host, ":") && (u.Port() == "" || validPort(u.Port()))
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
