// Package satori is the bridge's client for Satori, the protocol LLBot
// serves beside OneBot 11 and Milky and Koishi serves for any of its
// platforms: API calls are JSON POSTs to {base}/v1/{resource}.{method},
// events arrive over a WebSocket at {base}/v1/events, and messages are
// element strings such as `hi <at id="1357924680"/>`.
//
// Satori's shapes are translated into the neutral model of package qq with
// OneBot names, so the relay and the formatter never see them.
package satori
