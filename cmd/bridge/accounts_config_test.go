package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcqq/bridge/relay"
)

// The accounts settings default as documented, the name pattern is compiled
// once, and mistakes are one plain line per variable.
func TestAccountsSettings(t *testing.T) {
	cfg, warnings, err := LoadConfig(minimalEnv())
	if err != nil || len(warnings) > 0 {
		t.Fatal(err, warnings)
	}
	o := cfg.bindOptions()
	if !cfg.Bind || o.Max != 1 || o.Verify || !o.UnbindOnLeave || cfg.Servers[0].Whitelist {
		t.Errorf("defaults: BIND=%v %+v MC_0_WHITELIST=%v", cfg.Bind, o, cfg.Servers[0].Whitelist)
	}
	if o.NamePattern.String() != relay.DefaultNamePattern || !o.NamePattern.MatchString("Steve_01") || o.NamePattern.MatchString("Al") {
		t.Errorf("BIND_NAME_PATTERN default %q", o.NamePattern)
	}

	env := minimalEnv()
	maps.Copy(env, map[string]string{"BIND_NAME_PATTERN": `^\.?[A-Za-z0-9_]{3,16}$`, "BIND_MAX": "3",
		"BIND_VERIFY": "true", "BIND_UNBIND_ON_LEAVE": "false", "MC_0_WHITELIST": "true",
		"FORMAT_JOIN": "{player}（{qq}）加入了游戏"})
	cfg, _, err = LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	o = cfg.bindOptions()
	if !o.NamePattern.MatchString(".BedrockSteve") || o.Max != 3 || !o.Verify || o.UnbindOnLeave || !cfg.Servers[0].Whitelist {
		t.Errorf("set: %+v, whitelist %v", o, cfg.Servers[0].Whitelist)
	}
	if !strings.Contains(strings.Join(cfg.Redacted(), "\n"), "BIND_NAME_PATTERN=^\\.?[A-Za-z0-9_]{3,16}$") {
		t.Errorf("-check shows\n%s", strings.Join(cfg.Redacted(), "\n"))
	}

	env = minimalEnv()
	maps.Copy(env, map[string]string{"BIND_NAME_PATTERN": "^[A-Z", "BIND_MAX": "0", "BIND": "false", "MC_0_WHITELIST": "true"})
	_, _, err = LoadConfig(env)
	for _, want := range []string{
		`BIND_NAME_PATTERN: "^[A-Z" is not a valid pattern (missing closing ]); the default is ^[A-Za-z0-9_]{3,16}$`,
		"BIND_MAX: must be at least 1",
		"MC_0_WHITELIST: true, but BIND is false",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// .env.example documents every setting the bridge reads, with a value that
// reads as its default.
func TestEnvExampleNamesEverySetting(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", ".env.example"))
	must(t, err)
	example, err := readDotenv(data)
	must(t, err)
	top, server := knownVars()
	for name := range top {
		if _, ok := example[name]; !ok {
			t.Errorf(".env.example lacks %s", name)
		}
	}
	for name := range server {
		if _, ok := example["MC_0_"+name]; !ok {
			t.Errorf(".env.example lacks MC_0_%s", name)
		}
	}
	if _, _, err := LoadConfig(example); err != nil {
		t.Errorf(".env.example does not load: %v", err)
	}
}
