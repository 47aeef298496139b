package main

import (
	"slices"
	"strings"
	"testing"
)

// kindNames are the kinds by the names SYNC_MC_TO_QQ gives them.
func kindNames(kinds EventKinds) List {
	names := List{}
	for _, k := range kinds {
		names = append(names, k.String())
	}
	return names
}

// Each choice is read once, in any case and with stray spaces, and a bad
// one is one line naming the variable and the choices.
func TestChoicesAreReadOnce(t *testing.T) {
	for _, c := range []struct{ value, want string }{
		{"", "onebot"}, {"onebot", "onebot"}, {" Milky ", "milky"}, {"SATORI", "satori"},
	} {
		env := minimalEnv()
		env["QQ_PROTOCOL"] = c.value
		env["QQ_URL"] = "http://127.0.0.1:3000"
		cfg, _, err := LoadConfig(env)
		if err != nil {
			t.Errorf("QQ_PROTOCOL=%q: %v", c.value, err)
			continue
		}
		if got := cfg.QQProtocol.String(); got != c.want {
			t.Errorf("QQ_PROTOCOL=%q read as %q, want %q", c.value, got, c.want)
		}
	}
	// A protocol that cannot be read gets no protocol's own checks: the
	// onebot checks would also complain about this QQ_URL.
	env := minimalEnv()
	env["QQ_PROTOCOL"] = "Telegram"
	env["QQ_URL"] = "ftp://127.0.0.1:3000"
	lines, _ := errorLines(t, env)
	if want := `QQ_PROTOCOL: "telegram": want onebot, milky or satori`; len(lines) != 1 || lines[0] != want {
		t.Errorf("error lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), want)
	}

	for _, c := range []struct{ value, want string }{
		{"", "auto"}, {"Auto", "auto"}, {" always", "always"}, {"NEVER", "never"},
	} {
		env := minimalEnv()
		env["SHOW_SERVER_NAME"] = c.value
		cfg, _, err := LoadConfig(env)
		if err != nil {
			t.Errorf("SHOW_SERVER_NAME=%q: %v", c.value, err)
		} else if got := cfg.ShowServerName.String(); got != c.want {
			t.Errorf("SHOW_SERVER_NAME=%q read as %q, want %q", c.value, got, c.want)
		}
	}
	env = minimalEnv()
	env["SHOW_SERVER_NAME"] = "Sometimes"
	lines, _ = errorLines(t, env)
	if want := `SHOW_SERVER_NAME: "sometimes": want auto, always or never`; len(lines) != 1 || lines[0] != want {
		t.Errorf("error lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), want)
	}
}

// A size that cannot be read says what a size looks like, not that it
// wants a whole number.
func TestBadSizeSaysWhatASizeIs(t *testing.T) {
	env := minimalEnv()
	env["QUEUE_BYTES"] = "lots"
	lines, _ := errorLines(t, env)
	if want := `QUEUE_BYTES: "lots": want a size such as 16MiB or 512KiB`; len(lines) != 1 || lines[0] != want {
		t.Errorf("error lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), want)
	}
}

// SYNC_MC_TO_QQ is read straight into event kinds; -check prints them as
// they were written.
func TestSyncMCToQQIsReadIntoKinds(t *testing.T) {
	env := minimalEnv()
	env["SYNC_MC_TO_QQ"] = "Chat，command, death"
	cfg, _, err := LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.SyncMCToQQ.String(); got != "chat,command,death" {
		t.Errorf("read as %q", got)
	}
	env["SYNC_MC_TO_QQ"] = "chat, Dance"
	lines, _ := errorLines(t, env)
	if want := `SYNC_MC_TO_QQ: "dance": want some of chat, join, quit, death, advancement, command, or none`; len(lines) != 1 || lines[0] != want {
		t.Errorf("error lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), want)
	}
}

// MC_<n>_GAME_VERSION: auto (any case, or unset) is the zero value and
// reaches the QueQiao client as "learn it"; a version must be one.
func TestGameVersion(t *testing.T) {
	for _, c := range []struct{ value, want string }{
		{"", "auto"}, {"Auto", "auto"}, {"1.21.4", "1.21.4"}, {"26.1", "26.1"},
	} {
		env := minimalEnv()
		env["MC_0_GAME_VERSION"] = c.value
		cfg, _, err := LoadConfig(env)
		if err != nil {
			t.Errorf("%q: %v", c.value, err)
			continue
		}
		v := cfg.Servers[0].GameVersion
		if v.String() != c.want || (c.want == "auto") != (v == "") {
			t.Errorf("%q read as %q (%q)", c.value, v.String(), string(v))
		}
	}
	env := minimalEnv()
	env["MC_0_GAME_VERSION"] = "latest"
	lines, _ := errorLines(t, env)
	if want := `MC_0_GAME_VERSION: "latest": want auto or a game version such as 1.21.4`; len(lines) != 1 || lines[0] != want {
		t.Errorf("error lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), want)
	}
}

// QQ_ADMIN_ROLES is read once, in any case; a role QQ does not have is one
// line; -check prints the roles as written.
func TestAdminRoles(t *testing.T) {
	env := minimalEnv()
	env["QQ_ADMIN_ROLES"] = "Owner，ADMIN"
	cfg, _, err := LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Redacted(), "\n"); !strings.Contains(got, "\nQQ_ADMIN_ROLES=owner,admin\n") {
		t.Errorf("-check shows:\n%s", got)
	}
	env["QQ_ADMIN_ROLES"] = "owner,Moderator"
	lines, _ := errorLines(t, env)
	if want := `QQ_ADMIN_ROLES: "moderator": want owner, admin, member or none`; len(lines) != 1 || lines[0] != want {
		t.Errorf("error lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), want)
	}
}

// LOG_FORMAT and LOG_LEVEL are read once, in any case, and printed by
// -check as the bridge spells them.
func TestLogSettings(t *testing.T) {
	env := minimalEnv()
	cfg, _, err := LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	shown := strings.Join(cfg.Redacted(), "\n")
	if !strings.Contains(shown, "\nLOG_FORMAT=auto\nLOG_LEVEL=info") {
		t.Errorf("defaults shown as:\n%s", shown)
	}
	env["LOG_FORMAT"], env["LOG_LEVEL"] = " Text", "WARN"
	if cfg, _, err = LoadConfig(env); err != nil {
		t.Fatal(err)
	}
	if shown := strings.Join(cfg.Redacted(), "\n"); !strings.Contains(shown, "\nLOG_FORMAT=text\nLOG_LEVEL=warn") {
		t.Errorf("set values shown as:\n%s", shown)
	}
	env["LOG_FORMAT"], env["LOG_LEVEL"] = "XML", "Verbose"
	lines, _ := errorLines(t, env)
	want := []string{`LOG_FORMAT: "xml": want auto, text or json`, `LOG_LEVEL: "verbose": want debug, info, warn or error`}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("error lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// A bot or framework named instead of the protocol it speaks gets that
// protocol suggested.
func TestBotNameSuggestsItsProtocol(t *testing.T) {
	for value, want := range map[string]string{
		"napcat": "onebot", "LLBot": "onebot", "lagrange": "onebot", "koishi": "satori", "Chronocat": "satori",
	} {
		env := minimalEnv()
		env["QQ_PROTOCOL"] = value
		lines, _ := errorLines(t, env)
		line := `QQ_PROTOCOL: "` + strings.ToLower(value) + `": want onebot, milky or satori (` + strings.ToLower(value) + " speaks " + want + ": did you mean QQ_PROTOCOL=" + want + "?)"
		if len(lines) != 1 || lines[0] != line {
			t.Errorf("error lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), line)
		}
	}
}

// QQ numbers typed with a Chinese input method's full-width digits are read
// as the numbers they show.
func TestFullWidthDigitsInQQNumbers(t *testing.T) {
	env := minimalEnv()
	env["MC_0_GROUPS"] = "７１２３４５６７８"
	env["QQ_ADMINS"] = "１０００１，10002"
	cfg, _, err := LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Servers[0].Groups, IDList{712345678}) || !slices.Equal(cfg.QQAdmins, IDList{10001, 10002}) {
		t.Fatalf("groups %v admins %v", cfg.Servers[0].Groups, cfg.QQAdmins)
	}
}
