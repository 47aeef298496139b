// Package standin holds the plumbing shared by the loopback stand-ins for
// the bridge's real peers, which live in its sub-packages: onebot (a
// NapCat/LLBot-like OneBot 11 bot), milky (a Milky bot), satori (LLBot's
// or Koishi's Satori server), queqiao (the QueQiao plugin on a Minecraft
// server) and rcon (a Minecraft RCON console). Each speaks the real
// protocol over real sockets with fixture-shaped payloads, can crash (Stop)
// and come back on the same port (Restart), and has the knobs a test needs.
// Tests, `bridge -demo` and the benchmarks use them; nothing in the bridge
// itself does.
//
// The shared types and their contracts:
//
//   - Server is the restartable HTTP server behind the WebSocket stand-ins.
//     All its methods are safe for concurrent use. Stop returns only once
//     every goroutine the Server counts has ended: request handlers, and
//     goroutines that called Enter (a stand-in's dial-in loop).
//   - Run is one Start…Stop period of a Server; its Stopping channel is
//     safe to read from any goroutine.
//   - Conn is one open WebSocket connection, accepted or dialled. Write and
//     Close are safe for concurrent use (writers are serialised); ReadMessage
//     must be called from one goroutine at a time, the connection's serve
//     loop.
package standin
