package human

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mores-eval/mores/bench/benchtest"
)

// newBrowser starts headless Chromium for one test and returns a tab's
// context (see benchtest.Browser).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return benchtest.Browser(t)
}

// run runs actions with a time limit.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func waitFor(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(tctx, chromedp.Poll[chromedp.Void](expr)); err != nil {
		t.Fatalf("waiting for %s: %v (progress %q)", expr, err, eval[string](t, ctx, `document.getElementById('progress').textContent`))
	}
}

const currentItem = `document.getElementById('item').dataset.item`

func TestBrowserRatesWithTheKeyboardAndResumes(t *testing.T) {
	dir := makeRun(t, runSpec{models: secretModels, samples: 4})
	db := filepath.Join(t.TempDir(), "r.sqlite")
	ts := startServer(t, Options{Dir: dir, DB: db})
	ctx := newBrowser(t)
	run(t, ctx, "open the link", chromedp.Navigate(ts.base+"/r/"+ts.token(t, "rater-1")), chromedp.WaitVisible(chromedp.CSS("#item")))
	if p := eval[string](t, ctx, `location.pathname`); p != "/" {
		t.Errorf("address after opening the link: %q, want / (the token moved into a cookie)", p)
	}
	if p := eval[string](t, ctx, `document.getElementById('progress').textContent`); p != "Item 1 of 8" {
		t.Errorf("progress %q, want Item 1 of 8", p)
	}
	if html := eval[string](t, ctx, `document.documentElement.outerHTML`); strings.Contains(html, "zeta") || strings.Contains(html, "omega") {
		t.Error("the page names a model")
	}
	first := eval[string](t, ctx, currentItem)

	// 5 then 3: alignment 5, engagement 3; Enter submits.
	run(t, ctx, "type 5 3", chromedp.KeyEvent("5"), chromedp.KeyEvent("3"))
	pressed := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('.point[aria-pressed=true]')).map(b => b.dataset.key + '=' + b.dataset.value)`)
	if strings.Join(pressed, ",") != "alignment=5,engagement=3" {
		t.Fatalf("pressed %v, want alignment=5, engagement=3", pressed)
	}
	run(t, ctx, "Enter", chromedp.KeyEvent("\r"))
	waitFor(t, ctx, `document.getElementById('progress').textContent === 'Item 2 of 8'`)
	second := eval[string](t, ctx, currentItem)
	if second == first {
		t.Fatal("the same item after submitting")
	}
	sdb := openDB(t, db)
	var al, en int
	if err := sdb.QueryRow(`SELECT alignment, engagement FROM ratings WHERE rater = 'rater-1' AND item = ?`, first).Scan(&al, &en); err != nil || al != 5 || en != 3 {
		t.Fatalf("stored rating: %d, %d, %v; want 5, 3", al, en, err)
	}

	// A comment: c focuses the field, Enter in it submits.
	run(t, ctx, "rate with a comment", chromedp.KeyEvent("7"), chromedp.KeyEvent("1"), chromedp.KeyEvent("c"),
		chromedp.KeyEvent("too long"), chromedp.KeyEvent("\r"))
	waitFor(t, ctx, `document.getElementById('progress').textContent === 'Item 3 of 8'`)
	var comment string
	if err := sdb.QueryRow(`SELECT comment FROM ratings WHERE item = ?`, second).Scan(&comment); err != nil || comment != "too long" {
		t.Fatalf("stored comment %q, %v", comment, err)
	}
	third := eval[string](t, ctx, currentItem)

	// Reload: the rater resumes at the next unrated item.
	run(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#item")))
	waitFor(t, ctx, `document.getElementById('progress').textContent === 'Item 3 of 8'`)
	if got := eval[string](t, ctx, currentItem); got != third {
		t.Fatalf("after reload: item %s, want %s", got, third)
	}
	// A half-typed rating is not submitted by Enter.
	run(t, ctx, "incomplete", chromedp.KeyEvent("4"), chromedp.KeyEvent("\r"))
	if n := count(t, sdb, `SELECT COUNT(*) FROM ratings`); n != 2 {
		t.Fatalf("%d ratings after an incomplete Enter, want 2", n)
	}
	// ? shows the help.
	run(t, ctx, "help", chromedp.KeyEvent("?"))
	if hidden := eval[bool](t, ctx, `document.getElementById('help').hidden`); hidden {
		t.Error("? did not open the help")
	}
}

func TestBrowserPairwiseKeyboard(t *testing.T) {
	dir := makeRun(t, runSpec{models: secretModels, samples: 3})
	db := filepath.Join(t.TempDir(), "r.sqlite")
	ts := startServer(t, Options{Dir: dir, DB: db, Mode: Pairwise})
	ctx := newBrowser(t)
	run(t, ctx, "open the link", chromedp.Navigate(ts.base+"/r/"+ts.token(t, "rater-1")), chromedp.WaitVisible(chromedp.CSS("#choices")))
	for i, key := range []string{"a", "b", "t"} {
		run(t, ctx, "choose", chromedp.KeyEvent(key), chromedp.KeyEvent("\r"))
		if i < 2 {
			waitFor(t, ctx, fmt.Sprintf(`document.getElementById('progress').textContent === 'Item %d of 3'`, i+2))
		}
	}
	waitFor(t, ctx, `!document.getElementById('done').hidden`)
	sdb := openDB(t, db)
	if n := count(t, sdb, `SELECT COUNT(*) FROM ratings WHERE winner = 'tie'`); n != 1 {
		t.Errorf("%d ties, want 1", n)
	}
	if n := count(t, sdb, `SELECT COUNT(*) FROM ratings WHERE winner = shown_first`); n != 1 {
		t.Errorf("%d ratings for the answer shown first, want 1 (key a)", n)
	}
}

func TestBrowserShowsMarkupInModelOutputAsText(t *testing.T) {
	payloads := []string{
		`<script>window.__pwned=1</script>`,
		`<img src=x onerror="window.__pwned=2">`,
		`</div><svg onload="window.__pwned=3"></svg><a href="javascript:window.__pwned=4">x</a>`,
	}
	dir := makeRun(t, runSpec{models: secretModels, samples: 1,
		response: func(m string, s, ep int) string { return strings.Join(payloads, "\n") }})
	ts := startServer(t, Options{Dir: dir, Mode: Pairwise})
	ctx := newBrowser(t)
	run(t, ctx, "open the link", chromedp.Navigate(ts.base+"/r/"+ts.token(t, "rater-1")), chromedp.WaitVisible(chromedp.CSS("#responses")),
		chromedp.Sleep(300*time.Millisecond))
	text := eval[string](t, ctx, `document.getElementById('responses').textContent`)
	for _, p := range payloads {
		if !strings.Contains(text, p) {
			t.Errorf("the page does not show %q as text", p)
		}
	}
	if pwned := eval[bool](t, ctx, `window.__pwned !== undefined`); pwned {
		t.Fatal("script in a model output ran")
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('main img, main svg, main a, main script').length`); n != 0 {
		t.Fatalf("%d elements from model output in the page", n)
	}
}

// screenshotDir is where the phone-sized screenshots go
// (MORES_SCREENSHOTS, default a temporary folder).
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("MORES_SCREENSHOTS"); d != "" {
		os.MkdirAll(d, 0o755)
		return d
	}
	return t.TempDir()
}

func TestBrowserFitsAPhoneScreen(t *testing.T) {
	long := "I would not take it without asking. " + strings.Repeat("Borrowing is fine when the owner agrees; otherwise ask first. ", 6) +
		"https://example.org/an/unbroken/very/long/address/that/must/wrap/instead/of/widening/the/page/0123456789"
	for _, mode := range []Mode{Single, Pairwise} {
		t.Run(string(mode), func(t *testing.T) {
			dir := makeRun(t, runSpec{models: secretModels, samples: 3, response: func(string, int, int) string { return long }})
			ts := startServer(t, Options{Dir: dir, Mode: mode})
			ctx := newBrowser(t)
			run(t, ctx, "open on a 375 px screen", chromedp.EmulateViewport(375, 812, chromedp.EmulateScale(2)),
				chromedp.Navigate(ts.base+"/r/"+ts.token(t, "rater-1")), chromedp.WaitVisible(chromedp.CSS("#item")))
			if mode == Single {
				run(t, ctx, "pick", chromedp.KeyEvent("6"), chromedp.KeyEvent("2"))
			} else {
				run(t, ctx, "pick", chromedp.KeyEvent("b"))
			}
			if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 375 {
				t.Errorf("the page is %d px wide on a 375 px screen", w)
			}
			if mode == Single {
				// The seven points of each scale sit on one row, each at least 40 px wide.
				rows := eval[[]int](t, ctx, `Array.from(document.querySelectorAll('.points')).map(r => new Set(Array.from(r.children).map(b => b.offsetTop)).size)`)
				if fmt.Sprint(rows) != "[1 1]" {
					t.Errorf("rows of points per scale: %v, want [1 1]", rows)
				}
				if minW := eval[int](t, ctx, `Math.min(...Array.from(document.querySelectorAll('.point')).map(b => b.offsetWidth))`); minW < 40 {
					t.Errorf("narrowest point button %d px, want ≥ 40 (a finger's width)", minW)
				}
			} else {
				// The two answers are stacked, not side by side.
				tops := eval[[]int](t, ctx, `Array.from(document.querySelectorAll('.response')).map(r => r.offsetTop)`)
				if len(tops) != 2 || tops[0] == tops[1] {
					t.Errorf("answer tops %v, want two stacked answers", tops)
				}
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(screenshotDir(t), "serve-375-"+string(mode)+".png")
			if err := os.WriteFile(p, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", p)
		})
	}
}
