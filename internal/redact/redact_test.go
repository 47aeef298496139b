package redact

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"ws://127.0.0.1:8080", "ws://127.0.0.1:8080"},
		{"ws://127.0.0.1:8080/?access_token=s3cret", "ws://127.0.0.1:8080/?access_token=***"},
		{"ws://h:1/ws?x=1&ACCESS_TOKEN=s3cret&y=2", "ws://h:1/ws?x=1&ACCESS_TOKEN=***&y=2"},
		{"ws://h:1/?token=s3cret#frag", "ws://h:1/?token=***#frag"},
		{"ws://h:1/?token=a:b:c&x=1", "ws://h:1/?token=***&x=1"},
		{"ws://h:1/?mytoken=keep", "ws://h:1/?mytoken=keep"},
		{"ws://h:1/?access_token=", "ws://h:1/?access_token="},
		{"http://bot:PW@127.0.0.1:3000/api", "http://bot:***@127.0.0.1:3000/api"},
		{"http://bot:p@ss:w@127.0.0.1:3000", "http://bot:***@127.0.0.1:3000"},
		{"https://bot:PW@h", "https://bot:***@h"},
		{"http://user@host/x", "http://user@host/x"},
		{`dial ws://h:1/?access_token=abc: connection refused`, `dial ws://h:1/?access_token=***: connection refused`},
		{`Post "http://bot:PW@h:1/send?token=t": EOF; then http://a:B@c/`, `Post "http://bot:***@h:1/send?token=***": EOF; then http://a:***@c/`},
		{"no url here: a=b", "no url here: a=b"},
	}
	for _, c := range cases {
		if got := URL(c.in); got != c.want {
			t.Errorf("URL(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestURLSecrets(t *testing.T) {
	got := URLSecrets("http://bot:PW@h:1/?access_token=A&token=B&other=C")
	want := map[string]bool{"PW": true, "A": true, "B": true}
	if len(got) != len(want) {
		t.Fatalf("URLSecrets = %q", got)
	}
	for _, s := range got {
		if !want[s] {
			t.Errorf("URLSecrets returned %q", s)
		}
	}
	if got := URLSecrets("ws://127.0.0.1:8080"); len(got) != 0 {
		t.Errorf("no secrets, got %q", got)
	}
}

// Configured values are hidden wherever they appear, in their escaped
// spellings too, the longest first.
func TestRedactorHidesValues(t *testing.T) {
	r := New("tok en/+", "", "pw", "rcon-pw", "rcon-pw-long")
	cases := []struct{ in, want string }{
		{"token is tok en/+ here", "token is *** here"},
		{"escaped: tok+en%2F%2B and tok%20en%2F+", "escaped: *** and ***"},
		{"rcon-pw-long and rcon-pw", "*** and ***"},
		{"ws://h/?access_token=other", "ws://h/?access_token=***"},
		{"", ""},
		{"a pwd of 2 characters is not hidden everywhere", "a pwd of 2 characters is not hidden everywhere"},
	}
	for _, c := range cases {
		if got := r.String(c.in); got != c.want {
			t.Errorf("String(%q) = %q; want %q", c.in, got, c.want)
		}
	}
	var none *Redactor
	if got := none.String("http://a:b@c"); got != "http://a:***@c" {
		t.Errorf("nil Redactor: %q", got)
	}
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

// No record leaves the handler with a secret, whatever carries it; other
// values keep their type.
func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	r := New("S3CRET")
	u, _ := url.Parse("http://bot:S3CRET@h/")
	log := slog.New(Handler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), r))
	log = log.With("conn", "ws://h/?access_token=S3CRET")
	log.WithGroup("g").Debug("dialling http://x:S3CRET@h",
		"err", errors.New("dial ws://h/?token=S3CRET: refused"),
		"url", u,
		"list", []string{"S3CRET"},
		slog.Group("inner", "v", "S3CRET"),
		"n", 42,
		"plain", stringer{"has S3CRET"},
		"lazy", slog.AnyValue(fmt.Sprintf("%s", "S3CRET")),
	)
	out := buf.String()
	if strings.Contains(out, "S3CRET") {
		t.Errorf("a secret got through:\n%s", out)
	}
	for _, want := range []string{`"n":42`, `"plain":"has ***"`, `access_token=***`, `x:***@h`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

// A secret that could be a word is hidden in URLs, headers and as a whole
// value, but not inside other text, which it would garble; a secret that
// cannot be taken for a word is hidden everywhere.
func TestWordLikeSecretsAreHiddenByPositionOnly(t *testing.T) {
	r := New("wrong", "admin123", "minecraft", "1234", "pw-42", "k7Qz9xWv2")
	cases := []struct{ in, want string }{
		{"rejected by plugin: Authorization Header is wrong", "rejected by plugin: Authorization Header is wrong"},
		{"authentication failed (wrong RCON password?)", "authentication failed (wrong RCON password?)"},
		{"Minecraft 1.21 on port 1234 as minecraft", "Minecraft 1.21 on port 1234 as minecraft"},
		{"wrong", Mask},
		{"admin123", Mask},
		{"ws://h:1/?access_token=wrong", "ws://h:1/?access_token=" + Mask},
		{"http://bot:wrong@h/", "http://bot:" + Mask + "@h/"},
		{"header Authorization: Bearer wrong sent", "header Authorization: Bearer " + Mask + " sent"},
		{"Authorization: Basic d3Jvbmc=, Authorization: token wrong", "Authorization: Basic " + Mask + ", Authorization: token " + Mask},
		{"access token rejected: check the token", "access token rejected: check the token"},
		{"password pw-42 and k7Qz9xWv2 quoted", "password " + Mask + " and " + Mask + " quoted"},
	}
	for _, c := range cases {
		if got := r.String(c.in); got != c.want {
			t.Errorf("String(%q) = %q; want %q", c.in, got, c.want)
		}
	}
	for secret, weak := range map[string]bool{
		"wrong": true, "pw-42": true, "Password1": true, "minecraft": true, "aaaaaaaaaa": true,
		"k7Qz9xWv2": false, "rcon-pw-secret": false,
	} {
		if Weak(secret) != weak {
			t.Errorf("Weak(%q) = %v; want %v", secret, !weak, weak)
		}
	}
}

// Secrets a peer or a URL carries by position are hidden whatever their
// shape: QueQiao's ?Authorization=Bearer%20… query, a bearer token in any
// case, an Authorization header without a scheme, a JSON token field, the
// percent-encoded access_token name; and a word plus digits is no word.
// A short number stays in free text, where it would mask ports and counts.
func TestSecretsByPositionInEveryShape(t *testing.T) {
	queqiao := "ws://127.0.0.1:8999/?x-self-name=survival&Authorization=Bearer%20survival1"
	if got := URLSecrets(queqiao); !slices.Contains(got, "survival1") {
		t.Errorf("URLSecrets(%q) = %q; want survival1 among them", queqiao, got)
	}
	r := New("survival1", "napcat1", "123456")
	for in, want := range map[string]string{
		queqiao:                             "ws://127.0.0.1:8999/?x-self-name=survival&Authorization=" + Mask,
		"ws://h/?Authorization=Bearer+x1y2": "ws://h/?Authorization=" + Mask,
		`answered {"token":"123456","x":1}`: `answered {"token":"` + Mask + `","x":1}`,
		"authorization: bearer napcat1":     "authorization: bearer " + Mask,
		"Authorization: napcat1":            "Authorization: " + Mask,
		"ws://h/?access%5Ftoken=abc":        "ws://h/?access%5Ftoken=" + Mask,
		"token napcat1\n":                   "token " + Mask + "\n",
		"server survival1 is up":            "server " + Mask + " is up",
		"port 123456 on 1.2.3.4":            "port 123456 on 1.2.3.4", // a short number is hidden by position only
	} {
		if got := r.String(in); got != want {
			t.Errorf("String(%q) = %q; want %q", in, got, want)
		}
	}
}
