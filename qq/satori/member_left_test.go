package satori_test

import (
	"errors"
	"testing"

	satoristandin "github.com/mcqq/bridge/internal/standin/satori"
	"github.com/mcqq/bridge/qq"
)

// A member leaving reaches Events as qq.MemberLeft, and the member is then
// looked up afresh: the server, not the cache, says they are gone.
func TestMemberLeftArrivesAndIsForgotten(t *testing.T) {
	b := startBot(t, satoristandin.Options{Token: testToken})
	c, _ := connect(t, b)
	ctx := t.Context()
	if _, err := c.Member(ctx, testGroup, bob.UserID); err != nil {
		t.Fatal(err)
	}
	b.MemberLeaves(testGroup, bob.UserID)
	if ev := nextEvent(t, c); ev.Kind != qq.MemberLeft || ev.GroupID != testGroup || ev.UserID != bob.UserID {
		t.Fatalf("event %+v", ev)
	}
	var api *qq.APIError
	if _, err := c.Member(ctx, testGroup, bob.UserID); !errors.As(err, &api) {
		t.Errorf("member after leaving: %v; want the server's answer", err)
	}
}
