package onebot_test

import (
	"errors"
	"testing"

	onebotstandin "github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/qq"
)

// A member leaving reaches Events as qq.MemberLeft, and the member is then
// looked up afresh: the bot, not the cache, says they are gone.
func TestMemberLeftArrivesAndIsForgotten(t *testing.T) {
	bot, c, _ := connectedPair(t, onebotstandin.Options{}, 0)
	bot.AddMember(testGroup, alice)
	ctx := t.Context()
	if _, err := c.Member(ctx, testGroup, alice.UserID); err != nil {
		t.Fatal(err)
	}
	bot.MemberLeaves(testGroup, alice.UserID)
	if ev := nextEvent(t, c); ev.Kind != qq.MemberLeft || ev.GroupID != testGroup || ev.UserID != alice.UserID {
		t.Fatalf("event %+v", ev)
	}
	var api *qq.APIError
	if _, err := c.Member(ctx, testGroup, alice.UserID); !errors.As(err, &api) {
		t.Errorf("member after leaving: %v; want the bot's answer", err)
	}
}
