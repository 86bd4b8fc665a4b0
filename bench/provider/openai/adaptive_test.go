package openai

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/mores-eval/mores/bench/benchtest"
)

func TestAdaptiveLimitCutsOnThrottlingAndGrowsBack(t *testing.T) {
	a := newAdaptive(0)
	ctx := context.Background()
	for range 20 {
		if err := a.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if l, _ := a.state(); !math.IsInf(l, 1) {
		t.Fatalf("limit %v before any push-back, want unbounded", l)
	}
	a.release(outcomeThrottled, 0) // 20 in flight: 19
	if l, n := a.state(); l != 19 || n != 1 {
		t.Fatalf("after a 429 with 20 in flight: limit %v (%d cuts), want 19", l, n)
	}
	a.release(outcomeThrottled, 0) // another attempt too many: 18
	if l, _ := a.state(); l != 18 {
		t.Fatalf("after a second 429 the limit is %v, want 18", l)
	}
	time.Sleep(20 * time.Millisecond) // the throttled attempts give their slots back
	a.mu.Lock()
	inFlight := a.inFlight.Load()
	a.mu.Unlock()
	if inFlight != 18 {
		t.Fatalf("%d in flight after two throttled attempts of 20 ended, want 18", inFlight)
	}
	// 18 in flight, the limit binding: answers raise it by 1/limit each.
	for range 18 {
		a.release(outcomeOK, time.Millisecond)
		if err := a.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if l, _ := a.state(); l < 18.9 || l > 19.1 {
		t.Errorf("after a round of answers at the limit: %v, want about 19", l)
	}
	// An answer far slower than the fastest is congestion.
	time.Sleep(2 * time.Millisecond) // past one round trip since the last cut
	a.release(outcomeOK, time.Second)
	if l, n := a.state(); l >= 18 || n != 3 {
		t.Errorf("after a slow answer: limit %v (%d cuts), want a cut", l, n)
	}
}

func TestAdaptiveConcurrencyFinishesUnderAHiddenRateLimit(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{RateLimit: 400, RateBurst: 4, Latency: 10 * time.Millisecond})
	m := newModel(t, srv, func(c *Config) { c.BackoffBase = 100 * time.Millisecond; c.BackoffMax = 5 * time.Second })
	const workers, each = 64, 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []error
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := m.Generate(context.Background(), userRequest(time.Now().String()+string(rune('a'+w))+string(rune('a'+i)))); err != nil {
					mu.Lock()
					failed = append(failed, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	limit, cuts := m.slots.state()
	throttled := srv.FaultCounts()[benchtest.FaultRateLimit]
	t.Logf("%d requests, %d answered, %d throttled; limit %.1f after %d cuts", srv.Requests(), srv.Answered(), throttled, limit, cuts)
	if len(failed) > 0 {
		t.Fatalf("%d requests failed, first: %v", len(failed), failed[0])
	}
	if srv.Answered() != workers*each || cuts == 0 || limit >= workers {
		t.Errorf("want every request answered and the limit cut below %d", workers)
	}
}
