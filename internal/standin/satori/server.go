package satori

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mcqq/bridge/internal/standin"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/satori"
)

// Close codes of the event stream, as LLBot and Koishi use them.
const (
	closeBadFrame = 4000
	closeBadToken = 4004
)

// handler serves one run: {prefix}/v1/events and {prefix}/v1/{method}.
func (b *Bot) handler(run *standin.Run) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(b.prefix()+"/v1/events", func(w http.ResponseWriter, r *http.Request) {
		if !websocket.IsWebSocketUpgrade(r) {
			http.Error(w, "Please use POST method to send requests.", http.StatusMethodNotAllowed)
			return
		}
		up := websocket.Upgrader{}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		b.server.ServeAccepted(run, standin.NewConn(ws), b.serveStream)
	})
	mux.HandleFunc(b.prefix()+"/v1/{method}", b.serveAPI)
	return mux
}

// serveStream answers IDENTIFY with READY (or closes 4004 for a wrong token)
// and PING with PONG; once identified the connection gets every event.
// Like both servers it checks the token only in IDENTIFY.
func (b *Bot) serveStream(c *standin.Conn) error {
	defer func() {
		b.mu.Lock()
		delete(b.streams, c)
		b.mu.Unlock()
	}()
	for {
		typ, f, err := c.ReadMessage()
		if err != nil {
			return err
		}
		if typ != websocket.TextMessage {
			continue
		}
		var p struct {
			Op   *int `json:"op"`
			Body struct {
				Token string `json:"token"`
			} `json:"body"`
		}
		if json.Unmarshal(f, &p) != nil || p.Op == nil {
			c.Close(closeBadFrame, "invalid message")
			return errors.New("invalid message")
		}
		switch *p.Op {
		case opIdentify:
			if b.opts.Token != "" && !tokenEqual(p.Body.Token, b.opts.Token) {
				b.log.Info("satori stand-in: IDENTIFY refused: bad token")
				c.Close(closeBadToken, "invalid token")
				return errors.New("invalid token")
			}
			if err := b.identified(c); err != nil {
				return err
			}
		case opPing:
			b.mu.Lock()
			b.pings++
			b.mu.Unlock()
			if err := c.Write(b.frame(opPong, map[string]any{})); err != nil {
				return err
			}
		}
	}
}

// identified sends READY and adds c to the streams that get events, with
// no event emitted in between: a client that has READY gets every event
// made after it, as from the servers, where both happen in one step.
func (b *Bot) identified(c *standin.Conn) error {
	b.emitMu.Lock()
	defer b.emitMu.Unlock()
	ready := b.frame(opReady, map[string]any{"logins": []any{b.loginObject()}, "proxy_urls": []string{}})
	if err := c.Write(ready); err != nil {
		return err
	}
	b.mu.Lock()
	b.streams[c] = struct{}{}
	b.mu.Unlock()
	return nil
}

func tokenEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// methods are the API methods the stand-in serves.
var methods = map[string]bool{
	"message.create": true, "message.get": true, "guild.member.get": true, "guild.get": true, "login.get": true,
}

// serveAPI answers POST {prefix}/v1/{method} as the servers do: 403
// "invalid token" or "login not found", 405 for GET, 404 "method not
// found", the answer object itself, or a failure as plain-text 500.
func (b *Bot) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	if b.opts.Token != "" && !tokenEqual(r.Header.Get("Authorization"), "Bearer "+b.opts.Token) {
		b.log.Info("satori stand-in: API call refused: bad token", "method", method)
		http.Error(w, "invalid token", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "Please use POST method to send requests.", http.StatusMethodNotAllowed)
		return
	}
	self, platform := r.Header.Get("Satori-User-ID"), r.Header.Get("Satori-Platform")
	if b.opts.Koishi { // Koishi also reads the older names
		self, platform = cmpOr(self, r.Header.Get("X-Self-ID")), cmpOr(platform, r.Header.Get("X-Platform"))
	}
	if self != strconv.FormatInt(b.opts.SelfID, 10) || platform == "" || (b.opts.Koishi && platform != b.platform()) {
		http.Error(w, "login not found", http.StatusForbidden)
		return
	}
	if !methods[method] {
		http.Error(w, "method not found", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b.mu.Lock()
	b.calls = append(b.calls, method)
	b.mu.Unlock()
	var p struct {
		ChannelID string `json:"channel_id"`
		MessageID string `json:"message_id"`
		GuildID   string `json:"guild_id"`
		UserID    string `json:"user_id"`
		Content   string `json:"content"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, "Unexpected token in JSON: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var answer any
	switch method {
	case "login.get":
		answer = b.loginObject()
	case "message.create":
		answer, err = b.create(p.ChannelID, p.Content)
	case "message.get":
		answer, err = b.get(p.ChannelID, p.MessageID)
	case "guild.member.get":
		answer, err = b.member(p.GuildID, p.UserID)
	case "guild.get":
		answer, err = b.guild(p.GuildID)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out, err := json.Marshal(answer)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(out)
}

// create handles message.create: it records what was sent, decoded to
// segments, stores it as the bot's message and answers the messages made.
func (b *Bot) create(channel, content string) (any, error) {
	group, private := parseChannel(channel)
	if group == 0 && private == 0 {
		return nil, errors.New("无法获取用户信息")
	}
	if strings.TrimSpace(content) == "" {
		return nil, errors.New("消息为空")
	}
	// LLBot fetches media from src (or url) and fails the call without one.
	for _, el := range satori.ParseElements(content) {
		switch el.Type {
		case "img", "image", "audio", "video", "file":
			if el.Attr("src", "url") == "" {
				return nil, errors.New("uri2local: no file to send for <" + el.Type + ">")
			}
		}
	}
	segs := satori.Segments(content, "")
	sent := Sent{ChannelID: channel, GroupID: group, UserID: private, Content: content, Message: segs}
	for _, s := range segs {
		if s.Type == qq.SegText {
			sent.Text += s.Text
		}
	}
	b.emitMu.Lock()
	defer b.emitMu.Unlock()
	b.mu.Lock()
	b.sent = append(b.sent, sent)
	id := b.nextIDLocked(channel, group)
	msg := stored{channel: channel, sender: b.botMember(), content: content, at: time.Now()}
	b.stored[id] = msg
	answer := []any{b.messageLocked(id, msg)}
	var echo []byte
	if b.opts.EchoOwn {
		echo = b.eventLocked(id, msg, group)
	}
	b.mu.Unlock()
	if echo != nil {
		b.emit(echo)
	}
	return answer, nil
}

func (b *Bot) get(channel, id string) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.stored[id]
	if !ok || m.channel != channel {
		return nil, errors.New("获取不到消息")
	}
	return b.messageLocked(id, m), nil
}

func (b *Bot) member(guild, user string) (any, error) {
	g, _ := strconv.ParseInt(guild, 10, 64)
	u, _ := strconv.ParseInt(user, 10, 64)
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.members[[2]int64{g, u}]
	if !ok {
		return nil, errors.New("群组成员未找到")
	}
	return b.memberObject(m, true), nil
}

func (b *Bot) guild(guild string) (any, error) {
	g, _ := strconv.ParseInt(guild, 10, 64)
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.groupNames[g]; !ok || g == 0 {
		return nil, errors.New("群不存在")
	}
	return b.guildLocked(g), nil
}

// parseChannel reads a group number or private:<QQ>.
func parseChannel(channel string) (group, private int64) {
	if rest, ok := strings.CutPrefix(channel, "private:"); ok {
		private, _ = strconv.ParseInt(rest, 10, 64)
		return 0, private
	}
	group, _ = strconv.ParseInt(channel, 10, 64)
	return group, 0
}
