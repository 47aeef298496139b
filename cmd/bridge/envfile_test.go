package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// The bridge's own .env gives the values docker run --env-file gives: a "$"
// in a password or a prefix list is kept, not expanded, and an unquoted
// value is everything after the first "=", byte for byte. What docker
// refuses or keeps as quotes (export, quotes, comments) reads as before.
func TestEnvFileValuesAreLiteral(t *testing.T) {
	content := "MC_0_RCON_PASSWORD=ab$CD12x\n" +
		"QQ_ACCESS_TOKEN=pa$$W0RD\n" +
		"QQ_IGNORE_PREFIXES=.,#,$HOME\n" +
		"QQ_SYNC_PREFIX=${HOME}\n" +
		"FORMAT_CHAT={player} # {message}\n" +
		"FORMAT_JOIN=  {player} joined  \r\n" +
		"   MC_0_NAME=survival\n" +
		"EMPTY=\n" +
		"A=b=c\n" +
		"# MC_0_TOKEN=commented-out\n" +
		"export MC_1_NAME=creative\n" +
		"MC_1_TOKEN=\"q$uoted \\\"x\\\" \\\\ \\$HOME\\n#\" # a comment\n" +
		"MC_1_RCON_PASSWORD='s$ingle \\n'\n" +
		"MULTI=\"one\r\ntwo $HOME\"\n" +
		"LAST=no newline $HOME"
	want := map[string]string{
		"MC_0_RCON_PASSWORD": "ab$CD12x",
		"QQ_ACCESS_TOKEN":    "pa$$W0RD",
		"QQ_IGNORE_PREFIXES": ".,#,$HOME",
		"QQ_SYNC_PREFIX":     "${HOME}",
		"FORMAT_CHAT":        "{player} # {message}",
		"FORMAT_JOIN":        "  {player} joined  ",
		"MC_0_NAME":          "survival",
		"EMPTY":              "",
		"A":                  "b=c",
		"MC_1_NAME":          "creative",
		"MC_1_TOKEN":         "q$uoted \"x\" \\ $HOME\n#",
		"MC_1_RCON_PASSWORD": "s$ingle \\n",
		"MULTI":              "one\ntwo $HOME",
		"LAST":               "no newline $HOME",
	}
	t.Setenv("HOME", "/home/expanded") // what an expanding reader would put in
	file := filepath.Join(t.TempDir(), "bridge.env")
	must(t, os.WriteFile(file, []byte(content), 0o600))
	env, _, err := environment(nil, file)
	must(t, err)
	for name, value := range want {
		if got, ok := env[name]; !ok || got != value {
			t.Errorf("%s = %q (set %v), want %q", name, got, ok, value)
		}
	}
	if len(env) != len(want) {
		t.Errorf("read %d variables, want %d: %q", len(env), len(want), env)
	}
}

// For any unquoted value, the bridge reads what docker run --env-file
// passes to the container: the bytes after the first "=", less the "\r" of
// a Windows line end.
func FuzzUnquotedValueIsDockers(f *testing.F) {
	for _, seed := range []string{"ab$CD12x", "pa$$W0RD", ".,#,$HOME", "x # y", " lead", "trail ", "a=b", "x\r", "${A:-b}", "\\n", "中文{player}"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if strings.ContainsAny(value, "\n\x00") || !utf8.ValidString(value) {
			return // another line; not text docker reads
		}
		if v := strings.TrimLeft(value, " \t"); v != "" && (v[0] == '"' || v[0] == '\'') {
			return // quoted: the bridge removes the quotes, docker keeps them
		}
		env, err := readDotenv([]byte("NAME=" + value + "\n"))
		if err != nil {
			t.Fatalf("%q: %v", value, err)
		}
		if want := strings.TrimSuffix(value, "\r"); env["NAME"] != want {
			t.Fatalf("%q read as %q, docker gives %q", value, env["NAME"], want)
		}
	})
}

// A .env saved in another encoding than UTF-8 is refused with the file and
// line named and what to do, instead of "not NAME=value" or characters
// silently replaced.
func TestEnvFileNotUTF8IsRefusedClearly(t *testing.T) {
	utf16le := func(s string) []byte {
		out := []byte{0xFF, 0xFE}
		for _, r := range s {
			out = append(out, byte(r), byte(r>>8))
		}
		return out
	}
	gbk := []byte("QQ_URL=ws://127.0.0.1:3001/\nMC_0_NAME=survival\nFORMAT_JOIN={player} \xbc\xd3\xc8\xeb\xc1\xcb\xd3\xce\xcf\xb7\n")
	cases := []struct {
		name    string
		content []byte
		want    string
	}{
		{"UTF-16LE with BOM", utf16le("QQ_URL=ws://127.0.0.1:3001/\r\nQQ_ACCESS_TOKEN=supersecret\r\n"), "line 1 starts with a UTF-16 byte-order mark"},
		{"UTF-16BE with BOM", []byte("\xFE\xFF\x00Q\x00=\x00s"), "line 1 starts with a UTF-16 byte-order mark"},
		{"UTF-16 without BOM", utf16le("QQ_URL=x\r\nQQ_ACCESS_TOKEN=supersecret\r\n")[2:], "line 1 holds NUL bytes"},
		{"GBK", gbk, "line 3 is not UTF-8"},
		{"GBK comment", []byte("# \xc5\xe4\xd6\xc3\nQQ_ACCESS_TOKEN=supersecret\n"), "line 1 is not UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			must(t, os.WriteFile(filepath.Join(dir, ".env"), c.content, 0o600))
			var out, errOut bytes.Buffer
			if code := run(context.Background(), nil, nil, &out, &errOut); code != exitConfig {
				t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
			}
			msg := errOut.String()
			if !strings.HasPrefix(msg, ".env: "+c.want) || !strings.Contains(msg, "save .env as UTF-8") || strings.Contains(msg, "supersecret") {
				t.Fatalf("stderr: %s", msg)
			}
		})
	}
}

// A problem in the .env found without -env-file is reported as ".env: …",
// and with the flag as "-env-file PATH: …".
func TestEnvFileProblemNamesTheFileAsGiven(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	must(t, os.WriteFile(filepath.Join(dir, ".env"), []byte("QQ_URL=ws://127.0.0.1:3001/\nnot a setting\n"), 0o600))
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, nil, &out, &errOut); code != exitConfig {
		t.Fatalf("exit %d", code)
	}
	if got := errOut.String(); !strings.HasPrefix(got, ".env: line 2 is not NAME=value") {
		t.Fatalf("without -env-file: %s", got)
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"-env-file", ".env"}, nil, &out, &errOut); code != exitConfig {
		t.Fatalf("exit %d", code)
	}
	if got := errOut.String(); !strings.HasPrefix(got, "-env-file .env: line 2 is not NAME=value") {
		t.Fatalf("with -env-file: %s", got)
	}
}
