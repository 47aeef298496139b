package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
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
	// Messages name the file as it was given: "-env-file PATH" with the
	// flag, ".env" when it was found without it.
	label := path
	if explicit {
		label = "-env-file " + path
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
		if env, err = parseDotenv(label, path, data); err != nil {
			return nil, source, err
		}
	case explicit || !errors.Is(err, os.ErrNotExist):
		return nil, source, fmt.Errorf("%s: %w", label, err)
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

// notShown ends every message about the file's contents: they hold tokens,
// so no part of them is echoed.
const notShown = " (the file is not shown because it holds tokens)"

// parseDotenv reads a dotenv file, named label in messages and path in the
// advice to save it as UTF-8. A file that cannot be read is reported by its
// line number only.
func parseDotenv(label, path string, data []byte) (map[string]string, error) {
	if line, problem := encodingProblem(data); problem != "" {
		return nil, fmt.Errorf("%s: line %d %s: save %s as UTF-8%s", label, line, problem, path, notShown)
	}
	env, err := readDotenv(data)
	var de *dotenvError
	if errors.As(err, &de) && de.unclosed {
		return nil, fmt.Errorf("%s: line %d: a quoted value starts here and its closing quote is missing%s", label, de.line, notShown)
	}
	if errors.As(err, &de) {
		return nil, fmt.Errorf("%s: line %d is not NAME=value%s", label, de.line, notShown)
	}
	return env, err
}

// encodingProblem finds where data stops being UTF-8 text: a file Windows
// PowerShell 5 wrote with ">" (UTF-16) or one saved in GBK would otherwise
// read as malformed lines or as values with their Chinese replaced.
func encodingProblem(data []byte) (line int, problem string) {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return 1, "starts with a UTF-16 byte-order mark (Windows PowerShell's > and Out-File write UTF-16)"
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return 1 + bytes.Count(data[:i], []byte("\n")), "holds NUL bytes, as a file saved as UTF-16 does"
	}
	for i, l := range bytes.SplitAfter(bytes.TrimPrefix(data, utf8BOM), []byte("\n")) {
		if !utf8.Valid(l) {
			return i + 1, "is not UTF-8 text (saved as GBK or another ANSI code page?)"
		}
	}
	return 0, ""
}

// dotenvError is the line at which a dotenv file cannot be read.
type dotenvError struct {
	line     int
	unclosed bool // a quoted value that opens on line never closes
}

func (e *dotenvError) Error() string {
	if e.unclosed {
		return fmt.Sprintf("line %d: unclosed quote", e.line)
	}
	return fmt.Sprintf("line %d is not NAME=value", e.line)
}

// readDotenv parses a dotenv file so that a value means what it means to
// docker run --env-file, which takes each line literally: an unquoted value
// is every byte after the first "=" (spaces, "#" and "$" included; the
// configuration warns about surrounding spaces), and nothing is expanded.
// Beyond what docker reads, it skips a UTF-8 byte-order mark, an "export "
// before the name and spaces around the name, and removes the quotes of a
// value in '…' (taken literally) or "…" (where \n, \r, \", \\ and \$ are
// escapes), which may span lines and be followed by a # comment.
func readDotenv(data []byte) (map[string]string, error) {
	lines := strings.Split(string(bytes.TrimPrefix(data, utf8BOM)), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	env := map[string]string{}
	for i := 0; i < len(lines); i++ {
		line := strings.TrimLeftFunc(lines[i], unicode.IsSpace)
		if line == "" || line[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimLeft(rest, " \t")
		}
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimRight(name, " \t")
		if !ok || !validName.MatchString(name) {
			return nil, &dotenvError{line: i + 1}
		}
		if v := strings.TrimLeft(value, " \t"); v != "" && (v[0] == '"' || v[0] == '\'') {
			var err error
			if value, i, err = quotedValue(lines, i, v); err != nil {
				return nil, err
			}
		}
		env[name] = value
	}
	return env, nil
}

// quotedValue reads the value that opens with the quote starting text, on
// lines[at], up to its closing quote, over as many lines as it takes. It
// returns the value and the line it ends on.
func quotedValue(lines []string, at int, text string) (string, int, error) {
	quote, s, start := text[0], text[1:], at
	var b strings.Builder
	for {
		for j := 0; j < len(s); j++ {
			c := s[j]
			if c == quote {
				if rest := strings.TrimLeft(s[j+1:], " \t"); rest != "" && rest[0] != '#' {
					return "", 0, &dotenvError{line: at + 1}
				}
				return b.String(), at, nil
			}
			if c == '\\' && quote == '"' && j+1 < len(s) {
				if r, ok := dotenvEscapes[s[j+1]]; ok {
					b.WriteByte(r)
					j++
					continue
				}
			}
			b.WriteByte(c)
		}
		if at++; at == len(lines) {
			return "", 0, &dotenvError{line: start + 1, unclosed: true}
		}
		b.WriteByte('\n')
		s = lines[at]
	}
}

// dotenvEscapes are the backslash escapes of a "…" value; any other
// backslash is kept, so that C:\bridge\data means what it says.
var dotenvEscapes = map[byte]byte{'n': '\n', 'r': '\r', '"': '"', '\\': '\\', '$': '$'}
