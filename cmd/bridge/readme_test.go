package main

import (
	"bytes"
	"maps"
	"os"
	"regexp"
	"slices"
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
	return settingsOf(cfg)
}

// settingsOf is what -check prints for cfg, by variable.
func settingsOf(cfg *Config) map[string]string {
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
// reads is in both READMEs' tables.
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
		for name := range defaults {
			if !documented[name] {
				t.Errorf("%s does not document %s", file, name)
			}
		}
	}
}

// commentedSetting is a commented-out setting in .env.example: "# NAME=value".
var commentedSetting = regexp.MustCompile(`^# ([A-Z][A-Z0-9_]*=.*)$`)

// .env.example names every setting the bridge reads, once. Its active lines
// are the ones to fill in: they load, and none restates a default, since a
// value there beats what the Docker image and deploy/bridge.service set
// (DATA_DIR, LOG_FORMAT) when the file feeds them; an empty one is only a
// blank to fill in. Every other setting is commented out with its default,
// spelt so that the bridge reads it as that default once uncommented.
func TestEnvExample(t *testing.T) {
	data, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	file, err := readDotenv(data)
	if err != nil {
		t.Fatalf(".env.example does not read: %v", err)
	}
	active := file.vars
	commented := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		m := commentedSetting.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		kv, err := readDotenv([]byte(m[1]))
		if err != nil {
			t.Errorf(".env.example: %q does not read once uncommented: %v", line, err)
			continue
		}
		maps.Copy(commented, kv.vars)
	}

	top, server := knownVars()
	names := slices.Collect(maps.Keys(top))
	for name := range server {
		names = append(names, "MC_0_"+name)
	}
	for _, name := range names {
		_, isActive := active[name]
		_, isCommented := commented[name]
		switch {
		case isActive && isCommented:
			t.Errorf(".env.example has %s twice, active and commented out", name)
		case !isActive && !isCommented:
			t.Errorf(".env.example lacks %s", name)
		}
	}
	for _, name := range []string{"DATA_DIR", "LOG_FORMAT"} {
		if _, ok := active[name]; ok {
			t.Errorf(".env.example sets %s: it would override the Docker image's or deploy/bridge.service's own", name)
		}
	}

	cfg, warnings, err := LoadConfig(active)
	if err != nil {
		t.Fatalf(".env.example does not load: %v", err)
	}
	if len(warnings) > 0 {
		t.Errorf(".env.example loads with warnings: %q", warnings)
	}
	shown := settingsOf(cfg)
	for name, value := range active {
		without := maps.Clone(active)
		delete(without, name)
		cfg, _, err := LoadConfig(without)
		if err != nil {
			continue // required: there is no default to restate
		}
		def := settingsOf(cfg)[name]
		if (value != "" && shown[name] == def) || (value == "" && def != "") {
			t.Errorf(".env.example sets %s=%s, which is its default: comment it out", name, value)
		}
	}
	for name, value := range commented {
		env := maps.Clone(active)
		env[name] = value
		if set := shownSettings(t, env)[name]; set != shown[name] {
			t.Errorf(".env.example: # %s=%s is not the default: unset it is %q, uncommented %q", name, value, shown[name], set)
		}
	}
}

// The sample -demo output the READMEs' quick start shows is what -demo
// prints: each line of the sample comes in the demo's output, in the same
// order. How game lines fall into QQ messages depends on timing, so a line
// is compared without its indent and "QQ ◀ " (the mark of a new message).
func TestReadmeDemoSampleIsTheDemos(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"-demo"}, nil, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	printed := demoLines(out.String())
	for _, file := range []string{"../../README.md", "../../README.zh-CN.md"} {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		sample := demoSample(string(text))
		if len(sample) < 10 {
			t.Fatalf("%s: no sample -demo output found after the quick start's `go run ./cmd/bridge -demo`", file)
		}
		next := 0
		for _, line := range demoLines(strings.Join(sample, "\n")) {
			i := slices.Index(printed[next:], line)
			if i < 0 {
				t.Errorf("%s shows %q, which -demo does not print (or not there):\n%s", file, line, out.String())
				break
			}
			next += i + 1
		}
	}
}

// demoSample is the first ```text block after the quick start's
// "go run ./cmd/bridge -demo".
func demoSample(readme string) []string {
	lines := strings.Split(readme, "\n")
	start := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "go run ./cmd/bridge -demo") })
	if start < 0 {
		return nil
	}
	var sample []string
	in := false
	for _, l := range lines[start:] {
		switch {
		case !in && l == "```text":
			in = true
		case in && l == "```":
			return sample
		case in:
			sample = append(sample, l)
		}
	}
	return nil
}

// demoLines is text's non-blank lines without their indent and without
// "QQ ◀ ", which marks where a new QQ message starts.
func demoLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		l = strings.TrimPrefix(l, "QQ ◀ ")
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
