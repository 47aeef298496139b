package relay

import (
	"fmt"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// relayMetrics are the relay's Prometheus series: messages relayed per
// direction and server, dropped, queued, relay latency, commands. Each series
// is looked up once and kept, since updates happen for every message. Safe
// for concurrent use.
type relayMetrics struct {
	set *metrics.Set

	mu       sync.Mutex
	counters map[seriesKey]*metrics.Counter
	gauges   map[seriesKey]*metrics.Gauge
	histos   map[seriesKey]*metrics.Histogram
}

// seriesKey names a series by its kind and label values.
type seriesKey struct{ kind, a, b string }

func newRelayMetrics(set *metrics.Set) *relayMetrics {
	return &relayMetrics{set: set, counters: map[seriesKey]*metrics.Counter{},
		gauges: map[seriesKey]*metrics.Gauge{}, histos: map[seriesKey]*metrics.Histogram{}}
}

// Directions as they appear in the metric labels.
const (
	qqToMC = "qq_to_mc"
	mcToQQ = "mc_to_qq"
	mcToMC = "mc_to_mc" // CROSS_SERVER_CHAT
)

func (m *relayMetrics) counter(k seriesKey, name func() string) *metrics.Counter {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.counters[k]
	if c == nil {
		c = m.set.GetOrCreateCounter(name())
		m.counters[k] = c
	}
	return c
}

func (m *relayMetrics) relayed(direction, server string, since time.Time) {
	m.counter(seriesKey{"relayed", direction, server}, func() string {
		return fmt.Sprintf(`bridge_messages_relayed_total{direction=%q,server=%q}`, direction, server)
	}).Inc()
	k := seriesKey{"latency", direction, ""}
	m.mu.Lock()
	h := m.histos[k]
	if h == nil {
		h = m.set.GetOrCreateHistogram(fmt.Sprintf(`bridge_relay_latency_seconds{direction=%q}`, direction))
		m.histos[k] = h
	}
	m.mu.Unlock()
	h.UpdateDuration(since)
}

func (m *relayMetrics) dropped(queue string, n int) {
	m.counter(seriesKey{"dropped", queue, ""}, func() string {
		return fmt.Sprintf(`bridge_messages_dropped_total{queue=%q}`, queue)
	}).Add(n)
}

func (m *relayMetrics) queued(queue string, n int) {
	k := seriesKey{"queued", queue, ""}
	m.mu.Lock()
	g := m.gauges[k]
	if g == nil {
		g = m.set.GetOrCreateGauge(fmt.Sprintf(`bridge_queue_length{queue=%q}`, queue), nil)
		m.gauges[k] = g
	}
	m.mu.Unlock()
	g.Set(float64(n))
}

// replayed counts QQ messages ignored because they were handled before.
func (m *relayMetrics) replayed() {
	m.counter(seriesKey{"replayed", "", ""}, func() string { return `bridge_messages_replayed_total` }).Inc()
}

func (m *relayMetrics) command(name, result string) {
	m.counter(seriesKey{"command", name, result}, func() string {
		return fmt.Sprintf(`bridge_commands_total{command=%q,result=%q}`, name, result)
	}).Inc()
}
