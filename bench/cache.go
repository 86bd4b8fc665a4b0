package bench

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
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
// Every row records a hash of its model's cache key. When a model is first
// used, the key prefixes and row ids of its rows are read from an index
// into memory (a map of about 30 bytes a row), so that a request the cache
// does not hold, which is every request of a model not run before, costs
// no query at all, and one it holds is read by row id. A run sees the cache
// as it was when the model was first used, plus its own writes once they
// are committed: a row another process writes meanwhile is not looked for,
// which costs a request, never a wrong answer.
//
// Both directions of the database are batched, because a query costs far
// more than the row it finds: writes are gathered by one goroutine into
// multi-row INSERTs, one transaction at a time; lookups made at the same
// moment by concurrent trials are gathered by a few reader goroutines into
// one SELECT … WHERE id IN (…) each, waiting at most readGather for lookups
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
	models map[int64]*ModelCache
}

// readBatchSizes are the sizes of the prepared lookup statements; a batch
// is padded with repeats of its last id up to the next size.
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
	id   int64 // of the row
	key  string
	val  []byte
	ok   bool
	done chan struct{}
}

var readPool = sync.Pool{New: func() any { return &cacheRead{done: make(chan struct{}, 1)} }}

type cacheWrite struct {
	mc  *ModelCache
	key string
	val []byte
}

// The cache's schema. Completions are appended to a rowid table, in the
// order they arrive, with ids that grow. The only index, on (model, id,
// prefix), also grows at the end of each model's range, so an insert
// changes the last pages of the table and of one range of the index (an
// index on the random key prefix made every insert cost three times as
// much in the pure-Go SQLite), and reading it alone lists a model's rows
// when the model is first used.
const cacheSchema = `
CREATE TABLE IF NOT EXISTS completions_v3 (
	id INTEGER PRIMARY KEY,
	model INTEGER NOT NULL,
	prefix INTEGER NOT NULL,
	key BLOB NOT NULL,
	value BLOB NOT NULL,
	created INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS completions_v3_model ON completions_v3 (model, id, prefix);
`

// OpenCache opens (creating) the cache database in dir. The tables of
// earlier versions (completions, completions_v2), whose rows do not record
// their model, are dropped: a cache only saves requests.
func OpenCache(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "responses.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"+
		"&_pragma=cache_size(-8192)&_pragma=wal_autocheckpoint(4096)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(cacheReaders + 2)
	db.SetMaxIdleConns(cacheReaders + 2)
	if _, err := db.Exec(cacheSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	dropOldCacheTables(db)
	c := &Cache{db: db, reads: make(chan *cacheRead, 1024), writes: make(chan cacheWrite, 8192), done: make(chan struct{}),
		models: map[int64]*ModelCache{}}
	for i, n := range readBatchSizes {
		q := `SELECT id, key, value FROM completions_v3 WHERE id IN (?` + strings.Repeat(",?", n-1) + `)`
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

// dropOldCacheTables drops the tables of earlier versions. Errors are
// ignored: another process may be dropping them at the same moment, and
// tables left behind are only never read.
func dropOldCacheTables(db *sql.DB) {
	for _, name := range []string{"completions", "completions_v2"} {
		var n int
		if db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n) == nil && n > 0 {
			db.Exec(`DROP TABLE IF EXISTS ` + name)
		}
	}
}

// ModelCache is the part of a Cache that holds one model's completions.
type ModelCache struct {
	c     *Cache
	key   string // the model's cache key
	model int64  // its hash

	mu   sync.RWMutex
	rows map[uint64]int64 // key prefix → row id; 0 while being written
}

// Model returns the part of the cache that holds the completions of the
// model with the given cache key, reading which requests it holds the
// first time.
func (c *Cache) Model(modelKey string) *ModelCache {
	h := sha256.Sum256([]byte(modelKey))
	id := int64(binary.BigEndian.Uint64(h[:8]))
	c.mu.Lock()
	defer c.mu.Unlock()
	if mc, ok := c.models[id]; ok {
		return mc
	}
	mc := c.modelFor(modelKey)
	if err := mc.load(); err != nil {
		clear(mc.rows) // a cache that cannot be read only misses
	}
	c.models[id] = mc
	return mc
}

// modelFor returns a new, empty part of the cache for a model key.
func (c *Cache) modelFor(modelKey string) *ModelCache {
	h := sha256.Sum256([]byte(modelKey))
	return &ModelCache{c: c, key: modelKey, model: int64(binary.BigEndian.Uint64(h[:8])), rows: map[uint64]int64{}}
}

// load reads the key prefixes and row ids of the model's rows from the
// index, in the order they were written, so that the last one written for
// a key wins.
func (mc *ModelCache) load() error {
	rows, err := mc.c.db.Query(`SELECT id, prefix FROM completions_v3 WHERE model = ? ORDER BY id`, mc.model)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, p int64
		if err := rows.Scan(&id, &p); err != nil {
			return err
		}
		mc.rows[uint64(p)] = id
	}
	return rows.Err()
}

// Len returns the number of distinct requests the model's part of the
// cache may answer.
func (mc *ModelCache) Len() int {
	mc.mu.RLock()
	defer mc.mu.RUnlock()
	return len(mc.rows)
}

// Key returns the cache key of a request to the model: a SHA-256 of the
// model's cache key and the request's system prompt, messages, parameters
// and epoch, as 32 raw bytes. The fields are written length-prefixed, so
// that no two requests share an encoding; TestCacheKeyCoversEveryField
// fails when a field is added to Request or GenParams without a decision
// on whether it belongs in the key.
func (mc *ModelCache) Key(req Request) string {
	bp := keyBufPool.Get().(*[]byte)
	b := append((*bp)[:0], "mores-cache-key-v3\x00"...)
	b = appendKeyString(b, mc.key)
	b = appendKeyString(b, req.System)
	b = binary.AppendUvarint(b, uint64(len(req.Messages)))
	for _, m := range req.Messages {
		b = appendKeyString(b, m.Role)
		b = appendKeyString(b, m.Content)
	}
	p := req.Params
	b = appendKeyFloat(b, p.Temperature)
	b = appendKeyFloat(b, p.TopP)
	b = binary.AppendVarint(b, int64(p.MaxTokens))
	if p.Seed != nil {
		b = append(b, 1)
		b = binary.AppendVarint(b, int64(*p.Seed))
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(p.Stop)))
	for _, s := range p.Stop {
		b = appendKeyString(b, s)
	}
	if p.ScoreContinuation {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendVarint(b, int64(req.Epoch))
	sum := sha256.Sum256(b)
	if cap(b) <= 64<<10 {
		*bp = b
		keyBufPool.Put(bp)
	}
	return string(sum[:])
}

var keyBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendKeyString appends s, length-prefixed.
func appendKeyString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendKeyFloat appends an optional float: a presence byte, then its
// bits.
func appendKeyFloat(b []byte, f *float64) []byte {
	if f == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(*f))
}

// keyPrefix returns the first 64 bits of a key.
func keyPrefix(key string) uint64 {
	var b [8]byte
	copy(b[:], key)
	return binary.BigEndian.Uint64(b[:])
}

// Get returns the cached completion for key. A key the model's rows cannot
// hold misses at once; otherwise it is a miss when ctx ends before the
// lookup.
func (mc *ModelCache) Get(ctx context.Context, key string) (Completion, bool) {
	mc.mu.RLock()
	id := mc.rows[keyPrefix(key)]
	mc.mu.RUnlock()
	if id == 0 {
		return Completion{}, false
	}
	c := mc.c
	r := readPool.Get().(*cacheRead)
	r.id, r.key, r.val, r.ok = id, key, nil, false
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

// Put stores a completion (asynchronously; a Get of the same key finds it
// once it is written).
func (mc *ModelCache) Put(key string, comp Completion) {
	comp.Cached = false
	b, err := json.Marshal(comp)
	if err != nil {
		return
	}
	mc.mu.Lock()
	mc.rows[keyPrefix(key)] = 0 // being written
	mc.mu.Unlock()
	mc.c.writes <- cacheWrite{mc, key, b}
}

// reader serves lookups: it takes the first waiting lookup and up to 63
// more that are waiting already or come within readGather, and answers
// them with one query.
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

// lookup fills in the lookups of batch with one query by row id.
func (c *Cache) lookup(batch []*cacheRead, args []any) {
	si := 0
	for readBatchSizes[si] < len(batch) {
		si++
	}
	n := readBatchSizes[si]
	for i := range n {
		args[i] = batch[min(i, len(batch)-1)].id
	}
	rows, err := c.gets[si].Query(args[:n]...)
	if err != nil {
		return // a failed lookup is a miss
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k, v []byte
		if rows.Scan(&id, &k, &v) != nil {
			return
		}
		for _, r := range batch {
			if r.id == id && r.key == string(k) {
				r.val, r.ok = v, true
			}
		}
	}
}

func (c *Cache) writer() {
	defer close(c.done)
	batch := make([]cacheWrite, 0, 4096)
	var full *sql.Stmt // the prepared INSERT of insertRows rows
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if full == nil {
			full, _ = c.db.Prepare(insertQuery(insertRows))
		}
		if err := c.insert(batch, full); err != nil {
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

// insertQuery returns the INSERT of n rows.
func insertQuery(n int) string {
	return `INSERT INTO completions_v3 (id, model, prefix, key, value, created) VALUES (?, ?, ?, ?, ?, ?)` +
		strings.Repeat(", (?, ?, ?, ?, ?, ?)", n-1)
}

// insert appends a batch of completions in one transaction, insertRows at
// a time with full (when it could be prepared), the rest with one more
// statement, then tells each model the row ids of its new rows. The ids
// are given, following the largest one in the table: the transaction
// holds the write lock from its start (_txlock=immediate), so no other
// process takes them meanwhile.
func (c *Cache) insert(batch []cacheWrite, full *sql.Stmt) error {
	tx, err := c.db.Begin()
	if err != nil {
		return err
	}
	var last int64
	if err := tx.QueryRow(`SELECT coalesce(max(id), 0) FROM completions_v3`).Scan(&last); err != nil {
		tx.Rollback()
		return err
	}
	now := time.Now().Unix()
	args := make([]any, 0, 6*insertRows)
	for rest := batch; len(rest) > 0; {
		n := min(len(rest), insertRows)
		args = args[:0]
		for i, w := range rest[:n] {
			args = append(args, last+int64(i)+1, w.mc.model, int64(keyPrefix(w.key)), []byte(w.key), w.val, now)
		}
		if n == insertRows && full != nil {
			_, err = tx.Stmt(full).Exec(args...)
		} else {
			_, err = tx.Exec(insertQuery(n), args...)
		}
		if err != nil {
			tx.Rollback()
			return err
		}
		last += int64(n)
		rest = rest[n:]
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	id := last - int64(len(batch))
	for _, w := range batch {
		id++
		w.mc.mu.Lock()
		w.mc.rows[keyPrefix(w.key)] = id
		w.mc.mu.Unlock()
	}
	return nil
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

// cachedModel wraps a Model with its part of a Cache.
type cachedModel struct {
	m     Model
	key   string
	cache *ModelCache
}

// WithCache returns m wrapped so that completions are looked up in and
// stored to c. Models that are not Cacheable are returned unchanged.
func WithCache(m Model, c *Cache) Model {
	cm, ok := m.(Cacheable)
	if !ok || c == nil {
		return m
	}
	key := cm.CacheKey()
	return &cachedModel{m: m, key: key, cache: c.Model(key)}
}

func (m *cachedModel) Generate(ctx context.Context, req Request) (Completion, error) {
	k := m.cache.Key(req)
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
