package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// A FORMAT_* variable with several unknown placeholders is one indented
// line of the configuration error, naming them all, like every other
// variable.
func TestUnknownPlaceholdersAreOneLinePerVariable(t *testing.T) {
	t.Chdir(t.TempDir()) // no .env
	environ := []string{"FORMAT_CHAT={name}: {msg}", "FORMAT_JOIN={who} joined", "QUEUE_SIZE=0"}
	for k, v := range minimalEnv() {
		environ = append(environ, k+"="+v)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-check"}, environ, &out, &errOut); code != exitConfig {
		t.Fatalf("exit %d; want %d\n%s", code, exitConfig, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if lines[0] != "configuration error:" || len(lines) != 4 {
		t.Fatalf("want a heading and three lines, one per variable:\n%s", errOut.String())
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "  ") {
			t.Errorf("line %q is not indented under the heading", l)
		}
	}
	var chat string
	for _, l := range lines {
		if strings.Contains(l, "FORMAT_CHAT") {
			chat = l
		}
	}
	if !strings.HasPrefix(chat, "  FORMAT_CHAT: unknown placeholders {name}, {msg} (known: {server},") {
		t.Errorf("FORMAT_CHAT line %q", chat)
	}
}
