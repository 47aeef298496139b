package onebot

import (
	"bufio"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mcqq/bridge/internal/standin/standintest"
)

func fixture(t *testing.T, name string) map[string]any {
	t.Helper()
	return object(t, standintest.Fixture(t, name))
}

func object(t *testing.T, frame []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(frame, &m); err != nil {
		t.Fatalf("not a JSON object: %s", frame)
	}
	return m
}

func keys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// sameKeys checks that got has exactly the keys of the fixture.
func sameKeys(t *testing.T, what string, got, fixture map[string]any) {
	t.Helper()
	if g, w := keys(got), keys(fixture); !slices.Equal(g, w) {
		t.Errorf("%s keys\n got  %v\n want %v", what, g, w)
	}
}

// dial connects like the bridge does and reads the lifecycle event.
func dial(t *testing.T, b *Bot, token string) *websocket.Conn {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	conn, _, err := websocket.DefaultDialer.Dial(b.URL(), h)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	if ev := object(t, standintest.Read(t, conn)); ev["meta_event_type"] != "lifecycle" {
		t.Fatalf("first frame is not the lifecycle event: %v", ev)
	}
	return conn
}

// call sends one action and returns the reply, skipping heartbeats.
func call(t *testing.T, conn *websocket.Conn, frame string) map[string]any {
	t.Helper()
	if err := conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	for {
		reply := object(t, standintest.Read(t, conn))
		if _, isEvent := reply["post_type"]; !isEvent {
			return reply
		}
	}
}

// httpCall calls the stand-in's HTTP API and returns the status and the
// body.
func httpCall(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(got)
}

// openSSE opens the stand-in's event stream.
func openSSE(t *testing.T, b *Bot, token string) *bufio.Reader {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.HTTPURL()+"/_events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	// The timeout covers reading the stream, so a missing event fails the
	// test instead of hanging it.
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("/_events: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	return bufio.NewReader(resp.Body)
}

// nextSSE reads one event's data lines, joined by newlines.
func nextSSE(t *testing.T, r *bufio.Reader) (string, error) {
	t.Helper()
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return strings.Join(data, "\n"), nil
		}
		value, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("unexpected line %q: the bots send data lines only", line)
		}
		data = append(data, value)
	}
}
