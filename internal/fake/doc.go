// Package fake holds loopback stand-ins for the bridge's real peers — a
// NapCat/LLBot-like OneBot 11 bot, a Milky bot, the QueQiao plugin and a
// Minecraft RCON server — speaking the real protocols with fixture-shaped
// payloads. Tests, `bridge -demo` and the benchmarks use them.
package fake
