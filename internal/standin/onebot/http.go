package onebot

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mcqq/bridge/internal/standin"
)

// serveHTTP serves one request on the stand-in's port, as NapCat with its
// WebSocket, HTTP and HTTP SSE servers sharing a port would (LLBot alike): a
// WebSocket upgrade on any path is a forward socket (see socketRole), GET
// /_events the SSE stream, anything else an HTTP API action. A wrong token
// gets 403 {"message":"token verify failed!"} over HTTP (LLBot without the
// "!").
func (b *Bot) serveHTTP(run *standin.Run, w http.ResponseWriter, r *http.Request) {
	if websocket.IsWebSocketUpgrade(r) {
		b.serveWebSocket(run, w, r)
		return
	}
	if b.opts.Token != "" && b.presentedToken(r) != b.opts.Token {
		b.log.Debug("refusing HTTP request: wrong token", "peer", r.RemoteAddr, "path", r.URL.Path)
		if b.napcat() {
			w.Header().Set("Content-Type", "text/html; charset=utf-8") // express res.send of a string
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"message":"token verify failed!"}`)
			return
		}
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "token verify failed"})
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/_events" {
		b.serveSSE(run, w, r)
		return
	}
	b.serveAction(run, w, r)
}

// presentedToken reads the token the way the flavor does
// (docs/protocols.md#onebot-tokens): only the Bearer scheme works, NapCat
// prefers the query parameter, LLBot the header.
func (b *Bot) presentedToken(r *http.Request) string {
	header := r.Header.Get("Authorization")
	if i := strings.LastIndex(header, "Bearer "); i >= 0 {
		header = header[i+len("Bearer "):]
	}
	query := r.URL.Query().Get("access_token")
	if b.napcat() {
		if query != "" {
			return query
		}
		return header
	}
	if r.Header.Get("Authorization") != "" {
		return header
	}
	return query
}

// httpFailure is the HTTP API's retcode and message for a failure the
// WebSocket reports with f.
func (b *Bot) httpFailure(action string, f *actionError) (retcode int, message string) {
	switch f.retcode {
	case retcodeBadParams:
		return httpRetcodeBadParams, f.message
	case retcodeUnknown:
		if b.napcat() {
			return httpRetcodeFailed, "不支持的Api " + action
		}
		return httpRetcodeUnknown, f.message
	}
	return httpRetcodeFailed, f.message
}

// serveAction answers an HTTP API request /<action>
// (docs/protocols.md#onebot-actions). The params are the JSON body of a POST
// (NapCat also merges the query into it) or the query of a GET; a body that is
// not a JSON object is NapCat's HTTP 400 "Invalid JSON", LLBot's retcode 400.
// Only LLBot's unknown action gets an HTTP status other than 200: 404. NapCat
// makes up an echo when none was sent. A silenced action is held unanswered
// until the client gives up or the stand-in stops.
func (b *Bot) serveAction(run *standin.Run, w http.ResponseWriter, r *http.Request) {
	action, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	params, err := b.httpParams(w, r)
	if err != nil {
		if b.napcat() {
			http.Error(w, "Invalid JSON", http.StatusBadRequest)
		} else {
			writeJSON(w, http.StatusOK, b.failure(nil, httpRetcodeBadParams, "请求体解析失败: "+err.Error()))
		}
		return
	}
	echo := params["echo"]
	if echo == nil && b.napcat() {
		echo = marshal(strconv.FormatInt(time.Now().UnixNano(), 36))
	}
	if d := b.latencyOf(action); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		case <-run.Stopping():
			return
		}
	}
	reply, ok := b.act(action, marshal(params), echo, true)
	if !ok {
		select {
		case <-r.Context().Done():
		case <-run.Stopping():
		}
		return
	}
	status := http.StatusOK
	if reply.Retcode == httpRetcodeUnknown {
		status = http.StatusNotFound
	}
	writeJSON(w, status, reply)
}

// httpParams collects an HTTP action's params as the flavor does.
func (b *Bot) httpParams(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	var params map[string]json.RawMessage
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, &params); err != nil {
				return nil, err
			}
		}
	}
	if params == nil { // no body, or "null"
		params = make(map[string]json.RawMessage)
	}
	if r.Method != http.MethodPost || b.napcat() {
		for key, values := range r.URL.Query() {
			params[key] = marshal(values[0])
		}
	}
	return params, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(marshal(v))
}

// serveSSE streams every pushed event as a "data: <json>" frame, as
// NapCat's HTTP SSE server and LLBot do; LLBot also sends heartbeat events
// on it. The stream ends when the client goes or the stand-in stops.
func (b *Bot) serveSSE(run *standin.Run, w http.ResponseWriter, r *http.Request) {
	// Subscribed before the headers go out, so an event pushed as soon as
	// the client sees the stream open is not missed.
	stream := &sseStream{frames: make(chan []byte, sseBuffer), done: make(chan struct{})}
	b.mu.Lock()
	b.sse[stream] = struct{}{}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.sse, stream)
		b.mu.Unlock()
		close(stream.done)
	}()

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if rc.Flush() != nil {
		return
	}
	var heartbeats <-chan time.Time
	if !b.napcat() {
		t := time.NewTicker(b.opts.HeartbeatInterval)
		defer t.Stop()
		heartbeats = t.C
	}
	for {
		var frame []byte
		select {
		case frame = <-stream.frames:
		case <-heartbeats:
			frame = marshal(b.heartbeatEvent())
		case <-run.Stopping():
			return
		case <-r.Context().Done():
			return
		}
		_ = rc.SetWriteDeadline(time.Now().Add(standin.WriteWait))
		if _, err := w.Write(sseFrame(frame)); err != nil || rc.Flush() != nil {
			return
		}
	}
}

// sseFrame encodes one event as the bots do, "data: <json>" and a
// blank line; a frame of several lines (garbage) gets one data line each,
// as SSE requires.
func sseFrame(frame []byte) []byte {
	var out bytes.Buffer
	for line := range bytes.Lines(frame) {
		out.WriteString("data: ")
		out.Write(bytes.TrimRight(line, "\r\n"))
		out.WriteByte('\n')
	}
	if len(frame) == 0 {
		out.WriteString("data: \n")
	}
	out.WriteByte('\n')
	return out.Bytes()
}
