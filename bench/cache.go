package bench

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver
)

// Cache stores completions by a hash of the model's cache key and the
// request, in SQLite, so that an identical rerun sends no request.
//
// Both directions are batched, because a query costs far more than the
// row it finds: writes are gathered by one goroutine into multi-row
// INSERTs, one transaction at a time; lookups made at the same moment by
// concurrent trials are gathered by a few reader goroutines into one
// SELECT … WHERE key IN (…) each, waiting at most readGather for lookups
// to gather.
type Cache struct {
	db     *sql.DB
	gets   [len(readBatchSizes)]*sql.Stmt
	reads  chan *cacheRead
	writes chan cacheWrite
	done   chan struct{}
	rdone  sync.WaitGroup
	mu     sync.Mutex
	err    error
}

// readBatchSizes are the sizes of the prepared lookup statements; a batch
// is padded with empty keys (which match nothing) up to the next size.
var readBatchSizes = [...]int{1, 4, 16, 64}

// cacheReaders is the number of goroutines (and connections) serving
// lookups.
const cacheReaders = 2

// readGather is how long a reader waits for more lookups to join the first
// one before it queries. A query costs tens of microseconds however few
// keys it has, so at thousands of trials a second gathering for a moment
// saves most of that; a model answers in far more than this.
const readGather = 250 * time.Microsecond

// cacheRead is one lookup waiting for a reader.
type cacheRead struct {
	key  string
	val  []byte
	ok   bool
	done chan struct{}
}

var readPool = sync.Pool{New: func() any { return &cacheRead{done: make(chan struct{}, 1)} }}

type cacheWrite struct {
	key string
	val []byte
}

// The cache's schema. Completions are appended to a rowid table, in the
// order they arrive, and found through an index on the first 16 hex digits
// of their key (64 bits of the SHA-256): an insert then changes the last
// page of the table and one page of a small index, instead of a random page
// of a table clustered by key, which made every insert rewrite a page of
// the database once the cache outgrew SQLite's page cache.
const cacheSchema = `
CREATE TABLE IF NOT EXISTS completions_v2 (
	id INTEGER PRIMARY KEY,
	prefix TEXT NOT NULL,
	key TEXT NOT NULL,
	value BLOB NOT NULL,
	created INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS completions_v2_prefix ON completions_v2 (prefix);
`

// cachePrefix is the length of the indexed key prefix.
const cachePrefix = 16

// OpenCache opens (creating) the cache database in dir. A cache written by
// an earlier version (table completions, clustered by key) is moved into
// the current table once.
func OpenCache(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "responses.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"+
		"&_pragma=cache_size(-8192)&_pragma=wal_autocheckpoint(4096)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(cacheReaders + 2)
	db.SetMaxIdleConns(cacheReaders + 2)
	if _, err := db.Exec(cacheSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	migrateCache(db)
	c := &Cache{db: db, reads: make(chan *cacheRead, 1024), writes: make(chan cacheWrite, 8192), done: make(chan struct{})}
	for i, n := range readBatchSizes {
		q := `SELECT key, value FROM completions_v2 WHERE prefix IN (?` + strings.Repeat(",?", n-1) + `) ORDER BY id`
		if c.gets[i], err = db.Prepare(q); err != nil {
			db.Close()
			return nil, fmt.Errorf("cache %s: %w", path, err)
		}
	}
	go c.writer()
	for range cacheReaders {
		c.rdone.Add(1)
		go c.reader()
	}
	return c, nil
}

// migrateCache moves the rows of the first version's table into the
// current one. Two processes opening an old cache at once may both try;
// the second finds the old table gone and its transaction fails, which is
// harmless, so errors are ignored (a cache that cannot be migrated only
// misses).
func migrateCache(db *sql.DB) {
	var n int
	if db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'completions'`).Scan(&n) != nil || n == 0 {
		return
	}
	tx, err := db.Begin()
	if err != nil {
		return
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO completions_v2 (prefix, key, value, created)
		SELECT substr(key, 1, ` + fmt.Sprint(cachePrefix) + `), key, value, created FROM completions ORDER BY created`); err != nil {
		return
	}
	if _, err := tx.Exec(`DROP TABLE completions`); err != nil {
		return
	}
	tx.Commit()
}

// reader serves lookups: it takes the first waiting lookup and up to 63
// more that are waiting already, and answers them with one query.
func (c *Cache) reader() {
	defer c.rdone.Done()
	most := readBatchSizes[len(readBatchSizes)-1]
	batch := make([]*cacheRead, 0, most)
	args := make([]any, most)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for r := range c.reads {
		batch = append(batch[:0], r)
		timer.Reset(readGather)
	gather:
		for len(batch) < most {
			select {
			case r, ok := <-c.reads:
				if !ok {
					break gather
				}
				batch = append(batch, r)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		c.lookup(batch, args)
		for _, r := range batch {
			r.done <- struct{}{}
		}
	}
}

func keyPrefix(key string) string { return key[:min(len(key), cachePrefix)] }

// lookup fills in the lookups of batch with one query. Rows come in the
// order they were written, so the last one written for a key wins.
func (c *Cache) lookup(batch []*cacheRead, args []any) {
	si := 0
	for readBatchSizes[si] < len(batch) {
		si++
	}
	n := readBatchSizes[si]
	for i := range n {
		args[i] = ""
		if i < len(batch) {
			args[i] = keyPrefix(batch[i].key)
		}
	}
	rows, err := c.gets[si].Query(args[:n]...)
	if err != nil {
		return // a failed lookup is a miss
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v []byte
		if rows.Scan(&k, &v) != nil {
			return
		}
		for _, r := range batch {
			if r.key == k {
				r.val, r.ok = v, true
			}
		}
	}
}

func (c *Cache) writer() {
	defer close(c.done)
	batch := make([]cacheWrite, 0, 4096)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := c.insert(batch); err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
		}
		batch = batch[:0]
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case w, ok := <-c.writes:
			if !ok {
				flush()
				return
			}
			batch = append(batch, w)
			if len(batch) == cap(batch) {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// insertRows is the number of rows of one multi-row INSERT.
const insertRows = 64

// insert appends a batch of completions in one transaction.
func (c *Cache) insert(batch []cacheWrite) error {
	tx, err := c.db.Begin()
	if err != nil {
		return err
	}
	now := time.Now().Unix()
	args := make([]any, 0, 4*insertRows)
	for len(batch) > 0 {
		n := min(len(batch), insertRows)
		args = args[:0]
		for _, w := range batch[:n] {
			args = append(args, keyPrefix(w.key), w.key, w.val, now)
		}
		q := `INSERT INTO completions_v2 (prefix, key, value, created) VALUES (?, ?, ?, ?)` + strings.Repeat(", (?, ?, ?, ?)", n-1)
		if _, err := tx.Exec(q, args...); err != nil {
			tx.Rollback()
			return err
		}
		batch = batch[n:]
	}
	return tx.Commit()
}

// Key returns the cache key of a request to a model with the given cache
// key.
func (c *Cache) Key(modelKey string, req Request) string {
	h := sha256.New()
	h.Write([]byte(modelKey))
	h.Write([]byte{0})
	b, _ := json.Marshal(struct {
		S string    `json:"s"`
		M []Message `json:"m"`
		P GenParams `json:"p"`
		E int       `json:"e"`
	}{req.System, req.Messages, req.Params, req.Epoch})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// Get returns the cached completion for key. It is a miss when ctx ends
// first.
func (c *Cache) Get(ctx context.Context, key string) (Completion, bool) {
	r := readPool.Get().(*cacheRead)
	r.key, r.val, r.ok = key, nil, false
	select {
	case c.reads <- r:
	case <-ctx.Done():
		readPool.Put(r)
		return Completion{}, false
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return Completion{}, false // r is still the reader's; leave it to the collector
	}
	b, ok := r.val, r.ok
	r.val = nil
	readPool.Put(r)
	if !ok {
		return Completion{}, false
	}
	var comp Completion
	if err := json.Unmarshal(b, &comp); err != nil {
		return Completion{}, false
	}
	return comp, true
}

// Put stores a completion (asynchronously).
func (c *Cache) Put(key string, comp Completion) {
	comp.Cached = false
	b, err := json.Marshal(comp)
	if err != nil {
		return
	}
	c.writes <- cacheWrite{key, b}
}

// Close writes what is pending and closes the database. No Get or Put may
// be in progress or follow.
func (c *Cache) Close() error {
	close(c.writes)
	close(c.reads)
	<-c.done
	c.rdone.Wait()
	for _, st := range c.gets {
		st.Close()
	}
	err := c.db.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(c.err, err)
}

// cachedModel wraps a Model with a Cache.
type cachedModel struct {
	m     Model
	key   string
	cache *Cache
}

// WithCache returns m wrapped so that completions are looked up in and
// stored to c. Models that are not Cacheable are returned unchanged.
func WithCache(m Model, c *Cache) Model {
	cm, ok := m.(Cacheable)
	if !ok || c == nil {
		return m
	}
	return &cachedModel{m: m, key: cm.CacheKey(), cache: c}
}

func (m *cachedModel) Generate(ctx context.Context, req Request) (Completion, error) {
	k := m.cache.Key(m.key, req)
	if comp, ok := m.cache.Get(ctx, k); ok {
		comp.Cached = true
		comp.Attempts = 0
		return comp, nil
	}
	comp, err := m.m.Generate(ctx, req)
	if err == nil {
		m.cache.Put(k, comp)
	}
	return comp, err
}

// CacheKey passes the wrapped model's key through.
func (m *cachedModel) CacheKey() string { return m.key }
