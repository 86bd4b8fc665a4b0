package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCacheDropsTheTablesOfEarlierVersions(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "responses.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE completions (key TEXT PRIMARY KEY, value BLOB NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID`,
		`CREATE TABLE completions_v2 (id INTEGER PRIMARY KEY, prefix TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, created INTEGER NOT NULL)`,
		`INSERT INTO completions_v2 (prefix, key, value, created) VALUES ('0123456789abcdef', '0123456789abcdef00', '{"text":"old"}', 1)`,
		`CREATE TABLE completions_v3 (id INTEGER PRIMARY KEY, model INTEGER NOT NULL, prefix INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, created INTEGER NOT NULL)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	c, err := OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	mc := c.Model("m")
	mc.Put(mc.Key(Request{Epoch: 1}), Completion{Text: "new"})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	db, _ = sql.Open("sqlite", "file:"+filepath.Join(dir, "responses.db"))
	defer db.Close()
	var tables []string
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	if fmt.Sprint(tables) != "[cache_rows]" {
		t.Errorf("tables after opening: %v, want only cache_rows", tables)
	}
}

func TestCacheKeepsModelsApartAndFindsItsOwnWrites(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.Model("model a"), c.Model("model b")
	if c.Model("model a") != a {
		t.Error("Model returned a second part for the same key")
	}
	req := Request{Messages: []Message{{Role: "user", Content: "hi"}}, Epoch: 1}
	if a.Key(req) == b.Key(req) {
		t.Fatal("two models give the same request the same key")
	}
	ctx := context.Background()
	if _, ok := a.Get(ctx, a.Key(req)); ok {
		t.Fatal("an empty cache hit")
	}
	a.Put(a.Key(req), Completion{Text: "from a", Attempts: 2})
	// The write is asynchronous: within this process it is found once
	// written.
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, ok := a.Get(ctx, a.Key(req))
		if ok {
			if got.Text != "from a" || got.Attempts != 2 {
				t.Errorf("hit: %+v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a completion written in this process was never found")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A key that shares a's first 64 bits is looked up, and misses.
	twin := a.Key(req)[:8] + strings.Repeat("x", 24)
	if got, ok := a.Get(ctx, twin); ok {
		t.Errorf("a key sharing a prefix hit: %+v", got)
	}
	// Model b's part holds nothing, even under a's key.
	if _, ok := b.Get(ctx, a.Key(req)); ok {
		t.Error("model b found model a's completion")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, b = c.Model("model a"), c.Model("model b")
	if a.Len() != 1 || b.Len() != 0 {
		t.Errorf("after reopening, model a may answer %d requests and b %d; want 1 and 0", a.Len(), b.Len())
	}
	if got, ok := a.Get(ctx, a.Key(req)); !ok || got.Text != "from a" {
		t.Errorf("after reopening: %+v, %v", got, ok)
	}
}

func TestCacheUnderConcurrentLookupsAndWrites(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	mc := c.Model("m")
	key := func(i int) string {
		return mc.Key(Request{Messages: []Message{{Role: "user", Content: fmt.Sprint(i)}}})
	}
	const n = 6000 // 375 rows: more than the recent rows kept in memory
	for i := range n {
		mc.Put(key(i), Completion{Text: fmt.Sprint("first ", i)})
	}
	mc.Put(key(7), Completion{Text: "second 7"}) // the last written wins
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mc = c.Model("m")
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n+200; i += 64 {
				got, ok := mc.Get(context.Background(), key(i))
				want := fmt.Sprint("first ", i)
				if i == 7 {
					want = "second 7"
				}
				switch {
				case i >= n && ok:
					errs <- fmt.Sprintf("key %d was never written but hit: %+v", i, got)
				case i < n && (!ok || got.Text != want):
					errs <- fmt.Sprintf("key %d: %+v, %v; want %q", i, got, ok, want)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, ok := mc.Get(ctx, key(1)); ok {
		t.Error("a lookup with a cancelled context hit")
	}
}

// BenchmarkCache measures a miss followed by a write (a first run) and a
// hit (a cached rerun), from 64 goroutines.
func BenchmarkCache(b *testing.B) {
	c, err := OpenCache(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	mc := c.Model("m")
	var keys []string
	b.Run("miss+put", func(b *testing.B) {
		keys = keys[:0]
		for i := range b.N {
			keys = append(keys, mc.Key(Request{Messages: []Message{{Role: "user", Content: fmt.Sprint("prompt ", i)}}}))
		}
		b.SetParallelism(32)
		var next sync.Mutex
		i := 0
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				next.Lock()
				k := keys[i]
				i++
				next.Unlock()
				if _, ok := mc.Get(ctx, k); !ok {
					mc.Put(k, Completion{Text: "an answer of a few words, as models give", Attempts: 1})
				}
			}
		})
	})
	c.Close()
	dir := b.TempDir()
	c, _ = OpenCache(dir)
	mc = c.Model("m")
	for _, k := range keys {
		mc.Put(k, Completion{Text: "an answer"})
	}
	c.Close()
	c, _ = OpenCache(dir)
	defer c.Close()
	mc = c.Model("m")
	b.Run("hit", func(b *testing.B) {
		b.SetParallelism(32)
		var next sync.Mutex
		i := 0
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				next.Lock()
				k := keys[i%len(keys)]
				i++
				next.Unlock()
				mc.Get(ctx, k)
			}
		})
	})
}

func TestCacheKeyCoversEveryField(t *testing.T) {
	mc := (&Cache{}).modelFor("m")
	base := Request{Messages: []Message{{Role: "user", Content: "hi"}}}
	baseKey := mc.Key(base)
	// Every field of GenParams changes the key.
	pt := reflect.TypeOf(GenParams{})
	for i := range pt.NumField() {
		req := base
		f := reflect.ValueOf(&req.Params).Elem().Field(i)
		switch f.Kind() {
		case reflect.Pointer:
			v := reflect.New(f.Type().Elem())
			switch v.Elem().Kind() {
			case reflect.Float64:
				v.Elem().SetFloat(0.5)
			case reflect.Int:
				v.Elem().SetInt(3)
			default:
				t.Fatalf("GenParams.%s: decide how the cache key encodes %s", pt.Field(i).Name, f.Type())
			}
			f.Set(v)
		case reflect.Int:
			f.SetInt(7)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"x"}))
		default:
			t.Fatalf("GenParams.%s: decide how the cache key encodes %s", pt.Field(i).Name, f.Type())
		}
		if mc.Key(req) == baseKey {
			t.Errorf("GenParams.%s does not change the cache key", pt.Field(i).Name)
		}
	}
	// A zero that is set differs from one that is not.
	zero, zeroSeed := 0.0, 0
	for name, req := range map[string]Request{
		"temperature 0": {Messages: base.Messages, Params: GenParams{Temperature: &zero}},
		"seed 0":        {Messages: base.Messages, Params: GenParams{Seed: &zeroSeed}},
		"system":        {Messages: base.Messages, System: "s"},
		"epoch":         {Messages: base.Messages, Epoch: 1},
		"role":          {Messages: []Message{{Role: "assistant", Content: "hi"}}},
		"content":       {Messages: []Message{{Role: "user", Content: "hi!"}}},
		"split content": {Messages: []Message{{Role: "user", Content: "h"}, {Role: "user", Content: "i"}}},
	} {
		if mc.Key(req) == baseKey {
			t.Errorf("%s does not change the cache key", name)
		}
	}
	if (&Cache{}).modelFor("n").Key(base) == baseKey {
		t.Error("the model's key does not change the cache key")
	}
	// Request's fields are each in the key or left out on purpose.
	decided := map[string]bool{"System": true, "Messages": true, "Params": true, "Epoch": true,
		"SampleID": false, "Sample": false, "Seed": false}
	rt := reflect.TypeOf(Request{})
	for i := range rt.NumField() {
		if _, ok := decided[rt.Field(i).Name]; !ok {
			t.Errorf("Request.%s: decide whether the cache key includes it", rt.Field(i).Name)
		}
	}
}

func TestCacheRowsOfInterleavedModelsAndACorruptRow(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	models := []*ModelCache{c.Model("a"), c.Model("b"), c.Model("c")}
	req := func(i int) Request { return Request{Messages: []Message{{Role: "user", Content: fmt.Sprint("q", i)}}} }
	const n = 100
	for i := range n {
		for k, mc := range models[:2+i%2] { // c gets every other one
			mc.Put(mc.Key(req(i)), Completion{Text: fmt.Sprint(k, ":", i), PromptTokens: int64(i)})
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// One row of model c is damaged on disk: its completions miss, the
	// others still hit.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "responses.db"))
	if err != nil {
		t.Fatal(err)
	}
	var bad int64
	if err := db.QueryRow(`SELECT min(id) FROM cache_rows WHERE model = ?`, (&Cache{}).modelFor("c").model).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE cache_rows SET vals = x'ff' WHERE id = ?`, bad); err != nil {
		t.Fatal(err)
	}
	var rows int
	db.QueryRow(`SELECT count(*) FROM cache_rows`).Scan(&rows)
	db.Close()
	// 100 + 100 + 50 completions in rows of at most 16 of one model.
	if rows != 7+7+4 {
		t.Errorf("%d rows, want 18", rows)
	}
	c, err = OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	models = []*ModelCache{c.Model("a"), c.Model("b"), c.Model("c")}
	ctx := context.Background()
	missed := 0
	for i := range n {
		for k, mc := range models {
			got, ok := mc.Get(ctx, mc.Key(req(i)))
			switch {
			case k == 2 && i%2 == 0:
				if ok {
					t.Errorf("model c hit a request it never made: %+v", got)
				}
			case !ok && k == 2:
				missed++
			case !ok || got.Text != fmt.Sprint(k, ":", i) || got.PromptTokens != int64(i):
				t.Errorf("model %d, request %d: %+v, %v", k, i, got, ok)
			}
		}
	}
	if missed != 16 {
		t.Errorf("%d of model c's completions missed, want the 16 of its damaged row", missed)
	}
}

// TestCacheWritersInTwoConnectionsLoseNothing opens one cache folder twice
// (two database handles, as two processes would) and writes through both
// at once: the row ids each writer gives its rows must never collide.
func TestCacheWritersInTwoConnectionsLoseNothing(t *testing.T) {
	dir := t.TempDir()
	var caches [2]*Cache
	for i := range caches {
		c, err := OpenCache(dir)
		if err != nil {
			t.Fatal(err)
		}
		caches[i] = c
	}
	req := func(w, i int) Request {
		return Request{Messages: []Message{{Role: "user", Content: fmt.Sprint("writer ", w, " prompt ", i)}}}
	}
	const n = 3000
	var wg sync.WaitGroup
	for w, c := range caches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mc := c.Model("shared model")
			for i := range n {
				mc.Put(mc.Key(req(w, i)), Completion{Text: fmt.Sprint(w, "/", i)})
				if i%1000 == 0 {
					time.Sleep(210 * time.Millisecond) // past a flush tick: the writers' flushes interleave
				}
			}
		}()
	}
	wg.Wait()
	for _, c := range caches {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	c, err := OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mc := c.Model("shared model")
	if mc.Len() != 2*n {
		t.Errorf("the cache may answer %d requests, want %d", mc.Len(), 2*n)
	}
	for w := range caches {
		for i := range n {
			if got, ok := mc.Get(context.Background(), mc.Key(req(w, i))); !ok || got.Text != fmt.Sprint(w, "/", i) {
				t.Fatalf("writer %d, prompt %d: %+v, %v", w, i, got, ok)
			}
		}
	}
}

// TestCachesOpenedAtOnceOnANewFolderAllWork opens a new cache folder from
// several handles at the same moment, as processes started together do:
// creating the schema and switching to WAL must wait for each other, not
// fail with "database is locked".
func TestCachesOpenedAtOnceOnANewFolderAllWork(t *testing.T) {
	for round := range 5 {
		dir := t.TempDir()
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := OpenCache(dir)
				if err != nil {
					errs <- err
					return
				}
				mc := c.Model("m")
				mc.Put(mc.Key(Request{Epoch: round}), Completion{Text: "x"})
				errs <- c.Close()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}
