package main

import (
	"strconv"

	"github.com/mcqq/bridge/internal/standin/milky"
	"github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/standin/satori"
	"github.com/mcqq/bridge/qq"
)

// demoBot is the QQ bot stand-in the demo talks through, whichever protocol
// it speaks.
type demoBot struct {
	describe string            // how the demo introduces it
	env      map[string]string // QQ_PROTOCOL, QQ_URL, …
	start    func(addr string) error
	stop     func()
	// say posts a group message and returns the id a reply to it carries.
	say func(group int64, sender qq.Member, segs []qq.Segment) string
	// sent is each message the bridge sent, in order.
	sent func() []demoSent
}

// demoSent is one message the bridge sent: its text and the id of the
// message it quotes ("" when none).
type demoSent struct{ text, replyTo string }

func sentOf(text string, msg []qq.Segment) demoSent {
	d := demoSent{text: text}
	if len(msg) > 0 && msg[0].Type == qq.SegReply {
		d.replyTo = msg[0].ID
	}
	return d
}

// newDemoBot makes the stand-in for protocol: a NapCat-like OneBot bot, an
// LLBot-like Milky bot or LLBot's Satori server.
func newDemoBot(protocol Protocol, group int64, groupName string, members ...qq.Member) *demoBot {
	const selfID = 2401234567
	var d demoBot
	var url func() string
	switch protocol {
	case ProtocolMilky:
		bot := milky.New(milky.Options{SelfID: selfID})
		for _, m := range members {
			bot.AddMember(group, m)
		}
		bot.SetGroupName(group, groupName)
		d = demoBot{describe: "an LLBot-like Milky bot", start: bot.Start, stop: bot.Stop,
			say: func(g int64, m qq.Member, s []qq.Segment) string {
				return strconv.FormatInt(bot.GroupMessage(g, m, s), 10)
			},
			sent: func() (out []demoSent) {
				for _, s := range bot.Sent() {
					out = append(out, sentOf(s.Text, s.Message))
				}
				return out
			}}
		url = bot.URL
	case ProtocolSatori:
		bot := satori.New(satori.Options{SelfID: selfID})
		for _, m := range members {
			bot.AddMember(group, m)
		}
		bot.SetGroupName(group, groupName)
		d = demoBot{describe: "LLBot's Satori server", start: bot.Start, stop: bot.Stop, say: bot.GroupMessage,
			sent: func() (out []demoSent) {
				for _, s := range bot.Sent() {
					out = append(out, sentOf(s.Text, s.Message))
				}
				return out
			}}
		url = bot.URL
	default:
		bot := onebot.New(onebot.Options{SelfID: selfID})
		for _, m := range members {
			bot.AddMember(group, m)
		}
		bot.SetGroupName(group, groupName)
		d = demoBot{describe: "a NapCat-like OneBot 11 bot", start: bot.Start, stop: bot.Stop,
			say: func(g int64, m qq.Member, s []qq.Segment) string {
				return strconv.FormatInt(bot.GroupMessage(g, m, s), 10)
			},
			sent: func() (out []demoSent) {
				for _, s := range bot.Sent() {
					out = append(out, sentOf(s.Text, s.Message))
				}
				return out
			}}
		url = bot.URL
	}
	start := d.start
	d.start = func(addr string) error {
		if err := start(addr); err != nil {
			return err
		}
		d.env = map[string]string{"QQ_PROTOCOL": protocol.String(), "QQ_URL": url()}
		return nil
	}
	return &d
}
