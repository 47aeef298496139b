package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// errorLines loads env and returns the error's lines (nil when it loads).
func errorLines(t *testing.T, env map[string]string) ([]string, []string) {
	t.Helper()
	_, warnings, err := LoadConfig(env)
	if err == nil {
		return nil, warnings
	}
	return strings.Split(err.Error(), "\n"), warnings
}

// linesFor returns the lines about one variable.
func linesFor(lines []string, name string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, name+":") {
			out = append(out, l)
		}
	}
	return out
}

// A mistyped required variable is reported once, on the missing variable's
// line, with the name that was typed; it is not also a separate warning.
func TestTypoOfARequiredVariableIsPointedOut(t *testing.T) {
	env := minimalEnv()
	env["MC_0_GROUP"] = env["MC_0_GROUPS"]
	delete(env, "MC_0_GROUPS")
	lines, warnings := errorLines(t, env)
	got := linesFor(lines, "MC_0_GROUPS")
	if len(lines) != 1 || len(got) != 1 || !strings.Contains(got[0], "MC_0_GROUP is set: did you mean MC_0_GROUPS?") {
		t.Fatalf("error lines:\n%s", strings.Join(lines, "\n"))
	}
	if len(warnings) != 0 {
		t.Fatalf("the typo is also a warning: %v", warnings)
	}

	// On Windows a variable keeps the case it was typed in.
	env = minimalEnv()
	env["qq_url"] = env["QQ_URL"]
	delete(env, "QQ_URL")
	lines, _ = errorLines(t, env)
	if got := linesFor(lines, "QQ_URL"); len(got) != 1 || !strings.Contains(got[0], "did you mean QQ_URL?") {
		t.Fatalf("error lines:\n%s", strings.Join(lines, "\n"))
	}
}

// A variable the bridge does not know gets the setting it most likely meant;
// other programs' variables are left alone.
func TestUnknownVariablesGetASuggestion(t *testing.T) {
	env := minimalEnv()
	env["MC_0_RCON_ADR"] = "127.0.0.1:25575"
	env["COMMAND_PREFX"] = "!"
	env["QQ_SOMETHING_ELSE"] = "1"
	for _, k := range []string{"PATH", "HOME", "HOSTNAME", "LANG", "HTTPS_PROXY", "NO_COLOR", "TZ"} {
		env[k] = "x"
	}
	_, warnings := errorLines(t, env)
	want := []string{
		"COMMAND_PREFX is not a setting this bridge knows — did you mean COMMAND_PREFIX?",
		"MC_0_RCON_ADR is not a setting this bridge knows — did you mean MC_0_RCON_ADDR?",
		"QQ_SOMETHING_ELSE is not a setting this bridge knows (typo?)",
	}
	wantWarnings(t, warnings, want)
}

// Values that cannot be read are explained in plain words, once per
// variable, without the Go parser's text.
func TestBadValuesInPlainWords(t *testing.T) {
	env := minimalEnv()
	env["SYNC_QQ_TO_MC"] = "yes"
	env["REQUEST_TIMEOUT"] = "10"
	env["QUEUE_SIZE"] = "many"
	env["MC_0_GROUPS"] = "mygroup"
	env["QQ_ADMINS"] = "10001,abc"
	lines, _ := errorLines(t, env)
	want := map[string]string{
		"SYNC_QQ_TO_MC":   `SYNC_QQ_TO_MC: "yes": want true or false`,
		"REQUEST_TIMEOUT": `REQUEST_TIMEOUT: "10": want a duration such as 10m, 30s or 1h30m`,
		"QUEUE_SIZE":      `QUEUE_SIZE: "many": want a whole number`,
		"MC_0_GROUPS":     `MC_0_GROUPS: "mygroup" is not a QQ number (want digits, such as 123456789)`,
		"QQ_ADMINS":       `QQ_ADMINS: "abc" is not a QQ number (want digits, such as 123456789)`,
	}
	if len(lines) != len(want) {
		t.Errorf("%d lines for %d bad variables:\n%s", len(lines), len(want), strings.Join(lines, "\n"))
	}
	for name, line := range want {
		if got := linesFor(lines, name); len(got) != 1 || got[0] != line {
			t.Errorf("%s: got %q, want %q", name, got, line)
		}
	}
	for _, l := range lines {
		if strings.Contains(l, "strconv") || strings.Contains(l, "time:") || strings.Contains(l, "parse error") {
			t.Errorf("Go parser text: %q", l)
		}
	}
}

// Lists accept the commas a Chinese input method types; choices accept any
// case.
func TestFullWidthCommasAndAnyCase(t *testing.T) {
	env := minimalEnv()
	env["MC_0_GROUPS"] = "111111，222222、333333"
	env["QQ_ADMINS"] = "10001， 10002"
	env["QQ_PROTOCOL"] = "OneBot"
	env["LOG_FORMAT"] = "JSON"
	env["LOG_LEVEL"] = "DEBUG"
	env["SHOW_SERVER_NAME"] = "ALWAYS"
	env["SYNC_MC_TO_QQ"] = "Chat，JOIN"
	env["QQ_ADMIN_ROLES"] = "Owner"
	env["MC_0_GAME_VERSION"] = "AUTO"
	env["HTTP_LISTEN"] = "None"
	cfg, _, err := LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Servers[0].Groups, IDList{111111, 222222, 333333}) || !slices.Equal(cfg.QQAdmins, IDList{10001, 10002}) {
		t.Errorf("groups %v admins %v", cfg.Servers[0].Groups, cfg.QQAdmins)
	}
	if cfg.QQProtocol.String() != "onebot" || cfg.LogFormat.String() != "json" || cfg.ShowServerName.String() != "always" ||
		cfg.HTTPListen.String() != "none" || cfg.Servers[0].GameVersion.String() != "auto" {
		t.Errorf("choices not normalised: %+v", cfg)
	}
	if !slices.Equal(kindNames(cfg.SyncMCToQQ), List{"chat", "join"}) || !slices.Equal(List(cfg.QQAdminRoles), List{"owner"}) {
		t.Errorf("SYNC_MC_TO_QQ %v QQ_ADMIN_ROLES %v", cfg.SyncMCToQQ, cfg.QQAdminRoles)
	}
}

// docker run --env-file keeps quotes: the value is then wrong, and the
// warning says why without showing it.
func TestQuotedValuesAreWarnedAbout(t *testing.T) {
	env := minimalEnv()
	env["QQ_URL"] = `"ws://127.0.0.1:3001/"`
	env["QQ_ACCESS_TOKEN"] = "'s3cret-token'"
	lines, warnings := errorLines(t, env)
	if len(linesFor(lines, "QQ_URL")) != 1 {
		t.Errorf("error lines:\n%s", strings.Join(lines, "\n"))
	}
	joined := strings.Join(warnings, "\n")
	if len(warnings) != 2 || !strings.Contains(joined, "QQ_URL is wrapped in quotes") ||
		!strings.Contains(joined, "QQ_ACCESS_TOKEN is wrapped in quotes") || strings.Contains(joined, "s3cret") {
		t.Fatalf("warnings:\n%s", joined)
	}
}

// run prints every bad variable on its own line, then the warnings (a typo
// often explains an error), and exits with code 2.
func TestRunShowsWarningsWithErrors(t *testing.T) {
	t.Chdir(t.TempDir()) // no .env here
	var out, errOut bytes.Buffer
	code := run(context.Background(), nil, []string{
		"QQ_URL=ws://127.0.0.1:3001/", "MC_0_NAME=survival", "MC_0_WS_URL=ws://127.0.0.1:8080",
		"MC_0_GROUPS=712345678", "MC_0_RCON_ADR=127.0.0.1:25575", "SYNC_QQ_TO_MC=yes",
	}, &out, &errOut)
	if code != exitConfig {
		t.Fatalf("exit %d", code)
	}
	want := "configuration error:\n" +
		"  SYNC_QQ_TO_MC: \"yes\": want true or false\n" +
		"also check:\n" +
		"  MC_0_RCON_ADR is not a setting this bridge knows — did you mean MC_0_RCON_ADDR?\n"
	if errOut.String() != want {
		t.Fatalf("stderr:\n%s\nwant:\n%s", errOut.String(), want)
	}
}

// With no .env found and required variables missing, the output says where
// the file was looked for.
func TestHintWhenNoEnvFileWasFound(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, nil, &out, &errOut); code != exitConfig {
		t.Fatalf("exit %d", code)
	}
	wd, _ := os.Getwd()
	if !strings.Contains(errOut.String(), "hint: no .env was found (looked in "+wd+")") {
		t.Fatalf("stderr:\n%s", errOut.String())
	}

	// A .env that is there but incomplete gets no such hint.
	must(t, os.WriteFile(filepath.Join(dir, ".env"), []byte("QQ_URL=ws://127.0.0.1:3001/\n"), 0o600))
	errOut.Reset()
	run(context.Background(), nil, nil, &out, &errOut)
	if strings.Contains(errOut.String(), "hint:") || !strings.Contains(errOut.String(), "MC_0_NAME") {
		t.Fatalf("stderr:\n%s", errOut.String())
	}
}

// Notepad's "UTF-8 with BOM" and Windows line ends are read as written.
func TestEnvFileWithBOMAndCRLF(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bridge.env")
	content := "\xEF\xBB\xBFQQ_URL=ws://127.0.0.1:3001/\r\nMC_0_NAME=survival\r\nMC_0_WS_URL=ws://127.0.0.1:8080\r\nMC_0_GROUPS=1\r\n"
	must(t, os.WriteFile(file, []byte(content), 0o600))
	env, _, err := environment(nil, file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.QQURL != "ws://127.0.0.1:3001/" || cfg.Servers[0].Name != "survival" {
		t.Fatalf("QQ_URL %q name %q", cfg.QQURL, cfg.Servers[0].Name)
	}
}

// A dotenv file that cannot be read is named with the line at fault; none of
// its contents (tokens) is shown.
func TestBadEnvFileNamesTheLineOnly(t *testing.T) {
	cases := []struct {
		name, content string
		line          string
	}{
		{"line without =", "QQ_ACCESS_TOKEN=supersecret\nsupersecret2\nMC_0_NAME=survival\n", "line 2 is not NAME=value"},
		{"bad character in a name", "QQ_ACCESS_TOKEN=supersecret\n\n# comment\nMC-0-NAME=supersecret2\n", "line 4 is not NAME=value"},
		{"unclosed quote", "QQ_ACCESS_TOKEN=\"supersecret\nMC_0_NAME=supersecret2\n", "line 1: a quoted value starts here"},
		{"after a multi-line value", "A=\"one\ntwo\"\nB=ok\n~supersecret\n", "line 4 is not NAME=value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bridge.env")
			must(t, os.WriteFile(file, []byte(c.content), 0o600))
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"-env-file", file}, nil, &out, &errOut)
			if code != exitConfig {
				t.Fatalf("exit %d", code)
			}
			msg := errOut.String()
			if !strings.Contains(msg, file) || !strings.Contains(msg, c.line) || strings.Contains(msg, "supersecret") {
				t.Fatalf("stderr: %s", msg)
			}
		})
	}
}

// QQ_GROUP_RATE: N/period is the pace, the burst is separate (5 unless
// given, never more than N).
func TestGroupRateSyntax(t *testing.T) {
	for _, c := range []struct {
		value string
		want  Rate
	}{
		{"", Rate{N: 20, Period: time.Minute, Burst: 5}},
		{"20/1m", Rate{N: 20, Period: time.Minute, Burst: 5}},
		{"3/10s", Rate{N: 3, Period: 10 * time.Second, Burst: 3}},
		{"20/1m burst 10", Rate{N: 20, Period: time.Minute, Burst: 10}},
		{"30/m BURST 1", Rate{N: 30, Period: time.Minute, Burst: 1}},
		{"0", Rate{}},
	} {
		env := minimalEnv()
		env["QQ_GROUP_RATE"] = c.value
		cfg, _, err := LoadConfig(env)
		if err != nil {
			t.Errorf("%q: %v", c.value, err)
			continue
		}
		if cfg.QQGroupRate != c.want {
			t.Errorf("%q = %+v, want %+v", c.value, cfg.QQGroupRate, c.want)
		}
	}
	for _, bad := range []string{"many", "20/1m burst", "20/1m burst 0", "20/1m burst x", "20/soon"} {
		env := minimalEnv()
		env["QQ_GROUP_RATE"] = bad
		lines, _ := errorLines(t, env)
		if got := linesFor(lines, "QQ_GROUP_RATE"); len(lines) != 1 || len(got) != 1 || !strings.Contains(got[0], "such as 20/1m") {
			t.Errorf("%q: %v", bad, lines)
		}
	}
	if got := (Rate{N: 20, Period: time.Minute, Burst: 5}).String(); got != "20/1m burst 5" {
		t.Errorf("String() = %q", got)
	}
}

// A server block is MC_<n>_ with n written as a plain number: MC_01_NAME,
// MC_00_TOKEN or an index too large to be a number are not read as server
// 1 or 0 by one part and ignored by another, but reported like any unknown
// variable, with the name meant.
func TestServerIndexMustBeCanonical(t *testing.T) {
	env := minimalEnv()
	env["MC_00_TOKEN"] = "secret"
	env["MC_01_NAME"] = "creative"
	env["MC_99999999999999999999_NAME"] = "huge"
	cfg, warnings, err := LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Servers) != 1 || cfg.Servers[0].Token != "" {
		t.Errorf("servers: %+v", cfg.Servers)
	}
	want := []string{
		"MC_00_TOKEN is not a setting this bridge knows — did you mean MC_0_TOKEN?",
		"MC_01_NAME is not a setting this bridge knows — did you mean MC_1_NAME?",
		"MC_99999999999999999999_NAME is not a setting this bridge knows (typo?)",
	}
	wantWarnings(t, warnings, want)

	// Next to a block that lacks the name, the line about it says which
	// variable was meant.
	env = minimalEnv()
	env["MC_1_WS_URL"] = "ws://127.0.0.1:8081"
	env["MC_1_GROUPS"] = "712345678"
	env["MC_01_NAME"] = "creative"
	lines, warnings := errorLines(t, env)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "MC_1_NAME: required") || !strings.Contains(lines[0], "MC_01_NAME is set: did you mean MC_1_NAME?") || len(warnings) != 0 {
		t.Fatalf("error lines:\n%s\nwarnings: %v", strings.Join(lines, "\n"), warnings)
	}
}

// docker --env-file keeps the spaces around a value: they are removed, with
// a warning that names the variable (never the value, which may be a
// secret), so an address or URL with a trailing space works instead of
// failing at the first dial.
func TestSpacesAroundValuesAreRemovedWithAWarning(t *testing.T) {
	env := minimalEnv()
	env["MC_0_RCON_ADDR"] = "127.0.0.1:25575 "
	env["MC_0_RCON_PASSWORD"] = " pw-secret\t"
	env["MC_0_WS_URL"] = "ws://127.0.0.1:18080 "
	env["SYNC_QQ_TO_MC"] = "false "
	env["JOIN_QUIT_DEBOUNCE"] = " 30s"
	env["QQ_SYNC_PREFIX"] = "# "        // a prefix with a space is still trimmed: the warning says so
	env["MC_0_NAME"] = "survival\u3000" // a full-width space typed by a Chinese input method
	cfg, warnings, err := LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Servers[0]
	if s.RCONAddr != "127.0.0.1:25575" || s.RCONPassword != "pw-secret" || s.WSURL != "ws://127.0.0.1:18080" || s.Name != "survival" ||
		cfg.SyncQQToMC || cfg.JoinQuitDebounce != 30*time.Second || cfg.QQSyncPrefix != "#" {
		t.Errorf("values not trimmed: %+v %+v", cfg, s)
	}
	var want []string
	for _, name := range []string{"JOIN_QUIT_DEBOUNCE", "MC_0_NAME", "MC_0_RCON_ADDR", "MC_0_RCON_PASSWORD", "MC_0_WS_URL", "QQ_SYNC_PREFIX", "SYNC_QQ_TO_MC"} {
		want = append(want, name+" has spaces before or after its value, which docker --env-file keeps; they were removed: write "+name+"=value with nothing around the value")
	}
	wantWarnings(t, warnings, want)
	if env["MC_0_RCON_ADDR"] != "127.0.0.1:25575 " {
		t.Error("LoadConfig changed the caller's map")
	}
}

// Every host:port wants a port number from 1 to 65535, and so does a URL
// that has a port.
func TestPortsAreNumbersInRange(t *testing.T) {
	for name, value := range map[string]string{
		"MC_0_RCON_ADDR": "127.0.0.1:rcon",
		"QQ_LISTEN":      "127.0.0.1:0",
		"MC_LISTEN":      "0.0.0.0:65536",
		"HTTP_LISTEN":    "127.0.0.1:http",
		"MC_0_WS_URL":    "ws://127.0.0.1:99999",
		"QQ_URL":         "ws://127.0.0.1:0/",
	} {
		t.Run(name, func(t *testing.T) {
			env := minimalEnv()
			env[name] = value
			switch name {
			case "QQ_LISTEN":
				delete(env, "QQ_URL")
			case "MC_LISTEN":
				env["MC_0_WS_URL"], env["MC_0_TOKEN"] = "", "t"
			}
			lines, _ := errorLines(t, env)
			want := name + ": " + strconv.Quote(value) + ": the port must be a number from 1 to 65535"
			if len(lines) != 1 || lines[0] != want {
				t.Fatalf("error lines:\n%s\nwant: %s", strings.Join(lines, "\n"), want)
			}
		})
	}
	env := minimalEnv()
	env["MC_0_RCON_ADDR"] = "localhost:25575"
	env["HTTP_LISTEN"] = ":9180"
	env["MC_0_WS_URL"] = "ws://mc.example"
	if _, _, err := LoadConfig(env); err != nil {
		t.Fatal(err)
	}
}

// wantWarnings fails the test unless the warnings are want, in order.
func wantWarnings(t *testing.T, warnings, want []string) {
	t.Helper()
	if !slices.Equal(warnings, want) {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(want, "\n"))
	}
}
