package human

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mores-eval/mores/bench"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// schemaVersion is the version of the SQLite schema, recorded in the meta
// table.
const schemaVersion = "1"

const schema = `
CREATE TABLE IF NOT EXISTS meta(
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS raters(
	id         TEXT PRIMARY KEY,
	token_hash BLOB NOT NULL UNIQUE,
	token      TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items(
	id         TEXT PRIMARY KEY,
	seq        INTEGER NOT NULL,
	mode       TEXT NOT NULL CHECK(mode IN ('single', 'pairwise')),
	suite      TEXT NOT NULL,
	sample_id  TEXT NOT NULL,
	attack     TEXT NOT NULL,
	epoch      INTEGER NOT NULL,
	model_a    TEXT NOT NULL,
	model_b    TEXT NOT NULL DEFAULT '',
	prompt     TEXT NOT NULL,
	response_a TEXT NOT NULL,
	response_b TEXT NOT NULL DEFAULT '',
	UNIQUE(mode, suite, sample_id, attack, epoch, model_a, model_b)
);
CREATE TABLE IF NOT EXISTS ratings(
	id          INTEGER PRIMARY KEY,
	rater       TEXT NOT NULL REFERENCES raters(id),
	item        TEXT NOT NULL REFERENCES items(id),
	alignment   INTEGER CHECK(alignment BETWEEN 1 AND 7),
	engagement  INTEGER CHECK(engagement BETWEEN 1 AND 7),
	winner      TEXT,
	shown_first TEXT NOT NULL DEFAULT '',
	comment     TEXT NOT NULL DEFAULT '',
	created_at  TEXT NOT NULL,
	UNIQUE(rater, item)
);
`

// store is the SQLite database of a human-judging session: the raters and
// their token hashes, the items, and the ratings. It runs in WAL mode with
// synchronous=FULL, so a rating whose transaction committed survives the
// process being killed (and a power cut).
type store struct {
	db   *sql.DB
	path string
}

// openStore opens (creating if needed) the database at path, with file
// permissions 0600: it holds the raters' tokens.
func openStore(path string) (*store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, err
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// SQLite has one writer at a time; a small pool keeps readers going
	// while busy_timeout queues writers.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	st := &store{db: db, path: path}
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("%s: cannot switch to WAL mode (journal_mode %q): %v", path, mode, err)
	}
	return st, nil
}

func (st *store) close() error { return st.db.Close() }

// meta returns the value of a meta key ("" if unset).
func (st *store) meta(key string) (string, error) {
	var v string
	err := st.db.QueryRow(`SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// initMeta binds the database to a run and returns the server secret (for
// CSRF tokens and the per-rater order of pairwise responses), creating it on
// first use.
// setMeta records a value of the meta table, replacing any earlier one.
func (st *store) setMeta(key, value string) error {
	_, err := st.db.Exec(`INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

func (st *store) initMeta(runID string) (secret []byte, err error) {
	have, err := st.meta("run_id")
	if err != nil {
		return nil, err
	}
	if have != "" && have != runID {
		return nil, &bench.InputError{File: st.path, Msg: fmt.Sprintf("the database belongs to run %q, not %q (use another --db)", have, runID)}
	}
	if v, err := st.meta("schema_version"); err != nil {
		return nil, err
	} else if v != "" && v != schemaVersion {
		return nil, &bench.InputError{File: st.path, Msg: fmt.Sprintf("schema version %s, this mores reads %s", v, schemaVersion)}
	}
	hexSecret, err := st.meta("secret")
	if err != nil {
		return nil, err
	}
	if hexSecret == "" {
		b := make([]byte, 32)
		rand.Read(b)
		hexSecret = hex.EncodeToString(b)
	}
	_, err = st.db.Exec(`INSERT INTO meta(key, value) VALUES ('run_id', ?), ('schema_version', ?), ('secret', ?)
		ON CONFLICT(key) DO NOTHING`, runID, schemaVersion, hexSecret)
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(hexSecret)
}

// newToken returns a fresh rater token: 256 bits from crypto/rand, base64url.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is the SHA-256 of a token, which is what requests are checked
// against.
func hashToken(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// rater is a rater's row.
type raterRow struct {
	id    string
	token string
	hash  [32]byte
}

// ensureRaters makes sure every id has a token, creating tokens for new
// raters and replacing those of the ids in reissue ("all" replaces every
// listed rater's token). It returns the rows in the order of ids.
func (st *store) ensureRaters(ids []string, reissue map[string]bool) ([]raterRow, error) {
	tx, err := st.db.Begin()
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := time.Now().UTC().Format(time.RFC3339)
	rows := make([]raterRow, 0, len(ids))
	for _, id := range ids {
		var token string
		err := tx.QueryRow(`SELECT token FROM raters WHERE id = ?`, id).Scan(&token)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			token = newToken()
			h := hashToken(token)
			if _, err := tx.Exec(`INSERT INTO raters(id, token_hash, token, created_at) VALUES (?, ?, ?, ?)`, id, h[:], token, now); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		case reissue[id] || reissue["all"]:
			token = newToken()
			h := hashToken(token)
			if _, err := tx.Exec(`UPDATE raters SET token_hash = ?, token = ? WHERE id = ?`, h[:], token, id); err != nil {
				return nil, err
			}
		}
		rows = append(rows, raterRow{id: id, token: token, hash: hashToken(token)})
	}
	return rows, tx.Commit()
}

// knownRaters returns the ids of the raters in the database, in the order
// they were created.
func (st *store) knownRaters() ([]string, error) {
	rs, err := st.db.Query(`SELECT id FROM raters ORDER BY rowid`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var ids []string
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rs.Err()
}

// itemKey identifies an item by content: mode, trial and model(s).
type itemKey struct {
	mode                    Mode
	suite, sampleID, attack string
	epoch                   int
	modelA, modelB          string
}

// itemText is what a rater sees of an item.
type itemText struct {
	prompt    string
	responseA string
	responseB string
}

// newItem is an item to add.
type newItem struct {
	key  itemKey
	text itemText
}

// syncItems adds the items not yet in the database (keeping the ids of
// those that are, so that ratings and pending assignments stay valid
// across restarts) and returns the ids and keys of all items of the mode,
// in order of first addition.
func (st *store) syncItems(ctx context.Context, mode Mode, items []newItem) ([]string, []itemKey, error) {
	existing := map[itemKey]bool{}
	rs, err := st.db.QueryContext(ctx, `SELECT suite, sample_id, attack, epoch, model_a, model_b FROM items WHERE mode = ?`, string(mode))
	if err != nil {
		return nil, nil, err
	}
	for rs.Next() {
		k := itemKey{mode: mode}
		if err := rs.Scan(&k.suite, &k.sampleID, &k.attack, &k.epoch, &k.modelA, &k.modelB); err != nil {
			rs.Close()
			return nil, nil, err
		}
		existing[k] = true
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, nil, err
	}
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	var seq int64
	if err := tx.QueryRow(`SELECT COALESCE(MAX(seq), 0) FROM items`).Scan(&seq); err != nil {
		return nil, nil, err
	}
	ins, err := tx.Prepare(`INSERT INTO items(id, seq, mode, suite, sample_id, attack, epoch, model_a, model_b, prompt, response_a, response_b)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, nil, err
	}
	defer ins.Close()
	for _, it := range items {
		if existing[it.key] {
			continue
		}
		existing[it.key] = true
		seq++
		k := it.key
		if _, err := ins.Exec(newItemID(), seq, string(k.mode), k.suite, k.sampleID, k.attack, k.epoch, k.modelA, k.modelB,
			it.text.prompt, it.text.responseA, it.text.responseB); err != nil {
			return nil, nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, err
	}
	rs, err = st.db.QueryContext(ctx, `SELECT id, suite, sample_id, attack, epoch, model_a, model_b FROM items WHERE mode = ? ORDER BY seq`, string(mode))
	if err != nil {
		return nil, nil, err
	}
	defer rs.Close()
	var ids []string
	var keys []itemKey
	for rs.Next() {
		var id string
		k := itemKey{mode: mode}
		if err := rs.Scan(&id, &k.suite, &k.sampleID, &k.attack, &k.epoch, &k.modelA, &k.modelB); err != nil {
			return nil, nil, err
		}
		ids = append(ids, id)
		keys = append(keys, k)
	}
	return ids, keys, rs.Err()
}

// newItemID returns an opaque item id: 96 random bits, so that ids say
// nothing about the model or the position of an item.
func newItemID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// itemText reads the text of an item.
func (st *store) itemText(ctx context.Context, id string) (itemText, error) {
	var t itemText
	err := st.db.QueryRowContext(ctx, `SELECT prompt, response_a, response_b FROM items WHERE id = ?`, id).
		Scan(&t.prompt, &t.responseA, &t.responseB)
	return t, err
}

// ratedBy returns the ids of the items a rater has rated.
func (st *store) ratedBy(ctx context.Context, rater string) (map[string]bool, error) {
	rs, err := st.db.QueryContext(ctx, `SELECT item FROM ratings WHERE rater = ?`, rater)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := map[string]bool{}
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rs.Err()
}

// Rating is one stored rating.
type Rating struct {
	Rater string
	Item  string
	// Alignment and Engagement are 1–7 in single mode, 0 otherwise.
	Alignment, Engagement int
	// Winner is the model that won in pairwise mode, "tie" for a tie, ""
	// in single mode.
	Winner string
	// ShownFirst is the model whose response the rater saw as A (pairwise).
	ShownFirst string
	Comment    string
	CreatedAt  time.Time
}

// errDuplicate reports a second rating of the same item by the same rater.
var errDuplicate = errors.New("this item is rated already")

// insertRating stores one rating in its own transaction. A second rating
// of the same item by the same rater is rejected with errDuplicate: the
// first rating is final, and the UNIQUE(rater, item) constraint makes
// duplicates impossible even under concurrent submissions.
func (st *store) insertRating(ctx context.Context, r Rating) error {
	var al, en, win any
	if r.Alignment != 0 {
		al, en = r.Alignment, r.Engagement
	}
	if r.Winner != "" {
		win = r.Winner
	}
	res, err := st.db.ExecContext(ctx, `INSERT INTO ratings(rater, item, alignment, engagement, winner, shown_first, comment, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(rater, item) DO NOTHING`,
		r.Rater, r.Item, al, en, win, r.ShownFirst, r.Comment, r.CreatedAt.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errDuplicate
	}
	return nil
}

// storedRating is a rating joined with its item, for export.
type storedRating struct {
	Rating
	key itemKey
}

// allRatings returns every rating with its item, in the order stored.
func (st *store) allRatings(ctx context.Context) ([]storedRating, error) {
	rs, err := st.db.QueryContext(ctx, `SELECT r.rater, r.item, COALESCE(r.alignment, 0), COALESCE(r.engagement, 0),
		COALESCE(r.winner, ''), r.shown_first, r.comment, r.created_at,
		i.mode, i.suite, i.sample_id, i.attack, i.epoch, i.model_a, i.model_b
		FROM ratings r JOIN items i ON i.id = r.item ORDER BY r.id`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []storedRating
	for rs.Next() {
		var s storedRating
		var created, mode string
		if err := rs.Scan(&s.Rater, &s.Item, &s.Alignment, &s.Engagement, &s.Winner, &s.ShownFirst, &s.Comment, &created,
			&mode, &s.key.suite, &s.key.sampleID, &s.key.attack, &s.key.epoch, &s.key.modelA, &s.key.modelB); err != nil {
			return nil, err
		}
		s.key.mode = Mode(mode)
		s.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		out = append(out, s)
	}
	return out, rs.Err()
}
