package milky

import (
	"context"
	"errors"
	"testing"

	milkystandin "github.com/mcqq/bridge/internal/standin/milky"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
)

// A member leaving reaches Events as qq.MemberLeft, and the member is then
// looked up afresh: the bot, not the cache, says they are gone.
func TestMemberLeftArrivesAndIsForgotten(t *testing.T) {
	m := startBot(t, milkystandin.Options{})
	m.AddMember(testGroup, alice)
	c, _ := newClient(t, Options{BaseURL: m.URL()})
	runClient(t, c)
	testutil.WaitFor(t, "the stream to come up", c.State().Up, waitLimit)
	ctx := context.Background()
	if _, err := c.Member(ctx, testGroup, alice.UserID); err != nil {
		t.Fatal(err)
	}
	m.MemberLeaves(testGroup, alice.UserID)
	if ev := nextEvent(t, c); ev.Kind != qq.MemberLeft || ev.GroupID != testGroup || ev.UserID != alice.UserID {
		t.Fatalf("event %+v", ev)
	}
	var api *qq.APIError
	if _, err := c.Member(ctx, testGroup, alice.UserID); !errors.As(err, &api) {
		t.Errorf("member after leaving: %v; want the bot's answer", err)
	}
}
