package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// payloadSize is about one rendered chat line with its components.
const payloadSize = 400

// Queueing one message for a destination that is down: the cost the relay
// pays per message during an outage.
func BenchmarkQueueAppend(b *testing.B) {
	ctx := context.Background()
	q := open(b, b.TempDir(), Options{}).Queue()
	payload := make([]byte, payloadSize)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := q.Append(ctx, "mc:survival", payload, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// Removing one delivered message after the destination came back.
func BenchmarkQueueDelete(b *testing.B) {
	ctx := context.Background()
	q := open(b, b.TempDir(), Options{}).Queue()
	payload := make([]byte, payloadSize)
	now := time.Now()
	var ids []int64
	fill := func(n int) {
		for range n {
			id, err := q.Append(ctx, "mc:survival", payload, now)
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, id)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(ids) {
			b.StopTimer()
			ids, i = ids[:0], 0
			fill(1000)
			b.StartTimer()
		}
		if err := q.Delete(ctx, ids[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deletes/s")
}

// Removing a delivered batch of 100 in one transaction.
func BenchmarkQueueDeleteBatch100(b *testing.B) {
	ctx := context.Background()
	q := open(b, b.TempDir(), Options{}).Queue()
	payload := make([]byte, payloadSize)
	now := time.Now()
	ids := make([]int64, 100)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for i := range ids {
			id, err := q.Append(ctx, "mc:survival", payload, now)
			if err != nil {
				b.Fatal(err)
			}
			ids[i] = id
		}
		b.StartTimer()
		if err := q.Delete(ctx, ids...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(ids))/b.Elapsed().Seconds(), "deletes/s")
}

// Checking and recording one incoming message id, paid for every QQ
// message, and writing them in batches of 100 as Run does.
func BenchmarkHandled(b *testing.B) {
	db := open(b, b.TempDir(), Options{})
	h, err := db.LoadHandled(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h.FirstTime("group:712345678", fmt.Sprint(i))
		if i%100 == 99 {
			h.write(context.Background(), func(err error) { b.Fatal(err) })
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ids/s")
}

// Reading a sender's bindings: paid for every QQ message going into the
// game while accounts are on (the hover names the bound player), among
// 10,000 bindings.
func BenchmarkBindingsOf(b *testing.B) {
	ctx := context.Background()
	a := open(b, b.TempDir(), Options{}).Accounts()
	now := time.Now()
	for i := range 10_000 {
		if _, err := a.Bind(ctx, BindRequest{Binding: Binding{QQ: int64(100000 + i), Player: fmt.Sprintf("player%d", i),
			Group: 712345678, BoundAt: now}, Max: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := a.BindingsOf(ctx, int64(100000+i%20_000)); err != nil { // half of them unbound
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// Binding one name with its whitelist change: the write /bind makes.
func BenchmarkBind(b *testing.B) {
	ctx := context.Background()
	a := open(b, b.TempDir(), Options{}).Accounts()
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := a.Bind(ctx, BindRequest{Binding: Binding{QQ: int64(100000 + i), Player: fmt.Sprintf("player%d", i),
			Group: 712345678, BoundAt: now}, Max: 1, Whitelist: []string{"survival"}}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "binds/s")
}
