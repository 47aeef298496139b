package onebot_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	onebotstandin "github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/onebot"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testToken = "s3cret"
	testGroup = 712345678
	waitLimit = 5 * time.Second
)

// startBot starts a OneBot stand-in on a free loopback port; it is stopped
// when the test ends (after the client, whose cleanup registers later).
func startBot(t *testing.T, o onebotstandin.Options) *onebotstandin.Bot {
	t.Helper()
	bot := onebotstandin.New(o)
	if err := bot.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bot.Stop)
	return bot
}

// runClient runs a client until the test ends and checks that Run returns.
func runClient(t *testing.T, o onebot.Options) (*onebot.Client, *logRecorder) {
	t.Helper()
	logs := &logRecorder{}
	if o.Logger == nil {
		o.Logger = slog.New(logs)
	}
	c, err := onebot.New(o)
	if err != nil {
		t.Fatal(err)
	}
	testutil.RunInBackground(t, c.Run, waitLimit)
	return c, logs
}

// connectedPair is a stand-in and a client connected to it forward.
func connectedPair(t *testing.T, o onebotstandin.Options, timeout time.Duration) (*onebotstandin.Bot, *onebot.Client, *logRecorder) {
	t.Helper()
	o.Token = testToken
	bot := startBot(t, o)
	c, logs := runClient(t, onebot.Options{URL: bot.URL(), AccessToken: testToken, RequestTimeout: timeout})
	testutil.WaitFor(t, "client connected", func() bool { return c.State().Up() && bot.Connected() == 1 }, waitLimit)
	return bot, c, logs
}

func nextEvent(t *testing.T, c *onebot.Client) qq.Event {
	t.Helper()
	return testutil.Next(t, c.Events().Next, waitLimit)
}

// logRecorder is a slog.Handler keeping every record, for assertions on
// what the client logs.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}

// find returns the attributes of the records at level whose message
// contains msg.
func (l *logRecorder) find(level slog.Level, msg string) []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var found []map[string]string
	for _, r := range l.records {
		if r.Level != level || !strings.Contains(r.Message, msg) {
			continue
		}
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		found = append(found, attrs)
	}
	return found
}
