// Package html renders a run directory as one self-contained HTML report,
// the file a reviewer opens offline.
//
// Write reads the manifest, the summary (summary.parquet, or computed from
// scores.parquet), the figures of reports/plot (inlined as SVG data: URIs),
// and streams responses.parquet and scores.parquet into the data of a
// per-sample browser. The browser's data is columnar: suites, models,
// attacks and every repeated string (sample ids, prompts, labels, judges'
// reasons) are sent once and trials refer to them by index, so filtering
// 100,000 trials compares integers; the list is paginated (50 rows a page)
// and a trial's details are built only when its row is clicked. Texts
// longer than Options.MaxText (4,000 characters by default) are cut with a
// note; the Parquet files keep them whole.
//
// Model output is untrusted. The page is produced with html/template; the
// data travels as JSON inside <script type="application/json"> (escaped
// by encoding/json, so "</script>", "<!--" and U+2028 cannot break out) and
// is rendered with textContent only. A Content-Security-Policy meta tag
// allows nothing but the page's own inline script and stylesheet (by their
// SHA-256 hashes) and data: images; no network access, no eval.
package html
