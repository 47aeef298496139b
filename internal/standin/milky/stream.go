package milky

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gorilla/websocket"
	"github.com/mcqq/bridge/internal/standin"
	"github.com/mcqq/bridge/internal/ws"
)

func (m *Bot) subscribe() *subscriber {
	s := &subscriber{frames: make(chan []byte, subscriberBuffer)}
	m.mu.Lock()
	m.subs[s] = struct{}{}
	m.mu.Unlock()
	return s
}

func (m *Bot) unsubscribe(s *subscriber) {
	m.mu.Lock()
	delete(m.subs, s)
	m.mu.Unlock()
}

// handler serves one run; the server counts each request in and refuses
// those that come once Stop has begun.
func (m *Bot) handler(run *standin.Run) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{name}", func(w http.ResponseWriter, r *http.Request) { m.serveAPI(w, r, run) })
	mux.HandleFunc("/event", func(w http.ResponseWriter, r *http.Request) {
		if websocket.IsWebSocketUpgrade(r) {
			m.serveWebSocket(w, r, run)
		} else {
			m.serveSSE(w, r, run)
		}
	})
	return mux
}

// streamAuthorized checks the event-stream token: header or query.
func (m *Bot) streamAuthorized(r *http.Request) bool {
	if m.opts.Token == "" {
		return true
	}
	if q := r.URL.Query().Get("access_token"); q != "" {
		return tokenEqual(q, m.opts.Token)
	}
	return bearerOK(r, m.opts.Token)
}

func bearerOK(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && tokenEqual(got, token)
}

func tokenEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// serveWebSocket streams events as text frames. Like LLBot, a wrong token
// is refused after the upgrade with close 1008 "Unauthorized".
func (m *Bot) serveWebSocket(w http.ResponseWriter, r *http.Request, run *standin.Run) {
	if m.opts.NoWebSocket {
		http.Error(w, "WebSocket is not enabled; use SSE", http.StatusBadRequest)
		return
	}
	if !m.streamAuthorized(r) {
		sess, err := ws.Accept(w, r, ws.Options{})
		if err == nil {
			m.log.Info("milky stand-in: WebSocket refused: bad token", "peer", r.RemoteAddr)
			sess.Close(websocket.ClosePolicyViolation, "Unauthorized")
		}
		return
	}
	// Subscribed before the handshake answer, so an event emitted as soon as
	// the client sees the stream open is not missed.
	sub := m.subscribe()
	defer m.unsubscribe(sub)
	sess, err := ws.Accept(w, r, ws.Options{})
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		for {
			select {
			case f := <-sub.frames:
				if sess.Send(ctx, f) != nil {
					return
				}
			case <-run.Stopping():
				cancel()
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	_ = sess.Run(ctx, func([]byte) {}) // Milky clients send nothing
	cancel()
	<-forwarded
}

// serveSSE streams events as "event: milky_event" / "data: <json>" frames.
func (m *Bot) serveSSE(w http.ResponseWriter, r *http.Request, run *standin.Run) {
	if !m.streamAuthorized(r) {
		writeFailure(w, http.StatusUnauthorized, 401, "Unauthorized")
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	sub := m.subscribe()
	defer m.unsubscribe(sub)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	for {
		select {
		case f := <-sub.frames:
			if _, err := w.Write(sseFrame(f)); err != nil {
				return
			}
			flusher.Flush()
		case <-run.Stopping():
			return
		case <-r.Context().Done():
			return
		}
	}
}

// sseFrame encodes one event: JSON compacted onto one data line as the
// implementations send it; anything else line by line, as SSE requires.
func sseFrame(frame []byte) []byte {
	var b bytes.Buffer
	b.WriteString("event: milky_event\n")
	var compact bytes.Buffer
	if json.Compact(&compact, frame) == nil {
		frame = compact.Bytes()
	}
	for line := range bytes.Lines(frame) {
		b.WriteString("data: ")
		b.Write(bytes.TrimRight(line, "\r\n"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}
