package main

import (
	"maps"
	"os"
	"regexp"
	"strings"
	"testing"
)

// readmeRow is a row of the READMEs' settings tables: the variable, then its
// default (`value`, – for none, or required).
var readmeRow = regexp.MustCompile("^\\| `([A-Z][A-Z0-9_]*(?:<n>_[A-Z_]+)?)` \\| ([^|]+?) \\|")

// shownSettings is what -check prints for env, by variable.
func shownSettings(t *testing.T, env map[string]string) map[string]string {
	t.Helper()
	cfg, _, err := LoadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]string{}
	for _, line := range cfg.Redacted() {
		name, value, _ := strings.Cut(line, "=")
		shown[name] = value
	}
	return shown
}

// The defaults the READMEs' tables give are the bridge's: setting a
// variable to its documented default changes nothing -check shows, a
// variable documented without one is empty, and every variable the bridge
// reads is in the English table.
func TestReadmeDefaultsAreTheBridges(t *testing.T) {
	base := minimalEnv()
	defaults := shownSettings(t, base)
	for _, file := range []string{"../../README.md", "../../README.zh-CN.md"} {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		documented := map[string]bool{}
		for _, line := range strings.Split(string(text), "\n") {
			m := readmeRow.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			name, def := strings.ReplaceAll(m[1], "<n>", "0"), strings.TrimSpace(m[2])
			documented[name] = true
			got, known := defaults[name]
			switch {
			case !known:
				t.Errorf("%s documents %s, which the bridge does not read", file, name)
			case base[name] != "":
				// Set by the minimal configuration every test starts from.
			case def == "–":
				if got != "" {
					t.Errorf("%s: %s has no default there, but the bridge's is %q", file, name, got)
				}
			case strings.HasPrefix(def, "`") && strings.HasSuffix(def, "`"):
				env := maps.Clone(base)
				env[name] = strings.Trim(def, "`")
				if set := shownSettings(t, env)[name]; set != got {
					t.Errorf("%s: %s defaults to %s there, but unset it is %q and set to that %q", file, name, def, got, set)
				}
			}
		}
		if !strings.HasSuffix(file, "/README.md") {
			continue
		}
		for name := range defaults {
			if !documented[name] {
				t.Errorf("%s does not document %s", file, name)
			}
		}
	}
}
