package relay

import (
	"fmt"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// relayMetrics are the relay's Prometheus series (SPEC §5: messages relayed
// per direction and server, dropped, queued, relay latency).
type relayMetrics struct{ set *metrics.Set }

func newRelayMetrics(set *metrics.Set) *relayMetrics { return &relayMetrics{set} }

// Directions as they appear in the metric labels.
const (
	qqToMC = "qq_to_mc"
	mcToQQ = "mc_to_qq"
	mcToMC = "mc_to_mc" // CROSS_SERVER_CHAT
)

func (m *relayMetrics) relayed(direction, server string, since time.Time) {
	m.set.GetOrCreateCounter(fmt.Sprintf(`bridge_messages_relayed_total{direction=%q,server=%q}`, direction, server)).Inc()
	m.set.GetOrCreateHistogram(fmt.Sprintf(`bridge_relay_latency_seconds{direction=%q}`, direction)).UpdateDuration(since)
}

func (m *relayMetrics) dropped(queue string, n int) {
	m.set.GetOrCreateCounter(fmt.Sprintf(`bridge_messages_dropped_total{queue=%q}`, queue)).Add(n)
}

func (m *relayMetrics) queued(queue string, n int) {
	m.set.GetOrCreateGauge(fmt.Sprintf(`bridge_queue_length{queue=%q}`, queue), nil).Set(float64(n))
}

// replayed counts QQ messages ignored because they were handled before.
func (m *relayMetrics) replayed() {
	m.set.GetOrCreateCounter(`bridge_messages_replayed_total`).Inc()
}

func (m *relayMetrics) command(name, result string) {
	m.set.GetOrCreateCounter(fmt.Sprintf(`bridge_commands_total{command=%q,result=%q}`, name, result)).Inc()
}
