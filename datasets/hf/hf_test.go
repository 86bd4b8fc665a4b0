package hf_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/datasets"
	"github.com/mores-eval/mores/datasets/hf"
)

const (
	token  = "hf_secretTOKEN0123456789"
	commit = "0123456789abcdef0123456789abcdef01234567"
)

type row struct {
	ID     string `parquet:"id"`
	Prompt string `parquet:"prompt"`
}

func parquetBytes(t testing.TB, rows []row) []byte {
	t.Helper()
	var b bytes.Buffer
	w := parquet.NewGenericWriter[row](&b)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// dataset is one split served by the fake Hub.
type dataset struct {
	shards [][]byte
	gated  bool
	badSum bool // the tree listing gives a wrong LFS oid
}

// fakeHub serves the Hub's Parquet listing, tree and resolve endpoints on
// one loopback server and the file contents from a second ("CDN") server,
// as the real Hub redirects to a content host.
type fakeHub struct {
	hub, cdn *httptest.Server
	sets     map[string]*dataset // by OWNER/NAME/CONFIG/SPLIT
	blobs    map[string][]byte   // by sha256

	requests    atomic.Int64
	cdnHits     atomic.Int64
	mu          sync.Mutex
	auth        []string // Authorization headers seen by the Hub
	cdnAuth     []string // Authorization headers seen by the CDN
	failListing atomic.Int64
}

func newFakeHub(t testing.TB) *fakeHub {
	f := &fakeHub{sets: map[string]*dataset{}, blobs: map[string][]byte{}}
	f.cdn = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		f.cdnHits.Add(1)
		f.mu.Lock()
		f.cdnAuth = append(f.cdnAuth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		b, ok := f.blobs[strings.TrimPrefix(r.URL.Path, "/blob/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`) // an S3-style MD5, not a SHA-256
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	}))
	f.hub = httptest.NewServer(http.HandlerFunc(f.serveHub))
	t.Cleanup(f.hub.Close)
	t.Cleanup(f.cdn.Close)
	return f
}

func (f *fakeHub) add(repo, config, split string, d *dataset) {
	f.sets[repo+"/"+config+"/"+split] = d
	for _, b := range d.shards {
		f.blobs[sha(b)] = b
	}
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (f *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	f.mu.Lock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	for i, s := range segs {
		segs[i], _ = url.PathUnescape(s)
	}
	lookup := func(owner, name, config, split string) *dataset {
		d := f.sets[owner+"/"+name+"/"+config+"/"+split]
		if d == nil {
			jsonError(w, http.StatusNotFound, "Repository not found")
			return nil
		}
		if d.gated && r.Header.Get("Authorization") != "Bearer "+token {
			jsonError(w, http.StatusUnauthorized, "Access to dataset "+owner+"/"+name+" is restricted. You must be authenticated to access it.")
			return nil
		}
		return d
	}
	switch {
	// /api/datasets/O/N/parquet/C/S: the listing.
	case len(segs) == 7 && segs[0] == "api" && segs[4] == "parquet":
		if f.failListing.Add(-1) >= 0 {
			jsonError(w, http.StatusServiceUnavailable, "try again")
			return
		}
		d := lookup(segs[2], segs[3], segs[5], segs[6])
		if d == nil {
			return
		}
		var urls []string
		for i := range d.shards {
			urls = append(urls, fmt.Sprintf("%s/api/datasets/%s/%s/parquet/%s/%s/%d.parquet", f.hub.URL, segs[2], segs[3], segs[5], segs[6], i))
		}
		json.NewEncoder(w).Encode(urls)
	// /api/datasets/O/N/parquet/C/S/I.parquet: redirects to resolve.
	case len(segs) == 8 && segs[0] == "api" && segs[4] == "parquet":
		if lookup(segs[2], segs[3], segs[5], segs[6]) == nil {
			return
		}
		i, _ := strconv.Atoi(strings.TrimSuffix(segs[7], ".parquet"))
		http.Redirect(w, r, fmt.Sprintf("/datasets/%s/%s/resolve/refs%%2Fconvert%%2Fparquet/%s/%s/%04d.parquet", segs[2], segs[3], segs[5], segs[6], i), http.StatusFound)
	// /api/datasets/O/N/tree/REV/C/S: the tree listing.
	case len(segs) == 8 && segs[0] == "api" && segs[4] == "tree":
		d := lookup(segs[2], segs[3], segs[6], segs[7])
		if d == nil {
			return
		}
		var entries []map[string]any
		for i := len(d.shards) - 1; i >= 0; i-- { // out of order: the client sorts
			oid := sha(d.shards[i])
			if d.badSum {
				oid = strings.Repeat("ab", 32)
			}
			entries = append(entries, map[string]any{"type": "file", "path": fmt.Sprintf("%s/%s/%04d.parquet", segs[6], segs[7], i),
				"size": len(d.shards[i]), "lfs": map[string]any{"oid": oid, "size": len(d.shards[i])}})
		}
		entries = append(entries, map[string]any{"type": "directory", "path": segs[6] + "/" + segs[7] + "/sub"})
		json.NewEncoder(w).Encode(entries)
	// /datasets/O/N/resolve/REV/C/S/FILE: redirects to the CDN.
	case len(segs) == 8 && segs[0] == "datasets" && segs[3] == "resolve":
		d := lookup(segs[1], segs[2], segs[5], segs[6])
		if d == nil {
			return
		}
		i, err := strconv.Atoi(strings.TrimSuffix(segs[7], ".parquet"))
		if err != nil || i >= len(d.shards) {
			jsonError(w, http.StatusNotFound, "Entry not found")
			return
		}
		s := sha(d.shards[i])
		w.Header().Set("X-Repo-Commit", commit)
		w.Header().Set("X-Linked-Etag", `"`+s+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(d.shards[i])))
		http.Redirect(w, r, f.cdn.URL+"/blob/"+s+"?X-Amz-Signature=abc", http.StatusFound)
	default:
		jsonError(w, http.StatusNotFound, "no route "+r.URL.Path)
	}
}

func (f *fakeHub) client(t testing.TB, dir string, mod func(*hf.Config)) *hf.Client {
	t.Helper()
	cfg := hf.Config{Endpoint: f.hub.URL, CacheDir: dir, HTTPClient: f.hub.Client()}
	if mod != nil {
		mod(&cfg)
	}
	c, err := hf.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func twoShards(t *testing.T) *dataset {
	return &dataset{shards: [][]byte{
		parquetBytes(t, []row{{"a", "first"}, {"b", "second"}}),
		parquetBytes(t, []row{{"c", "third"}}),
	}}
}

func checkFiles(t *testing.T, paths []string, want [][]byte) {
	t.Helper()
	if len(paths) != len(want) {
		t.Fatalf("got %d files, want %d", len(paths), len(want))
	}
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, want[i]) {
			t.Errorf("file %d (%s) differs from shard %d", i, p, i)
		}
	}
}

func TestFetchThenCache(t *testing.T) {
	f := newFakeHub(t)
	d := twoShards(t)
	f.add("acme/prompts", "default", "test", d)
	dir := t.TempDir()
	paths, err := f.client(t, dir, nil).Resolve("hf:acme/prompts/test")
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, paths, d.shards)
	// Listing, then per shard: API URL, resolve, CDN.
	if n := f.requests.Load(); n != 7 {
		t.Errorf("first fetch made %d requests, want 7", n)
	}
	var snap hf.Snapshot
	b, err := os.ReadFile(filepath.Join(filepath.Dir(paths[0]), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &snap); err != nil {
		t.Fatal(err)
	}
	if snap.Commit != commit || len(snap.Files) != 2 || snap.Files[1].SHA256 != sha(d.shards[1]) || !snap.Files[0].Verified || snap.Revision != "" {
		t.Errorf("manifest %+v", snap)
	}
	if !strings.HasPrefix(snap.Files[0].URL, f.hub.URL+"/api/datasets/acme/prompts/parquet/default/test/0.parquet") {
		t.Errorf("recorded URL %q", snap.Files[0].URL)
	}

	// A new client (a new process) on the same cache makes no request, also
	// offline, and with the config written out.
	f.requests.Store(0)
	for _, spec := range []string{"hf:acme/prompts/test", "hf:acme/prompts:default/test"} {
		for _, offline := range []bool{false, true} {
			again, err := f.client(t, dir, func(c *hf.Config) { c.Offline = offline }).Resolve(spec)
			if err != nil {
				t.Fatalf("%s offline=%v: %v", spec, offline, err)
			}
			checkFiles(t, again, d.shards)
		}
	}
	if n := f.requests.Load(); n != 0 {
		t.Errorf("cached fetches made %d requests, want 0", n)
	}

	// Package datasets reads the shards in order as one dataset.
	old := datasets.HubResolver
	t.Cleanup(func() { datasets.HubResolver = old })
	datasets.HubResolver = f.client(t, dir, func(c *hf.Config) { c.Offline = true }).Resolve
	samples, err := datasets.Load("hf:acme/prompts/test", datasets.Mapping{ID: "id", Input: "prompt"}, datasets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range samples {
		got = append(got, s.ID+"="+s.Input)
	}
	if strings.Join(got, " ") != "a=first b=second c=third" {
		t.Errorf("samples %v", got)
	}
	sum, err := datasets.Checksum("hf:acme/prompts/test")
	if err != nil {
		t.Fatal(err)
	}
	if want := sha(append(append([]byte{}, d.shards[0]...), d.shards[1]...)); sum != want {
		t.Errorf("checksum %s, want %s", sum, want)
	}

	// Refresh asks the Hub again.
	if _, err := f.client(t, dir, func(c *hf.Config) { c.Refresh = true }).Resolve("hf:acme/prompts/test"); err != nil {
		t.Fatal(err)
	}
	if f.requests.Load() == 0 {
		t.Error("Refresh made no request")
	}
}

func TestCorruptCacheFile(t *testing.T) {
	f := newFakeHub(t)
	d := twoShards(t)
	f.add("acme/prompts", "default", "test", d)
	dir := t.TempDir()
	paths, err := f.client(t, dir, nil).Resolve("hf:acme/prompts/test")
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte{}, d.shards[1]...)
	bad[len(bad)/2] ^= 0xff
	if err := os.WriteFile(paths[1], bad, 0o644); err != nil {
		t.Fatal(err)
	}

	// Offline, the corruption is reported.
	_, err = f.client(t, dir, func(c *hf.Config) { c.Offline = true }).Resolve("hf:acme/prompts/test")
	var ie *bench.InputError
	if !errors.As(err, &ie) || !strings.Contains(ie.Msg, "does not match") || !strings.Contains(ie.Msg, paths[1]) {
		t.Fatalf("offline with a corrupt file: %v", err)
	}

	// Online, only that file is downloaded again.
	f.requests.Store(0)
	f.cdnHits.Store(0)
	var logs []string
	again, err := f.client(t, dir, func(c *hf.Config) {
		c.Log = func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }
	}).Resolve("hf:acme/prompts/test")
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, again, d.shards)
	if n := f.cdnHits.Load(); n != 1 {
		t.Errorf("repair downloaded %d files, want 1", n)
	}
	if len(logs) == 0 || !strings.Contains(logs[0], "corrupt") {
		t.Errorf("logs %q", logs)
	}
	// A deleted file is also fetched again.
	os.Remove(again[0])
	if again, err = f.client(t, dir, nil).Resolve("hf:acme/prompts/test"); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, again, d.shards)
}

func TestGatedDatasetToken(t *testing.T) {
	f := newFakeHub(t)
	d := twoShards(t)
	d.gated = true
	f.add("acme/gated", "default", "train", d)
	dir := t.TempDir()

	_, err := f.client(t, dir, nil).Resolve("hf:acme/gated/train")
	var ie *bench.InputError
	if !errors.As(err, &ie) || !strings.Contains(ie.Msg, "HTTP 401") || !strings.Contains(ie.Msg, "HF_TOKEN") || ie.File != "hf:acme/gated:default/train" {
		t.Fatalf("without a token: %v", err)
	}
	_, err = f.client(t, dir, func(c *hf.Config) { c.Token = "hf_wrong" + token }).Resolve("hf:acme/gated/train")
	if !errors.As(err, &ie) || !strings.Contains(ie.Msg, "did not accept HF_TOKEN") || strings.Contains(err.Error(), token) {
		t.Fatalf("with a wrong token: %v", err)
	}

	f.mu.Lock()
	f.auth, f.cdnAuth = nil, nil
	f.mu.Unlock()
	var logs bytes.Buffer
	paths, err := f.client(t, dir, func(c *hf.Config) {
		c.Token = token
		c.Log = func(format string, args ...any) { fmt.Fprintf(&logs, format+"\n", args...) }
	}).Resolve("hf:acme/gated/train")
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, paths, d.shards)
	f.mu.Lock()
	for _, a := range f.auth {
		if a != "Bearer "+token {
			t.Errorf("the Hub got Authorization %q", a)
		}
	}
	for _, a := range f.cdnAuth {
		if a != "" {
			t.Errorf("the content server got Authorization %q; the token must stay with the Hub", a)
		}
	}
	if len(f.auth) != 5 || len(f.cdnAuth) != 2 {
		t.Errorf("%d Hub and %d CDN requests, want 5 and 2", len(f.auth), len(f.cdnAuth))
	}
	f.mu.Unlock()
	if strings.Contains(logs.String(), token) {
		t.Error("the token was logged")
	}
	// The token is in no file of the cache.
	files := 0
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(token)) {
			t.Errorf("%s holds the token", p)
		}
		return err
	})
	if err != nil || files < 4 {
		t.Errorf("walked %d files: %v", files, err)
	}
}

func TestOfflineEmptyCache(t *testing.T) {
	f := newFakeHub(t)
	f.add("acme/prompts", "default", "test", twoShards(t))
	_, err := f.client(t, t.TempDir(), func(c *hf.Config) { c.Offline = true }).Resolve("hf:acme/prompts/test")
	var ie *bench.InputError
	if !errors.As(err, &ie) || !strings.Contains(ie.Msg, "not in the Hub cache") || !strings.Contains(ie.Msg, "offline") {
		t.Fatalf("got %v", err)
	}
	if n := f.requests.Load(); n != 0 {
		t.Errorf("offline made %d requests", n)
	}
}

func TestRevisionUsesTree(t *testing.T) {
	f := newFakeHub(t)
	d := &dataset{shards: [][]byte{
		parquetBytes(t, []row{{"a", "x"}}), parquetBytes(t, []row{{"b", "y"}}), parquetBytes(t, []row{{"c", "z"}}),
	}}
	f.add("acme/prompts", "main", "test", d)
	f.add("acme/badsum", "default", "test", &dataset{shards: d.shards[:1], badSum: true})
	dir := t.TempDir()
	for _, rev := range []string{commit, "refs/convert/parquet"} {
		spec := "hf:acme/prompts:main/test@" + rev
		paths, err := f.client(t, dir, nil).Resolve(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		checkFiles(t, paths, d.shards)
		f.requests.Store(0)
		if _, err := f.client(t, dir, func(c *hf.Config) { c.Offline = true }).Resolve(spec); err != nil {
			t.Fatalf("%s offline: %v", spec, err)
		}
		if n := f.requests.Load(); n != 0 {
			t.Errorf("%s: cached fetch made %d requests", spec, n)
		}
	}
	_, err := f.client(t, dir, nil).Resolve("hf:acme/badsum/test@" + commit)
	if err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("a wrong LFS oid: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "datasets", "acme", "badsum", "default", "test", "snapshots", commit)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a rejected download left a snapshot: %v", err)
	}
}

func TestNotFoundAndRetry(t *testing.T) {
	f := newFakeHub(t)
	f.add("acme/prompts", "default", "test", twoShards(t))
	dir := t.TempDir()
	_, err := f.client(t, dir, nil).Resolve("hf:acme/prompts/validation")
	var ie *bench.InputError
	if !errors.As(err, &ie) || !strings.Contains(ie.Msg, "HTTP 404") {
		t.Fatalf("missing split: %v", err)
	}
	f.failListing.Store(1)
	f.requests.Store(0)
	if _, err := f.client(t, dir, nil).Resolve("hf:acme/prompts/test"); err != nil {
		t.Fatalf("after one 503: %v", err)
	}
	if n := f.requests.Load(); n != 8 {
		t.Errorf("%d requests, want 8 (one retry)", n)
	}
}

func TestParseSpec(t *testing.T) {
	good := map[string]hf.Spec{
		"hf:a/b/train": {Owner: "a", Name: "b", Config: "default", Split: "train"},
		"hf:JailbreakBench/JBB-Behaviors:behaviors/harmful": {Owner: "JailbreakBench", Name: "JBB-Behaviors", Config: "behaviors", Split: "harmful"},
		"hf:o/n.x:c_1/test@refs/convert/parquet":            {Owner: "o", Name: "n.x", Config: "c_1", Split: "test", Revision: "refs/convert/parquet"},
		"o/n/test@" + commit:                                {Owner: "o", Name: "n", Config: "default", Split: "test", Revision: commit},
	}
	for in, want := range good {
		got, err := hf.ParseSpec(in)
		if err != nil || got != want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"hf:a/b", "hf:a/b/c/d", "hf:a/b:/c", "hf:../b/c", "hf:a/b/c@", "hf:a/b/c@../x", "hf:a/b/..", "hf:a/ b/c", "hf:a/b:c d/e"} {
		_, err := hf.ParseSpec(in)
		var ie *bench.InputError
		if !errors.As(err, &ie) || ie.File != in {
			t.Errorf("ParseSpec(%q): %v, want an InputError", in, err)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c := hf.ConfigFromEnv(env(map[string]string{"HF_TOKEN": "t", "HF_ENDPOINT": "http://mirror/", "MORES_CACHE_DIR": "/c", "HF_HUB_OFFLINE": "1"}))
	if c.Token != "t" || c.Endpoint != "http://mirror" || c.CacheDir != filepath.Join("/c", "hf") || !c.Offline {
		t.Errorf("%+v", c)
	}
	c = hf.ConfigFromEnv(env(map[string]string{"HUGGING_FACE_HUB_TOKEN": "old", "XDG_CACHE_HOME": "/x", "HOME": "/h"}))
	if c.Token != "old" || c.Endpoint != hf.DefaultEndpoint || c.Offline {
		t.Errorf("%+v", c)
	}
	if _, err := hf.New(hf.Config{}); err == nil {
		t.Error("New without a cache folder succeeded")
	}
	if _, err := hf.New(hf.Config{CacheDir: "x", Endpoint: "ftp://x"}); err == nil {
		t.Error("New with an ftp endpoint succeeded")
	}
}

// BenchmarkResolveCached measures a resolve from the cache by a new client,
// which re-hashes every file (here two shards of 20,000 rows).
func BenchmarkResolveCached(b *testing.B) {
	f := newFakeHub(b)
	rows := make([]row, 20000)
	for i := range rows {
		rows[i] = row{strconv.Itoa(i), strings.Repeat("lorem ipsum ", 10)}
	}
	f.add("acme/big", "default", "train", &dataset{shards: [][]byte{parquetBytes(b, rows), parquetBytes(b, rows[:5000])}})
	dir := b.TempDir()
	if _, err := f.client(b, dir, nil).Resolve("hf:acme/big/train"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		c, err := hf.New(hf.Config{Endpoint: f.hub.URL, CacheDir: dir, Offline: true})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Resolve("hf:acme/big/train"); err != nil {
			b.Fatal(err)
		}
	}
}
