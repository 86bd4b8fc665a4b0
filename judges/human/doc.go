// Package human collects ratings from people: the web server behind
// `mores serve`, its SQLite store, and the export of the ratings into a run
// directory's scores.
//
// The path of a human rating:
//
//  1. Open reads a run directory's responses.parquet and turns it into
//     items: in single mode one per trial that has a response (failed trials
//     are skipped), in pairwise mode one per pair of models that answered
//     the same suite, sample, attack and epoch. Items get random opaque ids
//     and are stored in the SQLite database (default RUN_DIR/human.sqlite,
//     file mode 0600, WAL journal, synchronous=FULL), so ids stay the same
//     across restarts.
//  2. Each rater gets a secret token (256 bits from crypto/rand). The
//     database keeps its SHA-256, against which requests are checked in
//     constant time, and the token itself, so that a restarted server can
//     print the same links again: the database file is as secret as the
//     links. Options.Reissue replaces tokens whose links leaked.
//  3. Items are assigned deterministically: with overlap K, item p goes to
//     raters (p·K + j) mod R, j < K, so that K raters rate each item and
//     agreement can be measured. Each rater sees their items in their own
//     order (a shuffle seeded by the run seed and the rater id) and resumes
//     at their next unrated item.
//  4. The browser never receives a model name: an item is an opaque id, a
//     prompt and one or two response texts. In pairwise mode the two
//     responses are shown in an order fixed per rater and item (an HMAC
//     under a server secret); the server maps the rater's A, B or tie back
//     to the model that won.
//  5. Each rating is one SQLite transaction. UNIQUE(rater, item) makes a
//     duplicate impossible: a second rating of the same item by the same
//     rater is rejected (409) and the first stays; ratings are final.
//  6. Export appends the ratings to the run's journal as bench.EntryScores
//     entries with judge "human" and the rater's id, then rewrites
//     responses.parquet, scores.parquet and summary.parquet. Because ratings
//     are final, Export is idempotent: a rating already in the journal is
//     not appended again, and every later `mores judge` or `mores merge`,
//     which rebuild scores.parquet from the journal, keeps the human scores.
//
// Security: the link /r/TOKEN sets an HttpOnly, SameSite=Strict cookie and
// the page's script replaces the address with /, so the token leaves the
// address bar and the history; every response has a strict
// Content-Security-Policy (default-src 'none', scripts and styles only from
// the server's own files, no inline code), X-Frame-Options DENY,
// X-Content-Type-Options nosniff and Referrer-Policy no-referrer. Writes
// need a CSRF token bound to the rater (an HMAC under the server secret)
// in the X-CSRF-Token header, a JSON body of at most 16 KiB, and an Origin
// of the server itself (or Sec-Fetch-Site: same-origin). Requests are rate
// limited per rater and per IP address, and the server has read, write and
// idle timeouts. Model output is untrusted: it reaches the page as JSON and
// is shown with textContent, so markup in it is text.
package human
