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
	// How the file wrote the values the real environment did not override:
	// in quotes (spaces inside are meant), or unquoted with " #" inside (a
	// comment that docker --env-file, and so the bridge, keep in the value).
	quoted, hashInside map[string]bool
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
		var file *dotenvFile
		if file, err = parseDotenv(label, path, data); err != nil {
			return nil, source, err
		}
		env, source.quoted, source.hashInside = file.vars, file.quoted, file.hashInside
	case explicit || !errors.Is(err, os.ErrNotExist):
		return nil, source, fmt.Errorf("%s: %w", label, err)
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
			delete(source.quoted, k)
			delete(source.hashInside, k)
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
func parseDotenv(label, path string, data []byte) (*dotenvFile, error) {
	if line, problem := encodingProblem(data); problem != "" {
		return nil, fmt.Errorf("%s: line %d %s: save %s as UTF-8%s", label, line, problem, path, notShown)
	}
	file, err := readDotenv(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w%s", label, err, notShown)
	}
	return file, nil
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

// dotenvError is the line at which a dotenv file cannot be read, and why.
type dotenvError struct {
	line int
	// A quoted value opens on line: unclosed says it never closes;
	// closesAt, when not 0, is the later line where the next such quote is
	// found with text after it (so the quote was most likely not meant to
	// span lines); textAfter says text follows the closing quote on line.
	unclosed, textAfter bool
	closesAt            int
	// escapedEnd: the opening line ends in \" inside double quotes, which is
	// an escaped quote, not a closing one (a Windows path ending in \).
	escapedEnd bool
}

func (e *dotenvError) Error() string {
	var msg string
	switch {
	case e.unclosed || e.closesAt != 0:
		msg = fmt.Sprintf("line %d: a quoted value starts here and its closing quote is missing", e.line)
		if e.closesAt != 0 {
			msg += fmt.Sprintf(" (the next one is on line %d, with text after it)", e.closesAt)
		}
		if e.escapedEnd {
			msg += `; inside double quotes \" is a quote within the value: put a value ending in \ in single quotes`
		}
	case e.textAfter:
		msg = fmt.Sprintf("line %d: text follows the value's closing quote: quote the whole value, or none of it", e.line)
	default:
		msg = fmt.Sprintf("line %d is not NAME=value", e.line)
	}
	return msg
}

// dotenvFile is what a dotenv file sets, and how it wrote each value.
type dotenvFile struct {
	vars       map[string]string
	quoted     map[string]bool // written in '…' or "…"
	hashInside map[string]bool // unquoted, with " #" inside (kept in the value)
}

// readDotenv parses a dotenv file so that a value means what it means to
// docker run --env-file, which takes each line literally: an unquoted value
// is every byte after the first "=" (spaces, "#" and "$" included; the
// configuration warns about surrounding spaces), and nothing is expanded.
// Beyond what docker reads, it skips a UTF-8 byte-order mark, an "export "
// before the name and spaces around the name, and removes the quotes of a
// value in '…' (taken literally) or "…" (where \n, \r, \", \\ and \$ are
// escapes), which may span lines and be followed by a # comment.
func readDotenv(data []byte) (*dotenvFile, error) {
	lines := strings.Split(string(bytes.TrimPrefix(data, utf8BOM)), "\n")
	for i, l := range lines {
		// A byte-order mark inside the file comes from files joined
		// together (cat a.env b.env): skip it as at the start.
		lines[i] = strings.TrimPrefix(strings.TrimSuffix(l, "\r"), "\uFEFF")
	}
	file := &dotenvFile{vars: map[string]string{}, quoted: map[string]bool{}, hashInside: map[string]bool{}}
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
		quoted := false
		if v := strings.TrimLeft(value, " \t"); v != "" && (v[0] == '"' || v[0] == '\'') {
			var err error
			if value, i, err = quotedValue(lines, i, v); err != nil {
				return nil, err
			}
			quoted = true
		}
		file.vars[name] = value
		file.quoted[name] = quoted
		file.hashInside[name] = !quoted && (strings.Contains(value, " #") || strings.Contains(value, "\t#"))
	}
	return file, nil
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
					if at == start {
						return "", 0, &dotenvError{line: at + 1, textAfter: true}
					}
					return "", 0, &dotenvError{line: start + 1, closesAt: at + 1, escapedEnd: endsEscaped(quote, lines[start])}
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
			return "", 0, &dotenvError{line: start + 1, unclosed: true, escapedEnd: endsEscaped(quote, lines[start])}
		}
		b.WriteByte('\n')
		s = lines[at]
	}
}

// endsEscaped reports whether a line opening a "…" value ends in \", which
// reads as a quote within the value rather than its end.
func endsEscaped(quote byte, line string) bool {
	return quote == '"' && strings.HasSuffix(strings.TrimRight(line, " \t"), `\"`)
}

// dotenvEscapes are the backslash escapes of a "…" value; any other
// backslash is kept, so that C:\bridge\data means what it says.
var dotenvEscapes = map[byte]byte{'n': '\n', 'r': '\r', '"': '"', '\\': '\\', '$': '$'}
