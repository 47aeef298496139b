// Package botkit holds what the OneBot, Milky and Satori clients share, so each
// mechanism exists once: the HTTP API plumbing (transport, authorised POST,
// the SSE reader, webhook bodies and tokens), the life cycle of a link over
// HTTP (ending a session when the bot is unreachable, the webhook health
// check, HTTP handlers bound to Run) and the look-up caches.
package botkit
