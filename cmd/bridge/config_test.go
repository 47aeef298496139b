package main

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/format"
)

func minimalEnv() map[string]string {
	return map[string]string{
		"QQ_URL":      "ws://127.0.0.1:3001/",
		"MC_0_NAME":   "survival",
		"MC_0_WS_URL": "ws://127.0.0.1:8080",
		"MC_0_GROUPS": "712345678",
	}
}

func TestDefaultsFollowTheSpec(t *testing.T) {
	cfg, warnings, err := LoadConfig(minimalEnv())
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Fatalf("warnings: %v", warnings)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"QQ_PROTOCOL", cfg.QQProtocol.String(), "onebot"},
		{"QQ_ADMIN_ROLES", []string(cfg.QQAdminRoles), []string{"owner", "admin"}},
		{"SYNC_QQ_TO_MC", cfg.SyncQQToMC, true},
		{"SYNC_MC_TO_QQ", []string(kindNames(cfg.SyncMCToQQ)), []string{"chat", "join", "quit", "death", "advancement"}},
		{"MC_IGNORE_PREFIXES", []string(cfg.MCIgnorePrefixes), []string{"!!"}},
		{"SHOW_SERVER_NAME", cfg.ShowServerName.String(), "auto"},
		{"MC_IMAGE_TO_QQ", cfg.MCImageToQQ, true},
		{"MC_IGNORE_PLAYERS", cfg.MCIgnorePlayers.String(), ""},
		{"JOIN_QUIT_DEBOUNCE", cfg.JoinQuitDebounce, time.Duration(0)},
		{"QQ_GROUP_RATE", cfg.QQGroupRate, Rate{N: 20, Period: time.Minute, Burst: 5}},
		{"FORMAT_CHAT", cfg.FormatChat, "{player}：{message}"},
		{"FORMAT_ADVANCEMENT", cfg.FormatAdvancement, "{player} 达成了进度 [{title}]"},
		{"COMMAND_PREFIX", cfg.CommandPrefix, "/"},
		{"RCON_PUBLIC", []string(cfg.RCONPublic), []string{"list"}},
		{"RCON_DENY", []string(cfg.RCONDeny), []string{"stop", "restart", "op", "deop"}},
		{"QUEUE_SIZE", cfg.QueueSize, 500},
		{"QUEUE_BYTES", cfg.QueueBytes, ByteSize(16 << 20)},
		{"QUEUE_TTL", cfg.QueueTTL, 10 * time.Minute},
		{"REQUEST_TIMEOUT", cfg.RequestTimeout, 10 * time.Second},
		{"HTTP_LISTEN", cfg.HTTPListen.String(), "127.0.0.1:9180"},
		{"DATA_DIR", cfg.DataDir, "data"},
		{"MC_0_GAME_VERSION", cfg.Servers[0].GameVersion.String(), "auto"},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if cfg.Templates() != format.DefaultTemplates() {
		t.Errorf("FORMAT_* defaults %+v differ from format.DefaultTemplates %+v", cfg.Templates(), format.DefaultTemplates())
	}
}

func equal(a, b any) bool {
	if as, ok := a.([]string); ok {
		bs, _ := b.([]string)
		return slices.Equal(as, bs)
	}
	return a == b
}

func TestNoneIsTheEmptyListAndEmptyIsTheDefault(t *testing.T) {
	env := minimalEnv()
	env["QQ_ADMIN_ROLES"] = "none"
	env["SYNC_MC_TO_QQ"] = "none"
	env["MC_IGNORE_PREFIXES"] = "" // set but empty: the default
	env["QQ_GROUP_RATE"] = "0"
	cfg, _, err := LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.QQAdminRoles) != 0 || len(cfg.SyncMCToQQ) != 0 {
		t.Fatalf("none gave %v / %v", cfg.QQAdminRoles, cfg.SyncMCToQQ)
	}
	if !slices.Equal(cfg.MCIgnorePrefixes, List{"!!"}) {
		t.Fatalf("empty MC_IGNORE_PREFIXES = %v, want the default", cfg.MCIgnorePrefixes)
	}
	if cfg.QQGroupRate.Enabled() {
		t.Fatal("QQ_GROUP_RATE=0 still limits")
	}
}

// Every bad variable is reported on its own line, named by the variable,
// including those of a second server block.
func TestErrorsNameEachBadVariable(t *testing.T) {
	env := map[string]string{
		"QQ_PROTOCOL":        "telegram",
		"QQ_ADMINS":          "123,abc",
		"QQ_GROUP_RATE":      "many",
		"SHOW_SERVER_NAME":   "sometimes",
		"FORMAT_CHAT":        "{player} {nope}",
		"REQUEST_TIMEOUT":    "soon",
		"MC_IGNORE_PLAYERS":  "bot_*,Steve Jobs",
		"JOIN_QUIT_DEBOUNCE": "-5s",
		"MC_0_NAME":          "survival",
		"MC_0_GROUPS":        "12x",
		"MC_0_WS_URL":        "http://x",
		"MC_2_GROUPS":        "712345678",
		"MC_2_RCON_ADDR":     "nohost",
		"MC_2_GAME_VERSION":  "latest",
	}
	_, _, err := LoadConfig(env)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, want := range []string{"QQ_PROTOCOL:", "QQ_ADMINS:", "QQ_GROUP_RATE:", "SHOW_SERVER_NAME:",
		"FORMAT_CHAT:", "REQUEST_TIMEOUT:", "MC_IGNORE_PLAYERS:", "JOIN_QUIT_DEBOUNCE:", "MC_0_GROUPS:", "MC_0_WS_URL:", "MC_2_NAME:", "MC_2_RCON_ADDR:",
		"MC_2_GAME_VERSION:", "QQ_URL:"} {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line starting %q in:\n%s", want, err)
		}
	}
}

func TestListenersNeedATokenUnlessLoopback(t *testing.T) {
	env := minimalEnv()
	delete(env, "QQ_URL")
	env["QQ_LISTEN"] = "0.0.0.0:8081"
	if _, _, err := LoadConfig(env); err == nil || !strings.Contains(err.Error(), "QQ_LISTEN") {
		t.Fatalf("open QQ_LISTEN without a token: %v", err)
	}
	env["QQ_LISTEN"] = "127.0.0.1:8081"
	if _, _, err := LoadConfig(env); err != nil {
		t.Fatalf("loopback QQ_LISTEN: %v", err)
	}

	env = minimalEnv()
	delete(env, "MC_0_WS_URL")
	env["MC_LISTEN"] = "0.0.0.0:8090"
	if _, _, err := LoadConfig(env); err == nil || !strings.Contains(err.Error(), "MC_0_TOKEN") {
		t.Fatalf("open MC_LISTEN for a server without a token: %v", err)
	}
	env["MC_0_TOKEN"] = "secret"
	if _, _, err := LoadConfig(env); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownVariablesAreWarnedAbout(t *testing.T) {
	env := minimalEnv()
	env["MC_0_RCON_ADR"] = "127.0.0.1:25575"
	env["QQ_ADMIN"] = "1"
	env["PATH"] = "/bin"
	_, warnings, err := LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(warnings, "\n")
	if len(warnings) != 2 || !strings.Contains(joined, "MC_0_RCON_ADR") || !strings.Contains(joined, "QQ_ADMIN ") {
		t.Fatalf("warnings: %v", warnings)
	}
}

func TestOneBotHTTPAPIIsAccepted(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"events over SSE":       {"QQ_URL": "http://127.0.0.1:3000"},
		"events as webhooks":    {"QQ_URL": "https://bot.example:3000", "QQ_LISTEN": "127.0.0.1:8081"},
		"open webhook, signed":  {"QQ_URL": "http://127.0.0.1:3000", "QQ_LISTEN": "0.0.0.0:8081", "QQ_ACCESS_TOKEN": "s3cret"},
		"path prefix, no slash": {"QQ_URL": "http://127.0.0.1:3000/onebot"},
	} {
		t.Run(name, func(t *testing.T) {
			e := minimalEnv()
			maps.Copy(e, env)
			cfg, _, err := LoadConfig(e)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := build(cfg, slog.New(slog.DiscardHandler)); err != nil {
				t.Fatalf("build: %v", err)
			}
		})
	}
}

func TestUnsupportedCombinationsAreStartupErrors(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"satori ws":      {"QQ_PROTOCOL": "satori", "QQ_URL": "ws://127.0.0.1:5600"},
		"onebot ftp":     {"QQ_URL": "ftp://127.0.0.1:3000"},
		"milky ws":       {"QQ_PROTOCOL": "milky", "QQ_URL": "ws://127.0.0.1:3010"},
		"reverse no hub": {"MC_0_WS_URL": ""},
		"ws and listen":  {"QQ_LISTEN": "127.0.0.1:8081"},
		"duplicate name": {"MC_1_NAME": "Survival", "MC_1_WS_URL": "ws://127.0.0.1:8081", "MC_1_GROUPS": "1"},
	} {
		t.Run(name, func(t *testing.T) {
			e := minimalEnv()
			for k, v := range env {
				e[k] = v
			}
			if _, _, err := LoadConfig(e); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestBadConfigurationExitsWithCode2(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-env-file", filepath.Join(t.TempDir(), "none.env")}, nil, &out, &errOut)
	if code != exitConfig {
		t.Fatalf("missing env file: exit %d", code)
	}
	t.Chdir(t.TempDir()) // no .env here
	errOut.Reset()
	code = run(context.Background(), nil, []string{"MC_0_GROUPS=x"}, &out, &errOut)
	if code != exitConfig {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitConfig, errOut.String())
	}
	if !strings.Contains(errOut.String(), "MC_0_GROUPS") || !strings.Contains(errOut.String(), "QQ_URL") {
		t.Fatalf("stderr:\n%s", errOut.String())
	}
}

func TestEnvFileIsReadAndRealVariablesWin(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bridge.env")
	content := "QQ_URL=ws://127.0.0.1:3001/\nMC_0_NAME=fromfile\nMC_0_WS_URL=ws://127.0.0.1:8080\nMC_0_GROUPS=1\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	env, _, err := environment([]string{"MC_0_NAME=fromenv"}, file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Servers[0].Name != "fromenv" || cfg.QQURL != "ws://127.0.0.1:3001/" {
		t.Fatalf("got name %q url %q", cfg.Servers[0].Name, cfg.QQURL)
	}
}

func TestRedactedHidesSecrets(t *testing.T) {
	env := minimalEnv()
	env["QQ_ACCESS_TOKEN"] = "qq-secret"
	env["MC_0_TOKEN"] = "mc-secret"
	env["MC_0_RCON_ADDR"] = "127.0.0.1:25575"
	env["MC_0_RCON_PASSWORD"] = "rcon-secret"
	cfg, _, err := LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Join(cfg.Redacted(), "\n")
	for _, secret := range []string{"qq-secret", "mc-secret", "rcon-secret"} {
		if strings.Contains(out, secret) {
			t.Fatalf("%s shown:\n%s", secret, out)
		}
	}
	for _, want := range []string{"QQ_ACCESS_TOKEN=***", "MC_0_TOKEN=***", "MC_0_RCON_PASSWORD=***", "MC_0_GROUPS=712345678"} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q in:\n%s", want, out)
		}
	}
}

// Milky without QQ_URL gets one line saying that milky needs it, not a
// second one suggesting QQ_LISTEN alone would do.
func TestMilkyWithoutURLIsOneLine(t *testing.T) {
	e := minimalEnv()
	delete(e, "QQ_URL")
	e["QQ_PROTOCOL"] = "milky"
	_, _, err := LoadConfig(e)
	if err == nil {
		t.Fatal("accepted")
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "QQ_URL: required for milky") {
		t.Fatalf("error lines:\n%s", err)
	}
}

// Satori takes an http(s) base URL (LLBot's, or Koishi's with its path
// prefix); a missing QQ_URL or a QQ_LISTEN, which satori does not use, is
// one clear line.
func TestSatoriConfiguration(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:5600", "http://127.0.0.1:5140/satori", "https://bot.example/satori/"} {
		e := minimalEnv()
		e["QQ_PROTOCOL"], e["QQ_URL"] = "satori", u
		cfg, _, err := LoadConfig(e)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if _, err := build(cfg, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatalf("%s: build: %v", u, err)
		}
	}
	for name, c := range map[string]struct {
		env  map[string]string
		want string
	}{
		"no QQ_URL":   {map[string]string{"QQ_URL": ""}, "QQ_URL: required for satori"},
		"QQ_LISTEN":   {map[string]string{"QQ_URL": "http://127.0.0.1:5600", "QQ_LISTEN": "127.0.0.1:8081"}, "QQ_LISTEN: not used with satori"},
		"ws QQ_URL":   {map[string]string{"QQ_URL": "ws://127.0.0.1:5600/v1/events"}, "QQ_URL: \"ws://127.0.0.1:5600/v1/events\": satori wants an http:// or https:// base URL"},
		"no protocol": {map[string]string{"QQ_PROTOCOL": "kook"}, `QQ_PROTOCOL: "kook": want onebot, milky or satori`},
	} {
		t.Run(name, func(t *testing.T) {
			e := minimalEnv()
			e["QQ_PROTOCOL"] = "satori"
			maps.Copy(e, c.env)
			if e["QQ_URL"] == "" {
				delete(e, "QQ_URL")
			}
			_, _, err := LoadConfig(e)
			if err == nil {
				t.Fatal("accepted")
			}
			if lines := strings.Split(err.Error(), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], c.want) {
				t.Fatalf("error lines:\n%s", err)
			}
		})
	}
}

func TestOpenHTTPListenIsWarnedAbout(t *testing.T) {
	env := minimalEnv()
	env["HTTP_LISTEN"] = "0.0.0.0:9180"
	_, warnings, err := LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "HTTP_LISTEN") {
		t.Fatalf("warnings: %v", warnings)
	}
}

// Two servers whose names differ only in case are refused, and the line
// says that case does not count.
func TestDuplicateNamesIgnoreCase(t *testing.T) {
	env := minimalEnv()
	env["MC_1_NAME"], env["MC_1_WS_URL"], env["MC_1_GROUPS"] = "Survival", "ws://127.0.0.1:8081", "1"
	lines, _ := errorLines(t, env)
	if want := `MC_1_NAME: "Survival" is also MC_0_NAME; names must be unique (compared ignoring case)`; len(lines) != 1 || lines[0] != want {
		t.Fatalf("error lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), want)
	}
}

// -demo with a QQ_PROTOCOL it cannot read is a configuration error, exit
// code 2 like a normal start, before anything is started.
func TestDemoWithBadProtocolExitsWithCode2(t *testing.T) {
	t.Chdir(t.TempDir()) // no .env here
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-demo"}, []string{"QQ_PROTOCOL=napcat"}, &out, &errOut)
	want := "configuration error:\n  QQ_PROTOCOL: \"napcat\": want onebot, milky or satori (napcat speaks onebot: did you mean QQ_PROTOCOL=onebot?)\n"
	if code != exitConfig || errOut.String() != want || out.Len() != 0 {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s\nwant:\n%s", code, out.String(), errOut.String(), want)
	}
}

// A word after the flags (bridge check for bridge -check) is refused with
// the usage, instead of starting the service as if it were not there.
func TestPositionalArgumentsAreRefused(t *testing.T) {
	t.Chdir(t.TempDir())
	// Cancelled: if the words were ignored, the service or -check would
	// stop at once instead of running on.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"check"}, `bridge: unexpected argument "check": did you mean -check?`},
		{[]string{"-env-file", "x.env", "version"}, `bridge: unexpected argument "version": did you mean -version?`},
		{[]string{"-check", "now"}, `bridge: unexpected argument "now"`},
		{[]string{"--", "-check"}, `bridge: unexpected argument "-check"`}, // not "did you mean -check?"
	} {
		var out, errOut bytes.Buffer
		code := run(ctx, c.args, minimalEnvList(), &out, &errOut)
		lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
		if code != exitConfig || lines[0] != c.want || !strings.HasPrefix(lines[len(lines)-1], "usage: bridge [-env-file PATH]") || out.Len() != 0 {
			t.Errorf("%q: exit %d; stdout:\n%s\nstderr:\n%s", c.args, code, out.String(), errOut.String())
		}
	}
}

// minimalEnvList is minimalEnv as a process environment.
func minimalEnvList() []string {
	var list []string
	for k, v := range minimalEnv() {
		list = append(list, k+"="+v)
	}
	return list
}

// -h lists the flags and exits 0: asking for help is not a configuration
// error (exit code 2).
func TestHelpExitsZero(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, nil, &out, &errOut); code != exitOK || !strings.Contains(errOut.String(), "-env-file") {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}
}

// -demo fed QQ_PROTOCOL="milky" by docker --env-file (quotes kept) says the
// quotes are the problem, as a normal start does.
func TestDemoWithQuotedProtocolSaysSo(t *testing.T) {
	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-demo"}, []string{`QQ_PROTOCOL="milky"`}, &out, &errOut)
	if code != exitConfig || !strings.Contains(errOut.String(), "QQ_PROTOCOL is wrapped in quotes") {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}
}

// A URL whose port is empty ("ws://127.0.0.1:") would dial port 0: it is
// refused like any other bad port; a bad HTTP_LISTEN is not also called
// reachable from other hosts; yogurt names Milky.
func TestSmallConfigurationMistakes(t *testing.T) {
	env := minimalEnv()
	env["MC_0_WS_URL"] = "ws://127.0.0.1:/x"
	lines, _ := errorLines(t, env)
	if want := `MC_0_WS_URL: "ws://127.0.0.1:/x": the port must be a number from 1 to 65535`; len(lines) != 1 || lines[0] != want {
		t.Errorf("error lines:\n%s\nwant: %s", strings.Join(lines, "\n"), want)
	}
	env = minimalEnv()
	env["HTTP_LISTEN"] = "localhost"
	if _, warnings := errorLines(t, env); slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, "reachable from other hosts") }) {
		t.Errorf("warnings: %q", warnings)
	}
	env = minimalEnv()
	env["QQ_PROTOCOL"] = "Yogurt"
	if lines, _ := errorLines(t, env); len(lines) != 1 || !strings.Contains(lines[0], "did you mean QQ_PROTOCOL=milky?") {
		t.Errorf("error lines:\n%s", strings.Join(lines, "\n"))
	}
}
