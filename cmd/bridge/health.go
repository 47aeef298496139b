package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/VictoriaMetrics/metrics"

	"github.com/mcqq/bridge/internal/link"
)

// httpHandler serves HTTP_LISTEN: /healthz (alive), /readyz (200 only when QQ
// and every server are connected; JSON state per connection), /metrics.
func (b *bridge) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		ready, body := b.readiness()
		w.Header().Set("Content-Type", "application/json")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(body)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		b.metrics.WritePrometheus(w)
		metrics.WriteProcessMetrics(w)
	})
	return mux
}

type readyBody struct {
	Ready       bool              `json:"ready"`
	Connections []connectionState `json:"connections"`
}

type connectionState struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Server string `json:"server,omitempty"`
	link.Snapshot
}

func (b *bridge) readiness() (bool, readyBody) {
	body := readyBody{Ready: true}
	for _, c := range b.connections() {
		snap := c.State.Get()
		snap.LastError = b.redactor.String(snap.LastError) // /readyz has no token
		body.Connections = append(body.Connections, connectionState{Name: c.Name, Kind: c.Kind, Server: c.Server, Snapshot: snap})
		if c.Required && !snap.Up {
			body.Ready = false
		}
	}
	return body.Ready, body
}

// watchState mirrors one connection's state into /metrics: an up gauge and a
// counter of reconnects (every time it comes up again after the first).
func watchState(ctx context.Context, c namedState, set *metrics.Set) {
	labels := fmt.Sprintf(`{conn=%q,kind=%q}`, c.Name, c.Kind)
	up := set.GetOrCreateGauge("bridge_connection_up"+labels, nil)
	reconnects := set.GetOrCreateCounter("bridge_reconnects_total" + labels)
	wasUp, everUp := false, false
	for {
		changed := c.State.Changed()
		isUp := c.State.Up()
		if isUp {
			up.Set(1)
			if !wasUp && everUp {
				reconnects.Inc()
			}
			everUp = true
		} else {
			up.Set(0)
		}
		wasUp = isUp
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}
