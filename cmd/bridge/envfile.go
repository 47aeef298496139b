package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/joho/godotenv"
)

// envSource says where the dotenv file was looked for, for the hint printed
// when required variables are missing.
type envSource struct {
	name  string // as given, or .env
	dir   string // the absolute directory it was looked for in
	found bool
}

// environment merges the dotenv file under the real environment: real
// variables win.
func environment(environ []string, envFile string) (map[string]string, envSource, error) {
	path, explicit := envFile, envFile != ""
	if !explicit {
		path = ".env"
	}
	source := envSource{name: path}
	if abs, err := filepath.Abs(path); err == nil {
		source.dir = filepath.Dir(abs)
	}
	env := map[string]string{}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		source.found = true
		if env, err = parseDotenv(path, data); err != nil {
			return nil, source, err
		}
	case explicit || !errors.Is(err, os.ErrNotExist):
		return nil, source, fmt.Errorf("-env-file %s: %w", path, err)
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env, source, nil
}

// utf8BOM starts files that Windows Notepad saved as "UTF-8 with BOM".
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// validName is what a variable name may look like.
var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// parseDotenv reads a dotenv file. A byte-order mark is skipped. A file that
// cannot be read is reported by its line number only: its contents hold
// tokens, so no part of it is echoed.
func parseDotenv(path string, data []byte) (map[string]string, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	env, err := readDotenv(data)
	if err == nil {
		return env, nil
	}
	line := badLine(data)
	if strings.Contains(err.Error(), "unterminated quoted value") {
		return nil, fmt.Errorf("-env-file %s: line %d: a quoted value starts here and its closing quote is missing (the file is not shown because it holds tokens)", path, line)
	}
	return nil, fmt.Errorf("-env-file %s: line %d is not NAME=value (the file is not shown because it holds tokens)", path, line)
}

// readDotenv parses data, also refusing what the parser lets through as a
// name: a line without "=" becomes part of the next line's name.
func readDotenv(data []byte) (map[string]string, error) {
	env, err := godotenv.UnmarshalBytes(data)
	if err != nil {
		return nil, err
	}
	for k := range env {
		if !validName.MatchString(k) {
			return nil, errors.New("bad name")
		}
	}
	return env, nil
}

// badLine finds the line that makes data unreadable: the first line from
// which every longer start of the file fails too. (A start that ends inside
// a multi-line quoted value fails on its own, but a longer one closes it.)
func badLine(data []byte) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	bad := len(lines)
	for k := len(lines); k >= 1; k-- {
		if _, err := readDotenv(bytes.Join(lines[:k], nil)); err == nil {
			break
		}
		bad = k
	}
	return bad
}
