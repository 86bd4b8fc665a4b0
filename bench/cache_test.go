package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

func TestCacheMovesTheFirstVersionsTableOnce(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "responses.db"))
	if err != nil {
		t.Fatal(err)
	}
	val, _ := json.Marshal(Completion{Text: "from the old cache", Attempts: 1})
	for _, q := range []string{
		`CREATE TABLE completions (key TEXT PRIMARY KEY, value BLOB NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID`,
		fmt.Sprintf(`INSERT INTO completions VALUES ('%s', '%s', 1)`, (&Cache{}).Key("m", Request{Epoch: 1}), val),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	for range 2 {
		c, err := OpenCache(dir)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := c.Get(context.Background(), c.Key("m", Request{Epoch: 1}))
		if !ok || got.Text != "from the old cache" {
			t.Fatalf("after migration: %+v, %v", got, ok)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCacheUnderConcurrentLookupsAndWrites(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := func(i int) string {
		return c.Key("m", Request{Messages: []Message{{Role: "user", Content: fmt.Sprint(i)}}})
	}
	const n = 3000
	for i := range n {
		c.Put(key(i), Completion{Text: fmt.Sprint("first ", i)})
	}
	c.Put(key(7), Completion{Text: "second 7"}) // the last written wins
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n+200; i += 64 {
				got, ok := c.Get(context.Background(), key(i))
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
	if _, ok := c.Get(ctx, key(1)); ok {
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
	var keys []string
	b.Run("miss+put", func(b *testing.B) {
		keys = keys[:0]
		for i := range b.N {
			keys = append(keys, c.Key("m", Request{Messages: []Message{{Role: "user", Content: fmt.Sprint("prompt ", i)}}}))
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
				if _, ok := c.Get(ctx, k); !ok {
					c.Put(k, Completion{Text: "an answer of a few words, as models give", Attempts: 1})
				}
			}
		})
	})
	c.Close()
	dir := b.TempDir()
	c, _ = OpenCache(dir)
	for _, k := range keys {
		c.Put(k, Completion{Text: "an answer"})
	}
	c.Close()
	c, _ = OpenCache(dir)
	defer c.Close()
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
				c.Get(ctx, k)
			}
		})
	})
}
