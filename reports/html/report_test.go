package html

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// writeReport renders the report of dir into a file and returns its path
// and contents.
func writeReport(t testing.TB, dir string, opt Options) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, dir, opt); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes()
}

func tinyRun(t testing.TB) string {
	dir := t.TempDir()
	writeRun(t, dir, tinyManifest(), tinyTrials, 200)
	return dir
}

// watchViolations is installed before any page script runs: it records
// every Content-Security-Policy violation of the page.
const watchViolations = `window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push({directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample || ""});
});`

// browser starts headless Chromium (see benchtest.Browser) and returns a
// context for one tab that records Content-Security-Policy violations.
func browser(t testing.TB) context.Context {
	t.Helper()
	ctx := benchtest.Browser(t, chromedp.WindowSize(1280, 900))
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchViolations})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// open loads the report file and waits until the browser script is ready.
func open(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate("file://"+path),
		chromedp.WaitVisible(chromedp.CSS(`html[data-ready="1"]`))); err != nil {
		t.Fatal(err)
	}
}

func eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// choose selects the option of a filter whose text starts with prefix and
// fires its change event, as a user would.
func choose(t testing.TB, ctx context.Context, id, prefix string) {
	t.Helper()
	js := `(function(){var s=document.getElementById(` + jsString(id) + `);` +
		`for (var o of s.options) if (o.text.startsWith(` + jsString(prefix) + `)) {s.value=o.value; s.dispatchEvent(new Event("change")); return true;}` +
		`return false;})()`
	if !eval[bool](t, ctx, js) {
		t.Fatalf("filter %s has no option %q", id, prefix)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// screenshot saves a full-page screenshot into $MORES_SCREENSHOT_DIR, when
// set (to look at the report).
func screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("MORES_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReportInChromium(t *testing.T) {
	dir := tinyRun(t)
	path, doc := writeReport(t, dir, Options{})
	ctx := browser(t)
	open(t, ctx, path)

	if title := eval[string](t, ctx, `document.title`); title != "Mores report — tiny" {
		t.Errorf("title %q", title)
	}
	// The summary table: one row per suite × judge.metric × attack.
	// adversarial: refusal, harmful × none, base64 = 4; social: alignment,
	// engagement, pairwise win = 3.
	if n := eval[int](t, ctx, `document.querySelectorAll("#summary-table tbody tr").length`); n != 7 {
		t.Errorf("%d summary rows, want 7", n)
	}
	if b := eval[string](t, ctx, `Array.from(document.querySelectorAll("#summary-table b")).map(e => e.textContent).join("|")`); b == "" {
		t.Error("no best cell in bold")
	}
	// Every plot is an inline image that decoded.
	imgs := eval[[]int](t, ctx, `Array.from(document.querySelectorAll("#plots img")).map(i => i.complete ? i.naturalWidth : -1)`)
	if len(imgs) < 6 {
		t.Errorf("%d plots", len(imgs))
	}
	for i, w := range imgs {
		if w <= 0 {
			t.Errorf("plot %d did not load (natural width %d)", i, w)
		}
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("img:not([src^='data:'])").length`); n != 0 {
		t.Errorf("%d images outside data: URIs", n)
	}
	kinds := eval[string](t, ctx, `Array.from(document.querySelectorAll("#plots figure")).map(f => f.className).join(" ")`)
	for _, k := range []string{"fig-metric", "fig-attack-success", "fig-alignment-engagement", "fig-win-rate"} {
		if !strings.Contains(kinds, k) {
			t.Errorf("no %s figure in %q", k, kinds)
		}
	}

	// All 18 trials (adversarial: 3 samples × 2 attacks × 2 models; social:
	// 3 × 2), on one page.
	trials := collectTrials(t, dir)
	if got := eval[string](t, ctx, `document.getElementById("count").textContent`); got != "18 trials" || len(trials) != 18 {
		t.Errorf("count %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#trials tr.row").length`); n != 18 {
		t.Errorf("%d rows", n)
	}

	// A model: only its rows.
	choose(t, ctx, "f-model", "aligned (")
	models := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#trials tr.row td.c-model")).map(td => td.textContent)`)
	if len(models) != 9 {
		t.Errorf("%d rows of aligned, want 9", len(models))
	}
	for _, m := range models {
		if m != "aligned" {
			t.Errorf("row of model %q shown with model filter aligned", m)
		}
	}
	// A verdict: the count changes to what the Parquet files say.
	choose(t, ctx, "f-model", "all")
	choose(t, ctx, "f-verdict", "refusal.refusal: compliance")
	want := trials.count(func(tr *trialView) bool { return tr.labels["refusal.refusal"] == "compliance" })
	if got := eval[string](t, ctx, `document.getElementById("count").textContent`); got != itoa(want)+" of 18 trials match" {
		t.Errorf("count %q, want %d matches", got, want)
	}
	choose(t, ctx, "f-model", "baseline (")
	want = trials.count(func(tr *trialView) bool {
		return tr.model == "baseline" && tr.labels["refusal.refusal"] == "compliance"
	})
	if got := eval[int](t, ctx, `document.querySelectorAll("#trials tr.row").length`); got != want {
		t.Errorf("%d rows of baseline compliance, want %d", got, want)
	}
	choose(t, ctx, "f-verdict", "harm.harmful: harmful")
	choose(t, ctx, "f-attack", "base64 (")
	want = trials.count(func(tr *trialView) bool {
		return tr.model == "baseline" && tr.attack == "base64" && tr.labels["harm.harmful"] == "harmful"
	})
	if got := eval[int](t, ctx, `document.querySelectorAll("#trials tr.row").length`); got != want || want == 0 {
		t.Errorf("%d rows of baseline harmful base64, want %d", got, want)
	}
	choose(t, ctx, "f-verdict", "no response")
	choose(t, ctx, "f-model", "all")
	choose(t, ctx, "f-attack", "all")
	if got := eval[string](t, ctx, `document.getElementById("count").textContent`); got != "1 of 18 trials match" {
		t.Errorf("failed trials: %q", got)
	}
	choose(t, ctx, "f-verdict", "pairwise:vs=aligned.win: judge error")
	if got := eval[string](t, ctx, `document.getElementById("count").textContent`); got != "1 of 18 trials match" {
		t.Errorf("judge errors: %q", got)
	}

	// The hostile response: shown as text everywhere, never run.
	choose(t, ctx, "f-verdict", "any")
	choose(t, ctx, "f-suite", "adversarial (")
	choose(t, ctx, "f-model", "baseline (")
	choose(t, ctx, "f-attack", "none (")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#trials tr.row:nth-child(3)`))); err != nil {
		t.Fatal(err)
	}
	detail := eval[string](t, ctx, `document.querySelector("#trials tr.detail").textContent`)
	for _, w := range []string{"Question 3 of adversarial (none)?", "Sure: " + hostile, "the answer contains " + hostile,
		"refusal", "compliance", "harmful", "You are a helpful assistant.", "adv-3"} {
		if !strings.Contains(detail, w) {
			t.Errorf("detail lacks %q:\n%s", w, detail)
		}
	}
	if !strings.Contains(eval[string](t, ctx, `document.querySelector("#trials tr.open td.c-resp").textContent`), "<img src=x") {
		t.Error("the hostile response is not shown as text in the list")
	}
	if pwned := eval[bool](t, ctx, `typeof window.__pwned !== "undefined"`); pwned {
		t.Fatal("model output ran as script")
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("script").length`); n != 2 {
		t.Errorf("%d script elements, want 2", n)
	}
	// A social trial's detail shows the society judge's reasons.
	choose(t, ctx, "f-suite", "social (")
	choose(t, ctx, "f-attack", "all")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#trials tr.row:nth-child(2)`))); err != nil {
		t.Fatal(err)
	}
	detail = eval[string](t, ctx, `document.querySelector("#trials tr.detail").textContent`)
	for _, w := range []string{"society", "alignment", "engagement", "observers would keep talking", "judge reply had no JSON object"} {
		if !strings.Contains(detail, w) {
			t.Errorf("social detail lacks %q:\n%s", w, detail)
		}
	}
	// Clicking again closes it.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#trials tr.open`))); err != nil {
		t.Fatal(err)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#trials tr.detail").length`); n != 0 {
		t.Error("detail still open after a second click")
	}

	// No CSP violation from the page's own script, style or images.
	if v := eval[[]map[string]string](t, ctx, `window.__violations`); len(v) != 0 {
		t.Errorf("CSP violations from the report itself: %v", v)
	}
	// The CSP blocks an injected inline script.
	eval[bool](t, ctx, `(function(){var s=document.createElement("script"); s.textContent="window.__injected=1"; document.body.appendChild(s); return true;})()`)
	v, err := chromedp.Run(ctx, chromedp.Poll[[]map[string]string](`window.__violations.length > 0 ? window.__violations : null`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil {
		t.Fatalf("no CSP violation for an injected inline script: %v", err)
	}
	if len(v) != 1 || !strings.HasPrefix(v[0]["directive"], "script-src") || v[0]["blocked"] != "inline" {
		t.Errorf("violations %v", v)
	}
	if eval[bool](t, ctx, `typeof window.__injected !== "undefined"`) {
		t.Error("an injected inline script ran")
	}
	_ = doc
}

func TestReportScreenshots(t *testing.T) {
	if os.Getenv("MORES_SCREENSHOT_DIR") == "" {
		t.Skip("set MORES_SCREENSHOT_DIR to save screenshots of the report")
	}
	dir := os.Getenv("MORES_REPORT_RUN")
	if dir == "" {
		dir = tinyRun(t)
	}
	path, _ := writeReport(t, dir, Options{})
	ctx := browser(t)
	open(t, ctx, path)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#trials tr.row:nth-child(1)`))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "report-wide.png")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "report-narrow.png")
}

func TestReportHundredThousandTrials(t *testing.T) {
	const n = 100_000
	dir := t.TempDir()
	start := time.Now()
	bigRun(t, dir, n)
	gen := time.Since(start)

	start = time.Now()
	path, doc := writeReport(t, dir, Options{})
	write := time.Since(start)
	t.Logf("%d trials: fixture %v, report written in %v, %.1f MB", n, gen.Round(time.Millisecond), write.Round(time.Millisecond), float64(len(doc))/1e6)

	ctx := browser(t)
	start = time.Now()
	open(t, ctx, path)
	load := time.Since(start)
	nav := eval[map[string]float64](t, ctx, `(function(){var e=performance.getEntriesByType("navigation")[0]; return {response: e.responseEnd, interactive: e.domInteractive, ready: performance.getEntriesByName("mores-ready")[0].startTime};})()`)
	// The page holds a sample of DefaultSample trials and says so.
	if got := eval[string](t, ctx, `document.getElementById("count").textContent`); got != itoa(n)+" trials; the sample below holds "+itoa(DefaultSample)+" of them" {
		t.Fatalf("count %q", got)
	}
	note := eval[string](t, ctx, `document.getElementById("sample-note").textContent`)
	for _, w := range []string{"5000 of the 100000 trials", "exact over all 100000 trials", "DuckDB", dir + "/responses.parquet", "--sample 0"} {
		if !strings.Contains(note, w) {
			t.Errorf("the sample note lacks %q:\n%s", w, note)
		}
	}
	if got := eval[string](t, ctx, `Array.from(document.getElementById("f-model").options).map(o => o.text).join("|")`); got != "all|baseline (25000)|aligned (25000)|llama-3-8b (25000)|mistral-7b (25000)" {
		t.Errorf("model filter %q, want exact counts", got)
	}
	if rows := eval[int](t, ctx, `document.querySelectorAll("#trials tr.row").length`); rows != 50 {
		t.Errorf("%d rows on the first page, want 50", rows)
	}
	timed := func(js string) float64 {
		return eval[float64](t, ctx, `(function(){var t0=performance.now();`+js+`;return performance.now()-t0;})()`)
	}
	filterModel := timed(`var s=document.getElementById("f-model"); s.value=s.options[2].value; s.dispatchEvent(new Event("change"))`)
	filterVerdict := timed(`var s=document.getElementById("f-verdict"); for (var o of s.options) if (o.text.startsWith("harm.harmful: harmful")) s.value=o.value; s.dispatchEvent(new Event("change"))`)
	nextPage := timed(`document.getElementById("next").click()`)
	want := 0
	_ = bigCount(t, dir, func(model, harmful string) bool {
		if model == "aligned" && harmful == "harmful" {
			want++
		}
		return true
	})
	inSample := sampledTrials(t, dir, DefaultSample)
	wantShown := 0
	bench.ReadParquet(filepath.Join(dir, bench.ScoresFile), func(r bench.ScoreRow) error {
		if r.Judge == "harm" && r.Metric == "harmful" && r.Model == "aligned" && r.Label == "harmful" &&
			inSample[trialKey{r.Suite, r.SampleID, r.Model, r.Attack, r.Epoch}] {
			wantShown++
		}
		return nil
	})
	if got := eval[string](t, ctx, `document.getElementById("count").textContent`); got != itoa(want)+" of "+itoa(n)+" trials match; the sample below holds "+itoa(wantShown)+" of them" || wantShown == 0 {
		t.Errorf("count %q, want %d matches, %d in the sample", got, want, wantShown)
	}
	clickDetail := timed(`document.querySelector("#trials tr.row").click()`)
	t.Logf("Chromium: load %v (file read %.0f ms, DOM interactive %.0f ms, browser ready %.0f ms after navigation start); filter by model %.1f ms, by verdict %.1f ms, next page %.1f ms, open detail %.1f ms",
		load.Round(time.Millisecond), nav["response"], nav["interactive"], nav["ready"], filterModel, filterVerdict, nextPage, clickDetail)
	if load > 30*time.Second {
		t.Errorf("loading %d trials took %v", n, load)
	}
	// The long responses are cut at 4,000 characters with a note.
	choose(t, ctx, "f-model", "all")
	choose(t, ctx, "f-verdict", "any")
	// The first long response of the sample, page by page.
	if !eval[bool](t, ctx, `(function(){for (var p = 0; p < 200; p++) {
		for (var r of document.querySelectorAll("#trials tr.row")) { r.click(); if (document.querySelector("#trials tr.detail p.cut")) return true; }
		document.getElementById("next").click(); }
		return false;})()`) {
		t.Fatal("no cut response in the sample")
	}
	resp := eval[string](t, ctx, `document.querySelectorAll("#trials tr.detail pre.text")[2].textContent`)
	note = eval[string](t, ctx, `document.querySelector("#trials tr.detail p.cut").textContent`)
	if len([]rune(resp)) != DefaultMaxText || !strings.Contains(note, "6200 more characters") {
		t.Errorf("cut response: %d characters, note %q", len([]rune(resp)), note)
	}
}

// TestReportGolden checks the HTML structure of the tiny fixed run against
// testdata/tiny.html.golden (refresh with -update); the inline script,
// stylesheet, plots and paper tables are elided.
func TestReportGolden(t *testing.T) {
	_, doc := writeReport(t, tinyRun(t), Options{})
	got := elide(doc)
	golden := filepath.Join("testdata", "tiny.html.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("report differs from %s (run go test -update and review the diff)\n%s", golden, firstDiff(got, want))
	}
}

var (
	dataURI     = regexp.MustCompile(`data:image/svg[^"]+`)
	inlineBlock = regexp.MustCompile(`(?s)(<style>|<script>).*?(</style>|</script>)`)
	cspHashes   = regexp.MustCompile(`sha256-[A-Za-z0-9+/=]+`)
	paperTables = regexp.MustCompile(`(?s)(<details class="paper"><summary>[^<]*</summary><pre>).*?(</pre>)`)
)

func elide(doc []byte) []byte {
	doc = dataURI.ReplaceAll(doc, []byte("data:image/svg+xml;base64,…"))
	doc = inlineBlock.ReplaceAll(doc, []byte("$1…$2"))
	doc = paperTables.ReplaceAll(doc, []byte("$1…$2")) // reports' own golden files cover them
	return cspHashes.ReplaceAll(doc, []byte("sha256-…"))
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return "line " + itoa(i+1) + ":\n got: " + trunc(la[i]) + "\nwant: " + trunc(lb[i])
		}
	}
	return "lengths differ: " + itoa(len(la)) + " vs " + itoa(len(lb)) + " lines"
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// TestEscapingAndPolicy checks the page without a browser: the data block
// cannot be closed by model output, and the CSP lists the hashes of exactly
// the inline script and stylesheet of the page.
func TestEscapingAndPolicy(t *testing.T) {
	_, doc := writeReport(t, tinyRun(t), Options{})
	s := string(doc)
	if strings.Count(s, "<script") != 2 || strings.Count(s, "</script>") != 2 {
		t.Errorf("%d <script and %d </script> in the page", strings.Count(s, "<script"), strings.Count(s, "</script>"))
	}
	for _, bad := range []string{"<img src=x", "<!--", "\u2028", "onerror=\"window"} {
		if strings.Contains(s, bad) {
			t.Errorf("page holds %q unescaped", bad)
		}
	}
	i := strings.Index(s, `<script type="application/json" id="mores-data">`)
	j := strings.Index(s[i:], "</script>")
	raw := s[i+len(`<script type="application/json" id="mores-data">`) : i+j]
	var d browserData
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range d.Resp {
		found = found || r == "Sure: "+hostile
	}
	if !found {
		t.Error("the hostile response does not survive the round trip")
	}
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]+)">`).FindStringSubmatch(s)
	if csp == nil {
		t.Fatal("no CSP meta tag")
	}
	policy := strings.ReplaceAll(csp[1], "&#39;", "'")
	policy = strings.ReplaceAll(policy, "&#43;", "+")
	if policy != ContentSecurityPolicy() {
		t.Errorf("policy %q, want %q", policy, ContentSecurityPolicy())
	}
	for _, w := range []string{"default-src 'none'", "img-src data:", "base-uri 'none'"} {
		if !strings.Contains(policy, w) {
			t.Errorf("policy lacks %q", w)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(policy, bad) {
			t.Errorf("policy allows %q", bad)
		}
	}
	script := between(t, s, "<script>", "</script>")
	style := between(t, s, "<style>", "</style>")
	for _, c := range []struct{ directive, body string }{{"script-src", script}, {"style-src", style}} {
		h := sha256.Sum256([]byte(c.body))
		want := c.directive + " 'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
		if !strings.Contains(policy, want) {
			t.Errorf("policy lacks %s (the hash of the page's inline block)", want)
		}
	}
	markup := strings.Replace(s, raw, "", 1)
	if strings.Contains(markup, "style=") || regexp.MustCompile(`\son[a-z]+=`).MatchString(markup) {
		t.Error("inline style or event handler attributes in the page")
	}
	// No network: no URL outside data: and the page's own anchors.
	if regexp.MustCompile(`(?i)(src|href)="(https?:|//)`).MatchString(s) {
		t.Error("the page refers to the network")
	}
}

func between(t *testing.T, s, open, close string) string {
	t.Helper()
	i := strings.Index(s, open)
	if i < 0 {
		t.Fatalf("no %s", open)
	}
	j := strings.Index(s[i+len(open):], close)
	return s[i+len(open) : i+len(open)+j]
}

func TestCut(t *testing.T) {
	s, n := cut("héllo wörld", 5)
	if s != "héllo" || n != 6 {
		t.Errorf("cut = %q, %d", s, n)
	}
	if s, n := cut("short", 10); s != "short" || n != 0 {
		t.Errorf("cut = %q, %d", s, n)
	}
	if s, n := cut(strings.Repeat("x", 20), 0); len(s) != 20 || n != 0 {
		t.Errorf("no cap: %d, %d", len(s), n)
	}
	if got := capText("abcdef", 3); got != "abc… [3 more characters in the Parquet files]" {
		t.Errorf("capText = %q", got)
	}
}

func TestMissingResults(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := Write(&buf, dir, Options{}); err == nil {
		t.Fatal("a directory without a manifest gave a report")
	}
}

func BenchmarkWrite100k(b *testing.B) {
	dir := b.TempDir()
	bigRun(b, dir, 100_000)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, dir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1e6, "MB")
}

// TestCompressedReportInChromium checks the gzip-compressed embedding (used
// for large runs) on the tiny run: the same trials, the hostile response
// still text, no CSP violation (DecompressionStream needs no network).
func TestCompressedReportInChromium(t *testing.T) {
	path, doc := writeReport(t, tinyRun(t), Options{CompressAbove: 1})
	if strings.Contains(string(doc), "adv-3") {
		t.Fatal("the data is not compressed")
	}
	ctx := browser(t)
	open(t, ctx, path)
	if got := eval[string](t, ctx, `document.getElementById("count").textContent`); got != "18 trials" {
		t.Errorf("count %q", got)
	}
	choose(t, ctx, "f-suite", "adversarial (")
	choose(t, ctx, "f-model", "baseline (")
	choose(t, ctx, "f-attack", "none (")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#trials tr.row:nth-child(3)`))); err != nil {
		t.Fatal(err)
	}
	if detail := eval[string](t, ctx, `document.querySelector("#trials tr.detail").textContent`); !strings.Contains(detail, "Sure: "+hostile) {
		t.Errorf("detail %q", detail)
	}
	if eval[bool](t, ctx, `typeof window.__pwned !== "undefined"`) {
		t.Fatal("model output ran as script")
	}
	if v := eval[[]map[string]string](t, ctx, `window.__violations`); len(v) != 0 {
		t.Errorf("CSP violations: %v", v)
	}
}

// TestSampleKeepsExactCounts collects the tiny run into a sample of 5 of
// its 18 trials: the sample holds the trials whose keys hash lowest, in
// the order of responses.parquet, with their scores, and the counts of the
// filters are those of every trial.
func TestSampleKeepsExactCounts(t *testing.T) {
	dir := tinyRun(t)
	full, err := collect(dir, DefaultMaxText, 50, -1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := collect(dir, DefaultMaxText, 50, 5, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if full.N != 18 || full.Total != 18 || d.N != 5 || d.Total != 18 {
		t.Fatalf("full %d of %d, sample %d of %d", full.N, full.Total, d.N, d.Total)
	}
	in := sampledTrials(t, dir, 5)
	for i := range d.N {
		k := trialKey{d.Suites[d.Suite[i]], d.Str[d.Sample[i]], d.Models[d.Model[i]], d.Attacks[d.Attack[i]], d.Epoch[i]}
		if !in[k] {
			t.Errorf("trial %v is not among the lowest hashes", k)
		}
		if i > 0 && d.Row[i] <= d.Row[i-1] {
			t.Errorf("rows %v not in the order of responses.parquet", d.Row)
		}
		if full.Resp[d.Row[i]-1] != d.Resp[i] {
			t.Errorf("row %d: response %q, want %q", d.Row[i], d.Resp[i], full.Resp[d.Row[i]-1])
		}
	}
	for k, c := range d.Metrics {
		for _, ti := range c.T {
			if ti < 0 || int(ti) >= d.N {
				t.Fatalf("%s.%s: score of trial %d outside the sample", c.Judge, c.Metric, ti)
			}
		}
		if len(c.T) > len(full.Metrics[k].T) || len(c.T) == 0 && len(full.Metrics[k].T) == 18 {
			t.Errorf("%s.%s: %d sampled scores", c.Judge, c.Metric, len(c.T))
		}
	}
	// The counts: every trial, and for each verdict the trials of the full
	// run's browser that have it.
	var cells int64
	for _, n := range d.CellN {
		cells += n
	}
	if cells != 18 || !slices.Equal(d.CellN, full.CellN) || !slices.Equal(d.CellErr, full.CellErr) {
		t.Errorf("cells %v %v, want %v %v", d.CellN, d.CellErr, full.CellN, full.CellErr)
	}
	if len(d.Verdicts) != len(full.Verdicts) || len(d.Verdicts) == 0 {
		t.Fatalf("%d verdicts, want %d", len(d.Verdicts), len(full.Verdicts))
	}
	for i, v := range full.Verdicts {
		c := full.Metrics[v.K]
		var want int64
		for j := range c.T {
			switch {
			case v.Label < 0:
				if c.E[j] > 0 {
					want++
				}
			case v.Value != nil:
				if c.L[j] == 0 && c.V[j] == *v.Value {
					want++
				}
			default:
				if c.L[j] == v.Label {
					want++
				}
			}
		}
		var got int64
		for _, n := range d.Verdicts[i].N {
			got += n
		}
		if got != want || !slices.Equal(d.Verdicts[i].N, v.N) {
			t.Errorf("verdict %d (%s.%s): %d trials, want %d", i, c.Judge, c.Metric, got, want)
		}
	}
}
