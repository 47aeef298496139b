// Package redact keeps secrets out of logs and printed configuration: the
// password of a URL ("user:password@" becomes "user:***@"), the values of
// access_token and token query parameters, the credentials of an
// Authorization header, and the configured secret values themselves: as a
// whole value always, and inside other text too unless they are a plain
// common word or a short number. One Redactor serves the logger (Handler),
// -check's table and the start-up lines, so there is one rule for what
// counts as a secret.
package redact

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Mask is what a secret is shown as.
const Mask = "***"

var (
	// userPassword finds "scheme://user:password@": the password runs to
	// the last "@" before the path, so a raw "@" inside it is hidden too.
	userPassword = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@?#]*:)([^/\s?#]*)@`)
	// tokenParam finds "access_token=…", "token=…" and "Authorization=…"
	// (QueQiao takes its token that way: "?Authorization=Bearer%20…") in a
	// query string. The value may hold a colon, but not one that ends a URL
	// quoted in an error ("dial ws://…?access_token=x: refused").
	tokenParam = regexp.MustCompile(`(?i)([?&;](?:access_token|access%5ftoken|token|authorization)=)((?:[^&;#\s"'<>:]|:[^&;#\s"'<>])*)`)
	// jsonToken finds a token quoted in JSON: {"token":"…"}, {"access_token": "…"}.
	jsonToken = regexp.MustCompile(`(?i)("(?:access_token|token|authorization)"\s*:\s*")((?:[^"\\]|\\.)*)"`)
)

// URL hides the password and the token query values of the URL(s) in s.
func URL(s string) string {
	if !strings.Contains(s, "://") && !strings.Contains(s, "=") {
		return s // the common case: nothing to look at
	}
	s = userPassword.ReplaceAllString(s, "${1}"+Mask+"@")
	return tokenParam.ReplaceAllStringFunc(s, func(m string) string {
		eq := strings.IndexByte(m, '=')
		if eq == len(m)-1 {
			return m // an empty value hides nothing
		}
		return m[:eq+1] + Mask
	})
}

// URLSecrets returns the secrets inside a URL: its password and its
// access_token and token query values. The Redactor hides them on their
// own too, wherever a message quotes them outside the URL.
func URLSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	if p, ok := u.User.Password(); ok && p != "" {
		out = append(out, p)
	}
	for key, values := range u.Query() {
		k := strings.ToLower(key)
		if k != "access_token" && k != "token" && k != "authorization" {
			continue
		}
		for _, v := range values {
			if k == "authorization" && len(v) > len("bearer ") && strings.EqualFold(v[:len("bearer ")], "bearer ") {
				v = strings.TrimSpace(v[len("bearer "):])
			}
			if v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// authorization finds the credentials of an Authorization header quoted in
// text ("Bearer abc", "bearer%20abc", "Authorization: Basic dXNlcjpwdw==",
// "authorization: Token abc", "Authorization: abc"), whatever their length
// and case. A bare "token" or "basic" is a word.
var authorization = regexp.MustCompile(`(?i)\b(bearer(?:\s+|%20|\+)|authorization:\s*(?:(?:basic|token|bearer)\s+)?)([^\s"',;&]+)`)

// Header hides the credentials quoted in s: of an Authorization header, and
// of a token field of JSON (an answer or request a peer's error quotes).
func Header(s string) string {
	lower := strings.ToLower(s)
	if strings.Contains(lower, "bearer") || strings.Contains(lower, "authorization:") {
		s = authorization.ReplaceAllString(s, "${1}"+Mask)
	}
	if strings.Contains(lower, `token"`) || strings.Contains(lower, `authorization"`) {
		s = jsonToken.ReplaceAllString(s, "${1}"+Mask+`"`)
	}
	return s
}

// Redactor hides URL secrets (see URL), Authorization credentials (see
// Header) and a fixed set of secret values in text: a value that makes up
// the whole text, and, when it cannot be mistaken for a word (see
// hiddenInText), wherever it appears. It is safe for concurrent use; the
// zero value and nil hide URL secrets and headers only.
type Redactor struct {
	values *strings.Replacer // nil without secret values to find inside text
	whole  map[string]bool   // every secret value, to hide a text that is one
}

// minValue is the shortest secret value hidden at all outside URLs and
// headers: a shorter one ("1", "pw") would mask ordinary words and numbers
// while protecting nothing that could not be guessed. URL passwords and
// tokens are hidden by position whatever their length.
const minValue = 4

// MinStrong is the length from which a secret is hidden inside any text,
// and below which it is called weak.
const MinStrong = 8

// commonSecrets are values people put in a token or password that are also
// words: anyone could guess them, and, as a plain word, hidden inside text
// they would garble the log ("Authorization Header is ***"). Compared in
// lower case (Weak also without trailing digits).
var commonSecrets = map[string]bool{
	"test": true, "testing": true, "admin": true, "administrator": true, "root": true, "minecraft": true,
	"password": true, "passwd": true, "pass": true, "secret": true, "token": true, "changeme": true,
	"default": true, "example": true, "qwerty": true, "letmein": true, "welcome": true, "server": true,
	"survival": true, "creative": true, "lobby": true, "bridge": true, "napcat": true, "llbot": true,
	"onebot": true, "queqiao": true, "koishi": true, "satori": true, "milky": true, "rcon": true,
	"wrong": true, "right": true, "access": true, "accesstoken": true, "": true,
}

// Weak reports whether secret is easy to guess: shorter than MinStrong, or
// a common word (with digits after it), or one character repeated.
func Weak(secret string) bool {
	if len(secret) < MinStrong {
		return true
	}
	if commonSecrets[strings.TrimRight(strings.ToLower(secret), "0123456789!.")] {
		return true
	}
	return strings.Count(secret, secret[:1]) == len(secret)
}

// hiddenInText reports whether secret is hidden wherever it appears in text:
// every secret of at least minValue characters but a plain common word
// ("wrong", "minecraft") or a short number ("1234"), which would garble
// ordinary log text ("Header is ***", "port ***") while protecting nothing
// anyone could not guess. Those are hidden in URLs, headers, JSON token
// fields and as a whole value only, and the start-up warning names them.
func hiddenInText(secret string) bool {
	if len(secret) < minValue || commonSecrets[strings.ToLower(secret)] {
		return false
	}
	short := len(secret) < MinStrong
	return !short || strings.IndexFunc(secret, func(r rune) bool { return !unicode.IsDigit(r) }) >= 0
}

// New returns a Redactor for the given secret values (tokens, passwords);
// empty and very short ones are ignored. Each is also hidden in its
// URL-escaped spellings.
func New(secrets ...string) *Redactor {
	var inText []string
	whole := map[string]bool{}
	for _, s := range secrets {
		if len(s) < minValue {
			continue
		}
		spellings := []string{s, url.QueryEscape(s), url.PathEscape(s)}
		for _, sp := range spellings {
			whole[sp] = true
		}
		if hiddenInText(s) {
			inText = append(inText, spellings...)
		}
	}
	slices.Sort(inText)
	inText = slices.Compact(inText)
	r := &Redactor{whole: whole}
	if len(inText) == 0 {
		return r
	}
	// Longest first, so a secret containing another is hidden whole.
	slices.SortStableFunc(inText, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(inText))
	for _, s := range inText {
		pairs = append(pairs, s, Mask)
	}
	r.values = strings.NewReplacer(pairs...)
	return r
}

// String returns s with every secret hidden.
func (r *Redactor) String(s string) string {
	if r != nil && r.whole[s] {
		return Mask
	}
	s = Header(URL(s))
	if r != nil && r.values != nil {
		s = r.values.Replace(s)
	}
	return s
}
