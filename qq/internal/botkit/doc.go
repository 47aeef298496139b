// Package botkit holds what the OneBot, Milky and Satori clients share, so each
// mechanism exists once: the HTTP API plumbing (transport, authorised POST,
// the SSE reader, webhook bodies), the life cycle of a link over HTTP
// (ending a session when the bot is unreachable, the webhook health check,
// HTTP handlers bound to Run), the look-up caches, and the reading of
// segment data into the neutral model (FromOneBot, with the rules for
// stickers and file names the implementations disagree on).
package botkit
