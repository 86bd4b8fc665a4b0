package main

import (
	"fmt"
	"os"
	"time"

	"github.com/mores-eval/mores/bench"
	"golang.org/x/time/rate"
)

// The rate-limited measure: `mores run` at concurrency 64 against a server
// with a hidden rate limit (rateLimit requests a second, a bucket of
// rateBurst; over it, 429 at once without Retry-After) and rateLatency per
// answer, so that the concurrency the limit allows is rateLimit ×
// rateLatency = 10. The adaptive concurrency of the openai provider must
// find it: the throughput must reach rateTarget × the limit with no trial
// failed (no request out of retries).
const (
	rateLimit   = 500
	rateBurst   = 10
	rateLatency = 20 * time.Millisecond
	rateTarget  = 0.9
)

var rateLimitBody = []byte(`{"error":{"message":"Rate limit reached for requests. Please try again later.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)

// RateLimited is the figure of the rate-limited measure.
type RateLimited struct {
	Trials      int64   `json:"trials"`
	Failed      int64   `json:"failed_trials"`
	Concurrency int     `json:"concurrency"`
	LimitPerSec float64 `json:"hidden_limit_per_s"`
	LatencyMS   float64 `json:"latency_ms"`
	Throttled   int64   `json:"throttled_requests"`
	Seconds     float64 `json:"seconds"`
	// PerSec is the trials answered between the first request and the
	// last answer, a second; Ratio is it over the hidden limit.
	PerSec float64 `json:"trials_per_s"`
	Ratio  float64 `json:"ratio"`
	// WallRatio counts the whole process, start and finish included.
	WallRatio float64 `json:"wall_ratio"`
	Target    float64 `json:"target_ratio"`
	Pass      bool    `json:"pass"`
}

func (h *harness) rateLimited(res *Results) error {
	srv, err := startServer(rateLatency)
	if err != nil {
		return err
	}
	defer srv.close()
	srv.limiter = rate.NewLimiter(rateLimit, rateBurst)
	samples := h.sz.RateSamples
	wl, err := h.workload(samples)
	if err != nil {
		return err
	}
	srv.window()
	dir, p, err := h.runMores(moresRun{suite: wl.NetSuite, models: netModels(srv.URL())})
	if err != nil {
		return err
	}
	first, last := srv.window()
	m, err := bench.ReadManifest(dir)
	if err != nil {
		return err
	}
	if m.Counts == nil {
		return fmt.Errorf("%s: no counts (status %q)", dir, m.Status)
	}
	os.RemoveAll(dir)
	n := m.Counts.Trials - m.Counts.Errors
	r := &RateLimited{Trials: m.Counts.Trials, Failed: m.Counts.Errors, Concurrency: concurrency, LimitPerSec: rateLimit,
		LatencyMS: float64(rateLatency) / float64(time.Millisecond), Throttled: srv.throttled.Load(), Seconds: p.Wall.Seconds(),
		Target: rateTarget}
	r.PerSec = float64(n) / last.Sub(first).Seconds()
	r.Ratio = r.PerSec / rateLimit
	r.WallRatio = float64(n) / p.Wall.Seconds() / rateLimit
	r.Pass = r.Ratio >= r.Target && r.Failed == 0 && r.Trials == int64(2*samples)
	res.RateLimited = r
	return nil
}
