package main

import (
	"maps"
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
