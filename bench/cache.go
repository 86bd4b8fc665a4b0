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
// A row of the database holds up to rowSlots completions of one model,
// written together: a row costs the pure-Go SQLite about as much as one
// completion did, so a first run pays a sixteenth of it per completion.
// When a model is first used, the keys of its rows are read from an index
// into memory (a map of key prefix to row and slot, about 30 bytes a
// completion), so that a request the cache does not hold, which is every
// request of a model not run before, costs no query at all, and one it
// holds is read by row id. Rows read lately are kept decoded, so that a
// rerun, which asks for completions in about the order they were written,
// reads each row once. A run sees the cache as it was when the model was
// first used, plus its own writes once they are committed: a row another
// process writes meanwhile is not looked for, which costs a request, never
// a wrong answer.
//
// Both directions of the database are batched: writes are gathered by one
// goroutine into rows, one transaction at a time; lookups of rows not in
// memory made at the same moment by concurrent trials are gathered by a
// few reader goroutines into one SELECT … WHERE id IN (…) each, waiting at
// most readGather for lookups to gather.
type Cache struct {
	db     *sql.DB
	gets   [len(readBatchSizes)]*sql.Stmt
	reads  chan *cacheRead
	writes chan cacheWrite
	done   chan struct{}
	rdone  sync.WaitGroup
	recent rowLRU

	mu     sync.Mutex
	err    error
	models map[int64]*ModelCache
}

// rowSlots is the most completions a row holds; a location packs a row id
// and a slot as id<<slotBits | slot.
const (
	rowSlots = 16
	slotBits = 5
)

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

// cacheRow is a row of the database, decoded: the keys of its completions
// (32 bytes each) and their values.
type cacheRow struct {
	keys []byte
	vals [][]byte
}

// decodeRow splits a row's values blob (each value preceded by its length
// as a uvarint) into values; it returns nil for a malformed row.
func decodeRow(keys, blob []byte) *cacheRow {
	n := len(keys) / sha256.Size
	if n*sha256.Size != len(keys) || n == 0 || n > rowSlots {
		return nil
	}
	r := &cacheRow{keys: keys, vals: make([][]byte, 0, n)}
	for range n {
		l, k := binary.Uvarint(blob)
		if k <= 0 || uint64(len(blob)-k) < l {
			return nil
		}
		r.vals = append(r.vals, blob[k:k+int(l)])
		blob = blob[k+int(l):]
	}
	return r
}

// completion returns the completion in slot i if its key is key.
func (r *cacheRow) completion(i int, key string) (Completion, bool) {
	if i >= len(r.vals) || string(r.keys[i*sha256.Size:(i+1)*sha256.Size]) != key {
		return Completion{}, false
	}
	var comp Completion
	if err := json.Unmarshal(r.vals[i], &comp); err != nil {
		return Completion{}, false
	}
	return comp, true
}

// rowLRU holds the rows read lately (first in, first out).
type rowLRU struct {
	mu   sync.Mutex
	rows map[int64]*cacheRow
	ring [256]int64
	next int
}

func (l *rowLRU) get(id int64) *cacheRow {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rows[id]
}

func (l *rowLRU) put(id int64, r *cacheRow) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rows == nil {
		l.rows = map[int64]*cacheRow{}
	}
	if _, ok := l.rows[id]; ok {
		return
	}
	delete(l.rows, l.ring[l.next])
	l.ring[l.next] = id
	l.next = (l.next + 1) % len(l.ring)
	l.rows[id] = r
}

// cacheRead is one row lookup waiting for a reader.
type cacheRead struct {
	id   int64
	row  *cacheRow
	done chan struct{}
}

var readPool = sync.Pool{New: func() any { return &cacheRead{done: make(chan struct{}, 1)} }}

type cacheWrite struct {
	mc   *ModelCache
	key  string
	comp Completion
	// synced, when set, marks a Sync: the writer commits what came before
	// and closes it.
	synced chan struct{}
}

// The cache's schema. Rows are appended in the order they are written,
// with ids that grow. The only index, on (model, id, keys), also grows at
// the end of each model's range, so an insert changes the last pages of
// the table and of one range of the index, and reading the index alone
// lists the keys of a model's completions when the model is first used.
const cacheSchema = `
CREATE TABLE IF NOT EXISTS cache_rows (
	id INTEGER PRIMARY KEY,
	model INTEGER NOT NULL,
	keys BLOB NOT NULL,
	vals BLOB NOT NULL,
	created INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cache_rows_model ON cache_rows (model, id, keys);
`

// OpenCache opens (creating) the cache database in dir. The tables of
// earlier versions (completions, completions_v2, completions_v3) are
// dropped: a cache only saves requests.
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
	opened := time.Now()
	// Processes started together may create the database at the same
	// moment; switching a new database to WAL can fail with SQLITE_BUSY
	// without waiting (busy_timeout does not cover it), so it is retried.
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		_, err = db.Exec(cacheSchema)
		if err == nil || !isBusy(err) || time.Since(opened) > 15*time.Second {
			break
		}
		time.Sleep(wait)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	dropOldCacheTables(db)
	c := &Cache{db: db, reads: make(chan *cacheRead, 1024), writes: make(chan cacheWrite, 8192), done: make(chan struct{}),
		models: map[int64]*ModelCache{}}
	for i, n := range readBatchSizes {
		q := `SELECT id, keys, vals FROM cache_rows WHERE id IN (?` + strings.Repeat(",?", n-1) + `)`
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

// isBusy reports an SQLite error that waiting can cure.
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_LOCKED")
}

// dropOldCacheTables drops the tables of earlier versions. Errors are
// ignored: another process may be dropping them at the same moment, and
// tables left behind are only never read.
func dropOldCacheTables(db *sql.DB) {
	for _, name := range []string{"completions", "completions_v2", "completions_v3"} {
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
	rows map[uint64]int64 // key prefix → location (row id, slot); 0 while being written
}

// Model returns the part of the cache that holds the completions of the
// model with the given cache key, reading which requests it holds the
// first time.
func (c *Cache) Model(modelKey string) *ModelCache {
	mc := c.modelFor(modelKey)
	c.mu.Lock()
	defer c.mu.Unlock()
	if known, ok := c.models[mc.model]; ok {
		return known
	}
	if err := mc.load(); err != nil {
		clear(mc.rows) // a cache that cannot be read only misses
	}
	c.models[mc.model] = mc
	return mc
}

// modelFor returns a new, empty part of the cache for a model key.
func (c *Cache) modelFor(modelKey string) *ModelCache {
	h := sha256.Sum256([]byte(modelKey))
	return &ModelCache{c: c, key: modelKey, model: int64(binary.BigEndian.Uint64(h[:8])), rows: map[uint64]int64{}}
}

// load reads the keys of the model's rows from the index, in the order
// they were written, so that the last one written for a key wins.
func (mc *ModelCache) load() error {
	rows, err := mc.c.db.Query(`SELECT id, keys FROM cache_rows WHERE model = ? ORDER BY id`, mc.model)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var keys []byte
		if err := rows.Scan(&id, &keys); err != nil {
			return err
		}
		for i := 0; i+sha256.Size <= len(keys) && i/sha256.Size < rowSlots; i += sha256.Size {
			mc.rows[keyPrefix(keys[i:i+8])] = id<<slotBits | int64(i/sha256.Size)
		}
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
func keyPrefix[K string | []byte](key K) uint64 {
	var b [8]byte
	copy(b[:], key)
	return binary.BigEndian.Uint64(b[:])
}

// Get returns the cached completion for key. A key the model's rows do
// not hold misses at once; otherwise it is a miss when ctx ends before the
// lookup.
func (mc *ModelCache) Get(ctx context.Context, key string) (Completion, bool) {
	if ctx.Err() != nil {
		return Completion{}, false
	}
	mc.mu.RLock()
	loc := mc.rows[keyPrefix(key)]
	mc.mu.RUnlock()
	if loc == 0 {
		return Completion{}, false
	}
	id, slot := loc>>slotBits, int(loc&(1<<slotBits-1))
	c := mc.c
	if row := c.recent.get(id); row != nil {
		return row.completion(slot, key)
	}
	r := readPool.Get().(*cacheRead)
	r.id, r.row = id, nil
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
	row := r.row
	r.row = nil
	readPool.Put(r)
	if row == nil {
		return Completion{}, false
	}
	return row.completion(slot, key)
}

// Has reports whether the model's rows hold key (by its first 64 bits: a
// key it reports may, very rarely, still miss).
func (mc *ModelCache) Has(key string) bool {
	mc.mu.RLock()
	defer mc.mu.RUnlock()
	return mc.rows[keyPrefix(key)] != 0
}

// Put stores a completion (asynchronously; a Get of the same key finds it
// once it is written).
func (mc *ModelCache) Put(key string, comp Completion) {
	comp.Cached = false
	comp.CostUSD, comp.Batch = 0, false
	if comp.Logprob != nil && (math.IsNaN(*comp.Logprob) || math.IsInf(*comp.Logprob, 0)) {
		return // JSON has no such number
	}
	mc.c.writes <- cacheWrite{mc: mc, key: key, comp: comp} // encoded by the writer, into its row
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

// lookup reads the rows of the lookups of batch with one query, keeping
// them among the recent rows.
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
		var keys, vals []byte
		if rows.Scan(&id, &keys, &vals) != nil {
			return
		}
		row := decodeRow(keys, vals)
		if row == nil {
			continue
		}
		c.recent.put(id, row)
		for _, r := range batch {
			if r.id == id {
				r.row = row
			}
		}
	}
}

func (c *Cache) writer() {
	defer close(c.done)
	batch := make([]cacheWrite, 0, 4096)
	var ins *sql.Stmt
	defer func() {
		if ins != nil {
			ins.Close()
		}
	}()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if ins == nil {
			ins, _ = c.db.Prepare(`INSERT INTO cache_rows (id, model, keys, vals, created) VALUES (?, ?, ?, ?, ?)`)
		}
		if err := c.insert(batch, ins); err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
		}
		clear(batch)
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
			if w.synced != nil {
				flush()
				close(w.synced)
				continue
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

// newRow is a row being built from writes of one model.
type newRow struct {
	mc   *ModelCache
	keys []byte
	vals []byte
	n    int
}

// insert writes a batch of completions as rows of up to rowSlots
// completions of one model each, in one transaction, then tells each model
// where its completions are. The row ids are given, following the largest
// one in the table: the transaction holds the write lock from its start
// (_txlock=immediate), so no other process takes them meanwhile.
func (c *Cache) insert(batch []cacheWrite, ins *sql.Stmt) error {
	var rows []*newRow
	open := map[*ModelCache]*newRow{}
	var val []byte
	for i := range batch {
		w := &batch[i]
		r := open[w.mc]
		if r == nil || r.n == rowSlots {
			r = &newRow{mc: w.mc, keys: make([]byte, 0, rowSlots*sha256.Size), vals: make([]byte, 0, rowSlots*384)}
			open[w.mc] = r
			rows = append(rows, r)
		}
		val = appendCompletion(val[:0], &w.comp)
		r.keys = append(r.keys, w.key...)
		r.vals = binary.AppendUvarint(r.vals, uint64(len(val)))
		r.vals = append(r.vals, val...)
		r.n++
	}
	tx, err := c.db.Begin()
	if err != nil {
		return err
	}
	var last int64
	if err := tx.QueryRow(`SELECT coalesce(max(id), 0) FROM cache_rows`).Scan(&last); err != nil {
		tx.Rollback()
		return err
	}
	if ins == nil {
		tx.Rollback()
		return errors.New("cache: the insert statement could not be prepared")
	}
	st := tx.Stmt(ins)
	now := time.Now().Unix()
	for i, r := range rows {
		if _, err := st.Exec(last+int64(i)+1, r.mc.model, r.keys, r.vals, now); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for i, r := range rows {
		id := last + int64(i) + 1
		r.mc.mu.Lock()
		for slot := range r.n {
			r.mc.rows[keyPrefix(r.keys[slot*sha256.Size:slot*sha256.Size+8])] = id<<slotBits | int64(slot)
		}
		r.mc.mu.Unlock()
	}
	return nil
}

// Sync returns once every completion Put before it is committed to the
// database (or failed to be: the error is Close's). The runner syncs before
// the journal writes, so that a trial in the journal of a killed run has its
// answer in the cache: a rerun after the resume then sends no request.
func (c *Cache) Sync() {
	done := make(chan struct{})
	c.writes <- cacheWrite{synced: done}
	<-done
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
		comp.CostUSD = 0 // a cached answer costs nothing
		comp.Batch = false
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

// Unwrap returns the wrapped model.
func (m *cachedModel) Unwrap() Model { return m.m }
