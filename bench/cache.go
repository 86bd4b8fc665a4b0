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
	"sync"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver
)

// Cache stores completions by a hash of the model's cache key and the
// request, in SQLite, so that an identical rerun sends no request. Writes
// are batched by one goroutine; reads run concurrently.
type Cache struct {
	db     *sql.DB
	get    *sql.Stmt
	writes chan cacheWrite
	done   chan struct{}
	mu     sync.Mutex
	err    error
}

type cacheWrite struct {
	key string
	val []byte
}

// OpenCache opens (creating) the cache database in dir.
func OpenCache(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "responses.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS completions (key TEXT PRIMARY KEY, value BLOB NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID`); err != nil {
		db.Close()
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	get, err := db.Prepare(`SELECT value FROM completions WHERE key = ?`)
	if err != nil {
		db.Close()
		return nil, err
	}
	c := &Cache{db: db, get: get, writes: make(chan cacheWrite, 4096), done: make(chan struct{})}
	go c.writer()
	return c, nil
}

func (c *Cache) writer() {
	defer close(c.done)
	batch := make([]cacheWrite, 0, 512)
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

func (c *Cache) insert(batch []cacheWrite) error {
	tx, err := c.db.Begin()
	if err != nil {
		return err
	}
	st, err := tx.Prepare(`INSERT OR REPLACE INTO completions (key, value, created) VALUES (?, ?, ?)`)
	if err != nil {
		tx.Rollback()
		return err
	}
	now := time.Now().Unix()
	for _, w := range batch {
		if _, err := st.Exec(w.key, w.val, now); err != nil {
			tx.Rollback()
			return err
		}
	}
	st.Close()
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

// Get returns the cached completion for key.
func (c *Cache) Get(ctx context.Context, key string) (Completion, bool) {
	var b []byte
	if err := c.get.QueryRowContext(ctx, key).Scan(&b); err != nil {
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

// Close writes what is pending and closes the database.
func (c *Cache) Close() error {
	close(c.writes)
	<-c.done
	c.get.Close()
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
