package human

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserShowsAVeryLongWord opens an item whose response is one
// 300,000-character word (a degenerate model output: a repetition loop, a
// base64 blob). With kerning on, Chromium re-shapes the rest of the word at
// every line break of overflow-wrap: anywhere, which took minutes and froze
// the rater's tab; the item must show within the usual time limit.
func TestBrowserShowsAVeryLongWord(t *testing.T) {
	word := strings.Repeat("A", 300_000)
	dir := makeRun(t, runSpec{models: []string{"m"}, samples: 1,
		response: func(string, int, int) string { return word }})
	ts := startServer(t, Options{Dir: dir, DB: filepath.Join(t.TempDir(), "r.sqlite")})
	ctx := newBrowser(t)
	run(t, ctx, "open the link", chromedp.EmulateViewport(375, 800), chromedp.Navigate(ts.base+"/r/"+ts.token(t, "rater-1")),
		chromedp.WaitVisible(chromedp.CSS("#item")))
	if n := eval[int](t, ctx, `document.querySelector('#responses .text').textContent.length`); n != len(word) {
		t.Errorf("the response shows %d characters, want %d", n, len(word))
	}
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("the page is %d px wide on a 375 px screen", w)
	}
}
