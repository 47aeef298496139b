package ws

import (
	"context"
	"encoding/json"
	"testing"
)

func answered(t *testing.T, ch <-chan json.RawMessage) string {
	t.Helper()
	select {
	case f, ok := <-ch:
		if !ok {
			t.Fatal("request failed instead of answered")
		}
		return string(f)
	default:
		return ""
	}
}

// In an ordered table an answer without echo goes to the oldest request
// still waited for — but never to a newer one in place of a request that
// timed out: that answer is the late one of the request given up on.
func TestOrderedPendingKeepsTheOrderAcrossTimeouts(t *testing.T) {
	p := NewOrderedPending("t-")
	a, _ := p.Add()
	_, bch := p.Add()
	p.Forget(a) // a timed out; its answer may still come, before b's

	if _, ok := p.ResolveOldest(json.RawMessage(`"late answer of a"`)); ok {
		t.Fatal("the late answer of a timed-out request was given to the next one")
	}
	if got := answered(t, bch); got != "" {
		t.Fatalf("b got %s", got)
	}
	if _, ok := p.ResolveOldest(json.RawMessage(`"b's"`)); !ok || answered(t, bch) != `"b's"` {
		t.Fatal("the next answer without echo did not reach b")
	}
}

// An answer with echo shows the peer is past every older request, so the
// markers of timed-out ones go and the next echo-less answer is the oldest
// waiting request's.
func TestOrderedPendingDropsMarkersOnceThePeerIsPast(t *testing.T) {
	p := NewOrderedPending("t-")
	a, _ := p.Add()
	b, _ := p.Add()
	_, cch := p.Add()
	p.Forget(a)
	if !p.Resolve(b, json.RawMessage(`"b's"`)) {
		t.Fatal("b's answer not taken")
	}
	if _, ok := p.ResolveOldest(json.RawMessage(`"c's"`)); !ok || answered(t, cch) != `"c's"` {
		t.Fatal("the marker of a outlived an answer to a newer request")
	}
	if p.Resolve(a, json.RawMessage(`"a's"`)) {
		t.Error("an answer to a forgotten request was delivered")
	}
}

// Forgetting in an unordered table leaves nothing behind.
func TestUnorderedPendingForgets(t *testing.T) {
	p := NewPending("t-")
	a, _ := p.Add()
	p.Forget(a)
	if len(p.waits) != 0 {
		t.Fatalf("%d entries left", len(p.waits))
	}
}

// An answer already received when the time runs out is still the answer.
func TestWaitPrefersAnAnswerThatArrivedInTime(t *testing.T) {
	p := NewPending("t-")
	for range 200 { // select picks at random between ready cases
		echo, ch := p.Add()
		r := &Request{s: &Session{done: make(chan struct{})}, p: p, echo: echo, ch: ch}
		p.Resolve(echo, json.RawMessage(`1`))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := r.Wait(ctx); err != nil {
			t.Fatalf("answered request reported %v", err)
		}
	}
}

// Answered tells an answer that is in from one still awaited or lost with
// its session.
func TestAnswered(t *testing.T) {
	p := NewPending("t-")
	echo, ch := p.Add()
	r := &Request{s: &Session{done: make(chan struct{})}, p: p, echo: echo, ch: ch}
	if r.Answered() {
		t.Fatal("answered before any answer")
	}
	p.Resolve(echo, json.RawMessage(`1`))
	if !r.Answered() {
		t.Fatal("not answered after its answer")
	}
	echo, ch = p.Add()
	r = &Request{s: &Session{done: make(chan struct{})}, p: p, echo: echo, ch: ch}
	p.FailAll()
	if r.Answered() {
		t.Fatal("answered after the session failed it")
	}
}
