package openai

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// adaptive is an adaptive limit on a model's attempts in flight, in the
// manner of TCP's congestion window: each answer that came while the limit
// was binding raises it by 1/limit (one a round of answers); each 429 (or
// 503) lowers it by one, so that it falls by as many attempts as overshot
// the server's limit; an answer slower than twice the fastest seen plus
// slowSlack cuts it by the factor decrease, at most once a round trip. It
// starts unbounded (up to the configured concurrency): a server that never
// pushes back is never slowed, and the first cut starts from the attempts
// in flight then.
//
// A request waiting for a slot is not an attempt yet; a request backing
// off after a 429 holds no slot.
type adaptive struct {
	ceiling float64 // the configured concurrency; +Inf when none

	// inFlight counts the attempts holding a slot. Until the first push-back
	// the limit is unbounded (bounded false) and acquire and release only
	// count, without the lock, so that a server that never pushes back
	// costs two atomic additions an attempt.
	inFlight   atomic.Int64
	bounded    atomic.Bool
	minLatency atomic.Int64 // the fastest answer (ns), of the last window once bounded
	rtt        atomic.Int64 // a smoothed latency of answers (ns)

	mu           sync.Mutex
	limit        float64
	waiters      []chan struct{}
	windowMin    time.Duration // the fastest of the current window
	windowStart  time.Time
	lastDecrease time.Time
	decreases    int
}

const (
	// decrease is the multiplicative cut of the limit.
	decrease = 0.9
	// slowSlack is the latency above twice the fastest that counts as
	// congestion: at small latencies (a loopback server answers in
	// microseconds) the ratio alone is noise.
	slowSlack = 50 * time.Millisecond
	// latencyWindow is how long the fastest answer is remembered.
	latencyWindow = 30 * time.Second
)

func newAdaptive(ceiling int) *adaptive {
	c := math.Inf(1)
	if ceiling > 0 {
		c = float64(ceiling)
	}
	return &adaptive{ceiling: c, limit: c}
}

// acquire takes a slot, waiting for one; it fails only when ctx ends.
func (a *adaptive) acquire(ctx context.Context) error {
	if !a.bounded.Load() && a.ceiling > 1e18 {
		a.inFlight.Add(1)
		return nil
	}
	a.mu.Lock()
	if float64(a.inFlight.Load()) < a.limit && len(a.waiters) == 0 {
		a.inFlight.Add(1)
		a.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	a.waiters = append(a.waiters, ch)
	a.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		a.mu.Lock()
		for i, w := range a.waiters {
			if w == ch {
				a.waiters = append(a.waiters[:i], a.waiters[i+1:]...)
				a.mu.Unlock()
				return ctx.Err()
			}
		}
		a.mu.Unlock()
		a.release(outcomeNone, 0) // granted meanwhile: give it back
		return ctx.Err()
	}
}

// outcome is what an attempt tells the limiter.
type outcome int

const (
	outcomeNone      outcome = iota // nothing (an error that says nothing of load)
	outcomeOK                       // an answer
	outcomeThrottled                // 429 or 503: the server is over its limit
)

// release gives back a slot with what the attempt learnt, adapts the limit
// and wakes the waiters that now fit.
//
// A throttled attempt keeps its slot for one round trip more: a server
// rejects at once, and a slot freed at once would be taken by the next
// attempt at once, so that the limit on attempts in flight would not limit
// their rate.
func (a *adaptive) release(o outcome, latency time.Duration) {
	if o == outcomeThrottled {
		now := time.Now()
		a.mu.Lock()
		// One rejected attempt is one attempt too many: the limit drops
		// by one (from what was in flight, the first time), so that it
		// falls by as much as it overshoots, in one round trip.
		a.limit = math.Max(1, math.Min(a.limit, float64(a.inFlight.Load()))-1)
		a.lastDecrease = now
		a.decreases++
		a.bounded.Store(true)
		a.mu.Unlock()
		time.AfterFunc(max(time.Duration(a.rtt.Load()), time.Millisecond), func() { a.release(outcomeNone, 0) })
		return
	}
	slow := false
	if o == outcomeOK {
		minLat := time.Duration(a.minLatency.Load())
		slow = minLat > 0 && latency > 2*minLat+slowSlack
	}
	if !a.bounded.Load() && !slow && a.ceiling > 1e18 {
		if o == outcomeOK {
			a.observeFast(latency)
		}
		a.inFlight.Add(-1)
		if !a.bounded.Load() {
			return
		}
		a.mu.Lock() // bounded meanwhile: wake whom the slot fits
		a.wakeLocked()
		a.mu.Unlock()
		return
	}
	now := time.Now()
	a.mu.Lock()
	binding := float64(a.inFlight.Load()) >= a.limit-1 || len(a.waiters) > 0
	a.inFlight.Add(-1)
	if o == outcomeOK {
		if slow {
			a.cut(now, int(a.inFlight.Load())+1)
		} else if binding && !math.IsInf(a.limit, 1) {
			a.limit = math.Min(a.ceiling, a.limit+1/a.limit)
		}
		a.observeFast(latency) // after the cut, whose guard is the round trip before
		a.observeWindow(now, latency)
	}
	a.wakeLocked()
	a.mu.Unlock()
}

// wakeLocked grants slots to the waiters that fit; a.mu is held.
func (a *adaptive) wakeLocked() {
	for len(a.waiters) > 0 && float64(a.inFlight.Load()) < a.limit {
		close(a.waiters[0])
		a.waiters = a.waiters[1:]
		a.inFlight.Add(1)
	}
}

// observeFast records an answer's latency in the smoothed round trip and
// the fastest answer, without the lock.
func (a *adaptive) observeFast(latency time.Duration) {
	if r := a.rtt.Load(); r == 0 {
		a.rtt.Store(int64(latency))
	} else {
		a.rtt.Store(r + (int64(latency)-r)/8)
	}
	for {
		m := a.minLatency.Load()
		if m != 0 && m <= int64(latency) {
			return
		}
		if a.minLatency.CompareAndSwap(m, int64(latency)) {
			return
		}
	}
}

// observeWindow ages the fastest answer once bounded: the fastest of the
// last latencyWindow replaces it, so that a server that became slower for
// good is not taken for congested forever. a.mu is held.
func (a *adaptive) observeWindow(now time.Time, latency time.Duration) {
	if a.windowStart.IsZero() || now.Sub(a.windowStart) > latencyWindow {
		if !a.windowStart.IsZero() {
			a.minLatency.Store(int64(a.windowMin))
		}
		a.windowStart, a.windowMin = now, latency
	}
	a.windowMin = min(a.windowMin, latency)
}

// cut lowers the limit, at most once a round trip; inFlight are the
// attempts in flight with the one that tells of congestion.
func (a *adaptive) cut(now time.Time, inFlight int) {
	if now.Sub(a.lastDecrease) < max(time.Duration(a.rtt.Load()), time.Millisecond) {
		return
	}
	a.lastDecrease = now
	base := a.limit
	if math.IsInf(base, 1) || base > float64(inFlight) {
		base = float64(inFlight) // what was really in flight
	}
	a.limit = math.Max(1, base*decrease)
	a.decreases++
	a.bounded.Store(true)
}

// Limit returns the current limit (+Inf when unbounded) and how many times
// it was cut.
func (a *adaptive) state() (float64, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.limit, a.decreases
}
