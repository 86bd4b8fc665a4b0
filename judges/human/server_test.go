package human

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mores-eval/mores/bench"
)

var secretModels = []string{"zeta-secret-model", "omega-hidden-model"}

func TestWithoutTokenNothingIsShown(t *testing.T) {
	dir := makeRun(t, runSpec{models: secretModels, samples: 4})
	ts := startServer(t, Options{Dir: dir, Raters: []string{"ann", "bob"}})
	get := func(path string, cookie string) (int, string) {
		req, _ := http.NewRequest("GET", ts.base+path, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: CookieName, Value: cookie})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		path, cookie string
		want         int
	}{
		{"/", "", http.StatusUnauthorized},
		{"/api/state", "", http.StatusUnauthorized},
		{"/api/state", "not-a-token", http.StatusUnauthorized},
		{"/api/state", ts.token(t, "ann") + "x", http.StatusUnauthorized},
		{"/r/not-a-token", "", http.StatusForbidden},
		{"/r/" + ts.token(t, "ann")[:20], "", http.StatusForbidden},
	} {
		code, body := get(tc.path, tc.cookie)
		if code != tc.want {
			t.Errorf("GET %s (cookie %q): %d, want %d", tc.path, tc.cookie, code, tc.want)
		}
		if w := containsAny(body, "Question", "Answer", "zeta", "omega", "csrf"); w != "" {
			t.Errorf("GET %s without a valid token: the body holds %q", tc.path, w)
		}
	}
	c := &client{t: t, base: ts.base, hc: &http.Client{}}
	if code, _, _ := c.post(map[string]any{"item": "x", "alignment": 1, "engagement": 1}, nil); code != http.StatusUnauthorized {
		t.Errorf("POST without a token: %d, want 401", code)
	}
	// With the token, the same state has data.
	a := login(t, ts.base, ts.token(t, "ann"))
	if st, code, _ := a.state(); code != 200 || st.Item == nil || !strings.Contains(st.Item.Prompt, "Question") {
		t.Errorf("with the token: %d %+v", code, st)
	}
	// The security headers are on every response.
	resp, err := http.Get(ts.base + "/static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for h, want := range map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}

func TestLinkSetsAStrictHttpOnlyCookie(t *testing.T) {
	dir := makeRun(t, runSpec{models: secretModels, samples: 2})
	ts := startServer(t, Options{Dir: dir})
	resp, err := http.Get(ts.base + "/r/" + ts.token(t, "rater-1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cs := resp.Cookies()
	if len(cs) != 1 || cs[0].Name != CookieName || !cs[0].HttpOnly || cs[0].SameSite != http.SameSiteStrictMode || cs[0].Path != "/" {
		t.Fatalf("cookies %+v", cs)
	}
}

func TestRatersSeeOnlyTheirOwnItemsAndNoModelNames(t *testing.T) {
	dir := makeRun(t, runSpec{models: secretModels, samples: 6})
	db := filepath.Join(t.TempDir(), "r.sqlite")
	ts := startServer(t, Options{Dir: dir, DB: db, Raters: []string{"ann", "bob"}, Overlap: 1})
	ann := login(t, ts.base, ts.token(t, "ann"))
	bob := login(t, ts.base, ts.token(t, "bob"))
	annItems, bobItems := map[string]bool{}, map[string]bool{}
	var bodies []string
	for _, c := range []*client{ann, bob} {
		for {
			st, _, body := c.state()
			bodies = append(bodies, body)
			if st.Item == nil {
				break
			}
			if c == ann {
				annItems[st.Item.ID] = true
			} else {
				bobItems[st.Item.ID] = true
			}
			code, _, body := c.post(map[string]any{"item": st.Item.ID, "alignment": 4, "engagement": 5, "comment": "ok"}, nil)
			bodies = append(bodies, body)
			if code != 200 {
				t.Fatalf("rating: %d %s", code, body)
			}
		}
	}
	if len(annItems) != 6 || len(bobItems) != 6 {
		t.Fatalf("ann rated %d items, bob %d; want 6 each (12 items, overlap 1)", len(annItems), len(bobItems))
	}
	for id := range annItems {
		if bobItems[id] {
			t.Errorf("item %s assigned to both raters with overlap 1", id)
		}
	}
	for _, b := range bodies {
		if w := containsAny(b, "zeta", "omega"); w != "" {
			t.Fatalf("a response names a model (%q): %s", w, b)
		}
	}
	// Ann's token on Bob's items: nothing of Bob's, and nothing stored.
	sql := openDB(t, db)
	before := count(t, sql, `SELECT COUNT(*) FROM ratings`)
	fresh := startServer(t, Options{Dir: dir, DB: filepath.Join(t.TempDir(), "fresh.sqlite"), Raters: []string{"ann", "bob"}})
	fa := login(t, fresh.base, fresh.token(t, "ann"))
	fb := login(t, fresh.base, fresh.token(t, "bob"))
	bst, _, _ := fb.state()
	code, st, body := fa.post(map[string]any{"item": bst.Item.ID, "alignment": 1, "engagement": 1}, nil)
	if code != http.StatusNotFound || st.Item != nil || strings.Contains(body, bst.Item.Prompt) {
		t.Errorf("ann rating bob's item: %d %s", code, body)
	}
	// Ann's CSRF token does not work with Bob's cookie.
	fb.csrf, fa.csrf = fa.csrf, fb.csrf
	if code, _, _ := fb.post(map[string]any{"item": bst.Item.ID, "alignment": 1, "engagement": 1}, nil); code != http.StatusForbidden {
		t.Errorf("bob's cookie with ann's CSRF token: %d, want 403", code)
	}
	if n := count(t, sql, `SELECT COUNT(*) FROM ratings`); n != before {
		t.Errorf("ratings %d → %d after refused requests", before, n)
	}
}

func TestCSRFAndOriginChecks(t *testing.T) {
	dir := makeRun(t, runSpec{models: secretModels, samples: 3})
	db := filepath.Join(t.TempDir(), "r.sqlite")
	ts := startServer(t, Options{Dir: dir, DB: db})
	c := login(t, ts.base, ts.token(t, "rater-1"))
	st, _, _ := c.state()
	good := map[string]any{"item": st.Item.ID, "alignment": 6, "engagement": 2}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"no CSRF token", map[string]string{"X-CSRF-Token": ""}, http.StatusForbidden},
		{"wrong CSRF token", map[string]string{"X-CSRF-Token": c.csrf[:len(c.csrf)-2] + "AA"}, http.StatusForbidden},
		{"foreign Origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"null Origin", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"cross-site fetch", map[string]string{"Origin": "", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site fetch", map[string]string{"Origin": "", "Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"neither Origin nor Sec-Fetch-Site", map[string]string{"Origin": ""}, http.StatusForbidden},
		{"a form post", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
	} {
		if code, _, body := c.post(good, tc.headers); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
	}
	if n := count(t, openDB(t, db), `SELECT COUNT(*) FROM ratings`); n != 0 {
		t.Fatalf("%d ratings stored by refused requests", n)
	}
	if code, _, body := c.post(good, map[string]string{"Origin": "", "Sec-Fetch-Site": "same-origin"}); code != 200 {
		t.Fatalf("same-origin fetch: %d %s", code, body)
	}
}

func TestBadBodiesAreRefused(t *testing.T) {
	dir := makeRun(t, runSpec{models: secretModels, samples: 2})
	ts := startServer(t, Options{Dir: dir})
	c := login(t, ts.base, ts.token(t, "rater-1"))
	st, _, _ := c.state()
	id := st.Item.ID
	for _, tc := range []struct {
		name string
		body any
		want int
	}{
		{"too large", `{"item":"` + id + `","alignment":3,"engagement":3,"comment":"` + strings.Repeat("x", 20<<10) + `"}`, http.StatusRequestEntityTooLarge},
		{"not JSON", "alignment=3", http.StatusBadRequest},
		{"unknown field", map[string]any{"item": id, "alignment": 3, "engagement": 3, "rater": "bob"}, http.StatusBadRequest},
		{"out of range", map[string]any{"item": id, "alignment": 8, "engagement": 3}, http.StatusBadRequest},
		{"missing engagement", map[string]any{"item": id, "alignment": 3}, http.StatusBadRequest},
		{"pairwise choice in single mode", map[string]any{"item": id, "alignment": 3, "engagement": 3, "choice": "a"}, http.StatusBadRequest},
		{"long comment", map[string]any{"item": id, "alignment": 3, "engagement": 3, "comment": strings.Repeat("é", maxComment+1)}, http.StatusBadRequest},
		{"no such item", map[string]any{"item": "nope", "alignment": 3, "engagement": 3}, http.StatusNotFound},
	} {
		if code, _, body := c.post(tc.body, nil); code != tc.want {
			t.Errorf("%s: %d %.200s, want %d", tc.name, code, body, tc.want)
		}
	}
}

func TestSecondRatingIsRejectedAndNoDuplicateIsStored(t *testing.T) {
	dir := makeRun(t, runSpec{models: secretModels, samples: 3})
	db := filepath.Join(t.TempDir(), "r.sqlite")
	ts := startServer(t, Options{Dir: dir, DB: db})
	c := login(t, ts.base, ts.token(t, "rater-1"))
	st, _, _ := c.state()
	id := st.Item.ID
	// Ten concurrent submissions of the same item: one wins.
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, _ = c.post(map[string]any{"item": id, "alignment": 1 + i%7, "engagement": 2}, nil)
		}()
	}
	wg.Wait()
	ok := 0
	for _, code := range codes {
		switch code {
		case 200:
			ok++
		case http.StatusConflict:
		default:
			t.Errorf("status %d", code)
		}
	}
	if ok != 1 {
		t.Errorf("%d submissions accepted, want 1 (codes %v)", ok, codes)
	}
	sdb := openDB(t, db)
	if n := count(t, sdb, `SELECT COUNT(*) FROM ratings WHERE item = ?`, id); n != 1 {
		t.Errorf("%d rows for the item", n)
	}
	st, _, _ = c.state()
	if st.Done != 1 || st.Item == nil || st.Item.ID == id {
		t.Errorf("after the rating: done %d, item %+v", st.Done, st.Item)
	}
}

func TestRestartResumesAtTheNextUnratedItem(t *testing.T) {
	dir := makeRun(t, runSpec{models: secretModels, samples: 5, seed: 7})
	db := filepath.Join(t.TempDir(), "r.sqlite")
	opt := Options{Dir: dir, DB: db, Raters: []string{"ann", "bob"}, Overlap: 2}
	ts := startServer(t, opt)
	token := ts.token(t, "ann")
	c := login(t, ts.base, token)
	var seen []string
	for range 3 {
		st, _, _ := c.state()
		seen = append(seen, st.Item.ID)
		if code, _, body := c.post(map[string]any{"item": st.Item.ID, "alignment": 5, "engagement": 5}, nil); code != 200 {
			t.Fatal(body)
		}
	}
	next, _, _ := c.state()
	ts.Close() // the database only; the listener stays until cleanup

	ts2 := startServer(t, opt)
	if ts2.token(t, "ann") != token {
		t.Fatal("the restarted server gave ann a new token")
	}
	c2 := login(t, ts2.base, token)
	st, _, _ := c2.state()
	if st.Done != 3 || st.Total != 10 || st.Item == nil || st.Item.ID != next.Item.ID {
		t.Fatalf("after restart: done %d of %d, item %v; want 3 of 10 and item %s", st.Done, st.Total, st.Item, next.Item.ID)
	}
	if slices.Contains(seen, st.Item.ID) {
		t.Fatal("resumed at a rated item")
	}
	// Reissuing revokes the old link.
	ts3 := startServer(t, Options{Dir: dir, DB: db, Raters: []string{"ann", "bob"}, Overlap: 2, Reissue: []string{"ann"}})
	if ts3.token(t, "ann") == token || ts3.token(t, "bob") != ts2.token(t, "bob") {
		t.Fatal("--reissue ann: want a new token for ann only")
	}
	resp, _ := http.Get(ts3.base + "/r/" + token)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("old link after reissue: %d", resp.StatusCode)
	}
}

func TestAssignmentGivesEachItemToOverlapRaters(t *testing.T) {
	raters := []string{"a", "b", "c", "d", "e", "f", "g"}
	for _, k := range []int{1, 2, 3, 7} {
		qs := assign(50, raters, k, 3)
		per := make([]int, 50)
		for r, q := range qs {
			seen := map[int]bool{}
			for _, p := range q {
				if seen[p] {
					t.Fatalf("k=%d: rater %d has item %d twice", k, r, p)
				}
				seen[p] = true
				per[p]++
			}
			if n := len(q); n < 50*k/7 || n > 50*k/7+1 {
				t.Errorf("k=%d: rater %d has %d items, want about %d", k, r, n, 50*k/7)
			}
		}
		for p, n := range per {
			if n != k {
				t.Fatalf("k=%d: item %d rated by %d raters", k, p, n)
			}
		}
		again := assign(50, raters, k, 3)
		if !slices.EqualFunc(qs, again, slices.Equal) {
			t.Fatalf("k=%d: assignment not deterministic", k)
		}
	}
	qs := assign(40, []string{"a", "b"}, 2, 3)
	if slices.Equal(qs[0], qs[1]) {
		t.Error("two raters with the same items see them in the same order")
	}
	if _, err := Open(context.Background(), Options{Dir: makeRun(t, runSpec{models: secretModels, samples: 2}), Overlap: 2}); err == nil {
		t.Error("overlap 2 with one rater: no error")
	} else {
		var ie *bench.InputError
		if !errors.As(err, &ie) {
			t.Errorf("overlap error %T %v, want *bench.InputError", err, err)
		}
	}
}

func TestPairwiseRecordsTheWinningModel(t *testing.T) {
	// Each response names its author in a code the server does not know, so
	// the test can tell which model's answer a rater chose.
	code := map[string]string{secretModels[0]: "RESP-1", secretModels[1]: "RESP-2"}
	dir := makeRun(t, runSpec{models: secretModels, samples: 8, failEvery: 5,
		response: func(m string, s, ep int) string { return fmt.Sprintf("%s answer to %d", code[m], s) }})
	db := filepath.Join(t.TempDir(), "r.sqlite")
	ts := startServer(t, Options{Dir: dir, DB: db, Mode: Pairwise, Raters: []string{"ann", "bob"}, Overlap: 2})
	firstIs1 := map[string]map[string]bool{}
	var bodies []string
	for _, r := range []string{"ann", "bob"} {
		c := login(t, ts.base, ts.token(t, r))
		firstIs1[r] = map[string]bool{}
		for i := 0; ; i++ {
			st, _, body := c.state()
			bodies = append(bodies, body)
			if st.Item == nil {
				break
			}
			if len(st.Item.Responses) != 2 {
				t.Fatalf("pairwise item with %d responses", len(st.Item.Responses))
			}
			firstIs1[r][st.Item.ID] = strings.HasPrefix(st.Item.Responses[0], "RESP-1")
			choice := []string{"a", "b", "tie"}[i%3]
			if code, _, body := c.post(map[string]any{"item": st.Item.ID, "choice": choice}, nil); code != 200 {
				t.Fatal(body)
			}
		}
	}
	for _, b := range bodies {
		if strings.Contains(b, "zeta") || strings.Contains(b, "omega") {
			t.Fatalf("a pairwise response names a model: %s", b)
		}
	}
	// Failed trials (every 5th) leave their pair out.
	if n := len(firstIs1["ann"]); n >= 8 || n < 4 {
		t.Fatalf("ann saw %d pairs; want fewer than 8 (failed trials skipped)", n)
	}
	differ := 0
	for id, f := range firstIs1["ann"] {
		if firstIs1["bob"][id] != f {
			differ++
		}
	}
	if differ == 0 {
		t.Error("ann and bob saw every pair in the same order")
	}
	rows, err := openStoreForTest(t, db).allRatings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		shownFirst := r.key.modelA
		if !firstIs1[r.Rater][r.Item] {
			shownFirst = r.key.modelB
		}
		if r.ShownFirst != shownFirst {
			t.Fatalf("%s %s: shown first %s, the page showed %s", r.Rater, r.Item, r.ShownFirst, shownFirst)
		}
		if r.Winner != "tie" && r.Winner != r.key.modelA && r.Winner != r.key.modelB {
			t.Fatalf("winner %q", r.Winner)
		}
	}
}

func openStoreForTest(t testing.TB, path string) *store {
	st, err := openStore(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.close() })
	return st
}

func TestRateLimits(t *testing.T) {
	dir := makeRun(t, runSpec{models: secretModels, samples: 2})
	ts := startServer(t, Options{Dir: dir, Limits: Limits{RaterRate: 0.001, RaterBurst: 3, IPRate: 1000, IPBurst: 1000}})
	c := login(t, ts.base, ts.token(t, "rater-1")) // one state request
	got := []int{}
	for range 4 {
		_, code, _ := c.state()
		got = append(got, code)
	}
	if !slices.Equal(got, []int{200, 200, 429, 429}) {
		t.Errorf("per-rater limit: %v, want [200 200 429 429]", got)
	}
	ts2 := startServer(t, Options{Dir: dir, DB: filepath.Join(t.TempDir(), "x.sqlite"), Limits: Limits{IPRate: 0.001, IPBurst: 5}})
	got = got[:0]
	for range 7 {
		resp, err := http.Get(ts2.base + "/static/app.css")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	if !slices.Equal(got, []int{200, 200, 200, 200, 200, 429, 429}) {
		t.Errorf("per-IP limit: %v", got)
	}
}

// TestBadTokensDoNotLockOutARater: after a flood of bad-token requests
// from one address has used up its limit, a rater with a valid link from
// the same address still gets in and rates (the limit counts failures,
// not raters).
func TestBadTokensDoNotLockOutARater(t *testing.T) {
	dir := makeRun(t, runSpec{models: secretModels, samples: 2})
	ts := startServer(t, Options{Dir: dir, Limits: Limits{RaterRate: 1000, RaterBurst: 1000, IPRate: 0.001, IPBurst: 5}})
	var got []int
	for i := range 8 {
		resp, err := http.Get(fmt.Sprintf("%s/r/not-a-token-%d", ts.base, i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	if !slices.Equal(got, []int{403, 403, 403, 403, 403, 429, 429, 429}) {
		t.Errorf("bad tokens: %v, want 5 × 403 then 429", got)
	}
	c := login(t, ts.base, ts.token(t, "rater-1")) // fails the test on a 429
	for range 3 {
		if _, code, _ := c.state(); code != http.StatusOK {
			t.Errorf("the rater got %d after the flood, want 200", code)
		}
	}
	// A request without a token is still limited.
	resp, err := http.Get(ts.base + "/api/state")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("an unauthenticated request after the flood: %d, want 429", resp.StatusCode)
	}
}

// TestFiftyRatersLoseNothing: 50 raters, each with its own HTTP client
// and token, submit 2,000 ratings concurrently over loopback; every rating
// is stored once, and resubmissions are refused.
func TestFiftyRatersLoseNothing(t *testing.T) {
	const raters, overlap = 50, 5
	dir := makeRun(t, runSpec{models: secretModels, samples: 100, epochs: 2}) // 400 items
	db := filepath.Join(t.TempDir(), "load.sqlite")
	ids := make([]string, raters)
	for i := range ids {
		ids[i] = fmt.Sprintf("load-%02d", i)
	}
	ts := startServer(t, Options{Dir: dir, DB: db, Raters: ids, Overlap: overlap,
		Limits: Limits{RaterRate: 1e6, RaterBurst: 1e6, IPRate: 1e6, IPBurst: 1e6}})
	var accepted, conflicts atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, raters)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := login(t, ts.base, ts.token(t, id))
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			st, _, _ := c.state()
			first := ""
			for st.Item != nil {
				if first == "" {
					first = st.Item.ID
				}
				code, next, body := c.post(map[string]any{"item": st.Item.ID, "alignment": 1 + rng.IntN(7), "engagement": 1 + rng.IntN(7)}, nil)
				if code != 200 {
					errs <- fmt.Errorf("%s: %d %s", id, code, body)
					return
				}
				accepted.Add(1)
				st = next
			}
			// A resubmission of a rated item is refused.
			if code, _, _ := c.post(map[string]any{"item": first, "alignment": 1, "engagement": 1}, nil); code == http.StatusConflict {
				conflicts.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d raters stored %d ratings in %v (%.0f ratings/s)", raters, accepted.Load(), elapsed, float64(accepted.Load())/elapsed.Seconds())
	if accepted.Load() != 2000 || conflicts.Load() != raters {
		t.Fatalf("accepted %d ratings (want 2000), %d resubmissions refused (want %d)", accepted.Load(), conflicts.Load(), raters)
	}
	sdb := openDB(t, db)
	if n := count(t, sdb, `SELECT COUNT(*) FROM ratings`); n != 2000 {
		t.Errorf("%d rows, want 2000", n)
	}
	if n := count(t, sdb, `SELECT COUNT(*) FROM (SELECT DISTINCT rater, item FROM ratings)`); n != 2000 {
		t.Errorf("%d distinct (rater, item), want 2000", n)
	}
	if n := count(t, sdb, `SELECT COUNT(*) FROM (SELECT item FROM ratings GROUP BY item HAVING COUNT(*) = ?)`, overlap); n != 400 {
		t.Errorf("%d items rated by exactly %d raters, want 400", n, overlap)
	}
	if fi, err := os.Stat(db); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("database mode %v, want 0600 (%v)", fi.Mode().Perm(), err)
	}
}

func TestParseRaters(t *testing.T) {
	ids, err := ParseRaters("3")
	if err != nil || !slices.Equal(ids, []string{"rater-1", "rater-2", "rater-3"}) {
		t.Fatalf("3: %v %v", ids, err)
	}
	p := filepath.Join(t.TempDir(), "raters.txt")
	os.WriteFile(p, []byte("# our raters\nalice\n\nbob\n"), 0o644)
	if ids, err := ParseRaters(p); err != nil || !slices.Equal(ids, []string{"alice", "bob"}) {
		t.Fatalf("file: %v %v", ids, err)
	}
	os.WriteFile(p, []byte("alice\nbob\nalice\n"), 0o644)
	_, err = ParseRaters(p)
	var ie *bench.InputError
	if !errors.As(err, &ie) || ie.Line != 3 {
		t.Fatalf("duplicate: %v, want an input error on line 3", err)
	}
	os.WriteFile(p, []byte("alice\nbob smith\n"), 0o644)
	if _, err = ParseRaters(p); !errors.As(err, &ie) || ie.Line != 2 {
		t.Fatalf("space: %v, want an input error on line 2", err)
	}
	if _, err := ParseRaters("0"); err == nil {
		t.Fatal("0 raters: no error")
	}
}

// BenchmarkRate measures one rating over loopback HTTP: the request, the
// SQLite transaction (synchronous=FULL) and the next item in the response.
func BenchmarkRate(b *testing.B) {
	dir := makeRun(b, runSpec{models: secretModels, samples: 100, epochs: 5}) // 1,000 items
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fmt.Sprintf("b-%02d", i)
	}
	ts := startServer(b, Options{Dir: dir, Raters: ids, Overlap: len(ids),
		Limits: Limits{RaterRate: 1e9, RaterBurst: 1e9, IPRate: 1e9, IPBurst: 1e9}})
	clients := make([]*client, len(ids))
	states := make([]stateJSON, len(ids))
	for i, id := range ids {
		clients[i] = login(b, ts.base, ts.token(b, id))
		states[i], _, _ = clients[i].state()
	}
	for i := 0; b.Loop(); i++ {
		r := i % len(ids)
		if states[r].Item == nil {
			b.Fatal("out of items")
		}
		code, next, body := clients[r].post(map[string]any{"item": states[r].Item.ID, "alignment": 4, "engagement": 4}, nil)
		if code != 200 {
			b.Fatal(body)
		}
		states[r] = next
	}
}

// TestTheOverlapIsRememberedAcrossRestarts checks that a study started with
// an overlap keeps it when the server is started again without one, and
// that an overlap given again replaces it.
func TestTheOverlapIsRememberedAcrossRestarts(t *testing.T) {
	dir := makeRun(t, runSpec{models: secretModels, samples: 5, seed: 7})
	db := filepath.Join(t.TempDir(), "r.sqlite")
	raters := []string{"ann", "bob", "cy"}
	totals := func(opt Options) []int {
		ts := startServer(t, opt)
		defer ts.Close()
		var out []int
		for _, r := range raters {
			st, _, _ := login(t, ts.base, ts.token(t, r)).state()
			out = append(out, st.Total)
		}
		return out
	}
	first := totals(Options{Dir: dir, DB: db, Raters: raters, Overlap: 2})
	again := totals(Options{Dir: dir, DB: db, Raters: raters})
	if fmt.Sprint(first) != fmt.Sprint(again) {
		t.Fatalf("items per rater: %v at the first start with overlap 2, %v after a restart without --overlap", first, again)
	}
	sum := 0
	for _, n := range again {
		sum += n
	}
	if sum != 2*10 {
		t.Errorf("%d assignments for 10 items with overlap 2", sum)
	}
	three := totals(Options{Dir: dir, DB: db, Raters: raters, Overlap: 3})
	if four := totals(Options{Dir: dir, DB: db, Raters: raters}); fmt.Sprint(four) != fmt.Sprint(three) || three[0] != 10 {
		t.Errorf("after --overlap 3: %v, then %v; want 10 items each", three, four)
	}
}
