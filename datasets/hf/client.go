package hf

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/atomicfile"
)

// Client resolves Hub specs to cached local Parquet files. It is safe for
// concurrent use; fetches by one Client are serialised, and several
// processes sharing a cache folder never see a half-written snapshot (files
// are written to a temporary folder and renamed into place).
type Client struct {
	cfg      Config
	endpoint *url.URL
	http     *http.Client

	mu       sync.Mutex
	verified map[string]stamp // files whose SHA-256 was checked, by path
}

// stamp identifies the state of a file whose SHA-256 was checked.
type stamp struct {
	size    int64
	modTime time.Time
	sha256  string
}

// New returns a Client for cfg. A missing cache folder or a bad endpoint is
// an error.
func New(cfg Config) (*Client, error) {
	if cfg.CacheDir == "" {
		return nil, errors.New("hf: no cache folder for Hub datasets (set MORES_CACHE_DIR, or HOME for the user cache folder)")
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	u, err := url.Parse(strings.TrimRight(cfg.Endpoint, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &bench.InputError{File: "HF_ENDPOINT", Msg: fmt.Sprintf("%q is not an http:// or https:// URL (unset it for %s, or set it to a Hub mirror, e.g. https://hf-mirror.example)",
			bench.RedactURL(cfg.Endpoint), DefaultEndpoint)}
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{cfg: cfg, endpoint: u, http: hc, verified: map[string]stamp{}}, nil
}

// Snapshot is a split resolved to files in the cache. Its JSON form is the
// manifest.json of the snapshot folder.
type Snapshot struct {
	// Spec is the spec as requested.
	Spec string `json:"spec"`
	// Repo is OWNER/NAME; Config and Split name the split.
	Repo   string `json:"repo"`
	Config string `json:"config"`
	Split  string `json:"split"`
	// Revision is the revision requested ("" for the current conversion).
	Revision string `json:"revision,omitempty"`
	// Commit is the commit the files came from (the Hub's X-Repo-Commit),
	// or, when the Hub named none, "sha256-" and a digest of the files.
	Commit string `json:"commit"`
	// Files are the Parquet shards in order.
	Files []File `json:"files"`
	// FetchedAt is when the files were downloaded.
	FetchedAt time.Time `json:"fetched_at"`
	// Dir is the snapshot folder.
	Dir string `json:"-"`
}

// File is one Parquet shard of a snapshot.
type File struct {
	// Name is the file's name in the snapshot folder: 0000.parquet, ….
	Name string `json:"name"`
	// URL is where it was downloaded from (before redirects).
	URL string `json:"url"`
	// Size is its length in bytes.
	Size int64 `json:"size"`
	// SHA256 is the hex SHA-256 of its bytes.
	SHA256 string `json:"sha256"`
	// Verified says the Hub gave this SHA-256 (X-Linked-Etag or the LFS
	// object id of the tree listing) and the download matched it; when
	// false, SHA256 is what the download hashed to.
	Verified bool `json:"verified_by_hub"`
}

// Paths returns the local paths of the snapshot's files, in order.
func (s *Snapshot) Paths() []string {
	out := make([]string, len(s.Files))
	for i, f := range s.Files {
		out[i] = filepath.Join(s.Dir, f.Name)
	}
	return out
}

// Resolve returns the local paths of the Parquet files of spec, in order,
// fetching them when the cache does not hold them. It has the signature of
// datasets.HubResolver.
func (c *Client) Resolve(spec string) ([]string, error) {
	snap, err := c.Fetch(context.Background(), spec)
	if err != nil {
		return nil, err
	}
	return snap.Paths(), nil
}

// Fetch resolves spec to a snapshot in the cache.
//
// When the cache maps the spec's revision (or, with none, the unpinned spec)
// to a commit whose files are all present and match their recorded
// SHA-256, Fetch makes no network call. A cached file that does not match is
// downloaded again (offline, that is an error). Otherwise Fetch lists and
// downloads the split (see the package documentation); offline, a spec
// that is not cached is a *bench.InputError that says so. Errors the user
// can act on (a malformed spec, HTTP 401, 403 and 404) are
// *bench.InputError naming the spec.
func (c *Client) Fetch(ctx context.Context, spec string) (*Snapshot, error) {
	s, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	dir := c.splitDir(s)
	pinned := isCommit(s.Revision)
	if !c.cfg.Refresh || c.cfg.Offline || pinned {
		if commit := c.readRef(dir, s); commit != "" {
			snap, bad, err := c.loadSnapshot(dir, commit)
			switch {
			case err == nil && len(bad) == 0:
				snap.Spec = spec
				return snap, nil
			case err == nil && c.cfg.Offline:
				return nil, &bench.InputError{File: spec, Msg: fmt.Sprintf(
					"the cached file %s does not match the SHA-256 recorded when it was downloaded, and offline mode is on (HF_HUB_OFFLINE): fetch it again with network access",
					filepath.Join(snap.Dir, bad[0].Name))}
			case err == nil:
				rerr := c.repair(ctx, s, snap, bad)
				if rerr == nil {
					snap.Spec = spec
					return snap, nil
				}
				if pinned {
					return nil, rerr
				}
				c.logf("hf: %s: could not repair the cached files (%v); fetching the split again", spec, rerr)
			case c.cfg.Offline:
				return nil, &bench.InputError{File: spec, Msg: fmt.Sprintf("the Hub cache at %s is unreadable (%v) and offline mode is on (HF_HUB_OFFLINE)", dir, err)}
			default:
				c.logf("hf: %s: the cached snapshot is unusable (%v); fetching the split again", spec, err)
			}
		}
	}
	if c.cfg.Offline {
		return nil, &bench.InputError{File: spec, Msg: fmt.Sprintf(
			"not in the Hub cache (%s) and offline mode is on (HF_HUB_OFFLINE): fetch it once with network access", dir)}
	}
	snap, err := c.download(ctx, s, dir)
	if err != nil {
		return nil, err
	}
	snap.Spec = spec
	return snap, nil
}

var (
	reHex64  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	reCommit = regexp.MustCompile(`^[0-9a-f]{40}$`)
	reDirOK  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)
)

// isCommit reports whether a revision is a full commit id, which names
// files that never change.
func isCommit(rev string) bool { return reCommit.MatchString(rev) }

// splitDir is the cache folder of a split.
func (c *Client) splitDir(s Spec) string {
	return filepath.Join(c.cfg.CacheDir, "datasets", s.Owner, s.Name, s.Config, s.Split)
}

// refName is the name of the file in refs/ that maps the spec's revision
// to a commit.
func refName(s Spec) string {
	if s.Revision == "" {
		return "_current"
	}
	return url.PathEscape(s.Revision)
}

// readRef returns the commit the cache maps the spec's revision to, or "".
// A full commit id maps to itself when its snapshot exists.
func (c *Client) readRef(dir string, s Spec) string {
	if b, err := os.ReadFile(filepath.Join(dir, "refs", refName(s))); err == nil {
		if commit := strings.TrimSpace(string(b)); reDirOK.MatchString(commit) {
			return commit
		}
	}
	if isCommit(s.Revision) {
		if _, err := os.Stat(filepath.Join(dir, "snapshots", s.Revision, manifestName)); err == nil {
			return s.Revision
		}
	}
	return ""
}

const manifestName = "manifest.json"

// loadSnapshot reads a snapshot's manifest and checks every file against
// its SHA-256; bad lists the files that are missing or do not match.
func (c *Client) loadSnapshot(dir, commit string) (snap *Snapshot, bad []File, err error) {
	sdir := filepath.Join(dir, "snapshots", commit)
	b, err := os.ReadFile(filepath.Join(sdir, manifestName))
	if err != nil {
		return nil, nil, err
	}
	snap = &Snapshot{}
	if err := json.Unmarshal(b, snap); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Join(sdir, manifestName), err)
	}
	if len(snap.Files) == 0 {
		return nil, nil, fmt.Errorf("%s lists no files", filepath.Join(sdir, manifestName))
	}
	for _, f := range snap.Files {
		if !reDirOK.MatchString(f.Name) || !reHex64.MatchString(f.SHA256) {
			return nil, nil, fmt.Errorf("%s: bad file entry %q", filepath.Join(sdir, manifestName), f.Name)
		}
	}
	snap.Dir = sdir
	for _, f := range snap.Files {
		if !c.check(filepath.Join(sdir, f.Name), f.SHA256) {
			bad = append(bad, f)
		}
	}
	return snap, bad, nil
}

// check reports whether the file at path has the SHA-256 want, hashing it
// unless this Client already hashed it in its current state.
func (c *Client) check(path, want string) bool {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	if s, ok := c.verified[path]; ok && s.size == st.Size() && s.modTime.Equal(st.ModTime()) && s.sha256 == want {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	if hex.EncodeToString(h.Sum(nil)) != want {
		delete(c.verified, path)
		return false
	}
	c.verified[path] = stamp{size: st.Size(), modTime: st.ModTime(), sha256: want}
	return true
}

// repair downloads the bad files of a snapshot again from their URLs; each
// must hash to the recorded SHA-256.
func (c *Client) repair(ctx context.Context, s Spec, snap *Snapshot, bad []File) error {
	for _, f := range bad {
		path := filepath.Join(snap.Dir, f.Name)
		c.logf("hf: %s: the cached file %s is missing or corrupt; downloading it again", s, path)
		tmp, err := os.CreateTemp(snap.Dir, ".repair-*")
		if err != nil {
			return err
		}
		tmp.Close()
		got, err := c.download1(ctx, s, f.URL, tmp.Name(), f.SHA256)
		if err == nil && got.sha256 != f.SHA256 {
			err = fmt.Errorf("hf: %s: %s now has SHA-256 %s, not the recorded %s", s, f.URL, got.sha256, f.SHA256)
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
			return err
		}
	}
	return nil
}

// remoteFile is a file to download.
type remoteFile struct {
	url    string
	sha256 string // from the listing, "" if unknown
}

// download lists the split, downloads every file into a new snapshot and
// points the spec's ref at it.
func (c *Client) download(ctx context.Context, s Spec, dir string) (*Snapshot, error) {
	var (
		files []remoteFile
		err   error
	)
	if s.Revision == "" {
		files, err = c.listParquet(ctx, s)
	} else {
		files, err = c.listTree(ctx, s)
	}
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, &bench.InputError{File: s.String(), Msg: "the Hub lists no Parquet files for this split"}
	}
	c.logf("hf: %s: downloading %d Parquet file(s)", s, len(files))
	if err := os.MkdirAll(filepath.Join(dir, "snapshots"), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(dir, ".fetch-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	snap := &Snapshot{Repo: s.Repo(), Config: s.Config, Split: s.Split, Revision: s.Revision, FetchedAt: time.Now().UTC()}
	var commits []string
	digest := sha256.New()
	for i, rf := range files {
		name := fmt.Sprintf("%04d.parquet", i)
		got, err := c.download1(ctx, s, rf.url, filepath.Join(tmp, name), rf.sha256)
		if err != nil {
			return nil, err
		}
		snap.Files = append(snap.Files, File{Name: name, URL: bench.RedactURL(rf.url), Size: got.size, SHA256: got.sha256, Verified: got.verified})
		if got.commit != "" && !slices.Contains(commits, got.commit) {
			commits = append(commits, got.commit)
		}
		digest.Write([]byte(got.sha256))
	}
	switch {
	case len(commits) > 1:
		return nil, fmt.Errorf("hf: %s: the Hub served files of different commits (%s) during one download; try again", s, strings.Join(commits, ", "))
	case len(commits) == 1:
		snap.Commit = commits[0]
	case isCommit(s.Revision):
		snap.Commit = s.Revision
	default:
		snap.Commit = "sha256-" + hex.EncodeToString(digest.Sum(nil))[:16]
	}
	b, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, manifestName), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	final := filepath.Join(dir, "snapshots", snap.Commit)
	if err := os.RemoveAll(final); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(dir, "refs"), refName(s), []byte(snap.Commit+"\n")); err != nil {
		return nil, err
	}
	snap.Dir = final
	for _, f := range snap.Files {
		if st, err := os.Stat(filepath.Join(final, f.Name)); err == nil {
			c.verified[filepath.Join(final, f.Name)] = stamp{size: st.Size(), modTime: st.ModTime(), sha256: f.SHA256}
		}
	}
	return snap, nil
}

// writeAtomic writes name in dir through a temporary file and a rename,
// with the mode 0600 of os.CreateTemp.
func writeAtomic(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, name), 0o600, data)
}

// listParquet asks the Hub's Parquet API for the split's file URLs.
func (c *Client) listParquet(ctx context.Context, s Spec) ([]remoteFile, error) {
	u := c.apiURL("api", "datasets", s.Owner, s.Name, "parquet", s.Config, s.Split)
	var urls []string
	if _, err := c.getJSON(ctx, s, u, &urls); err != nil {
		return nil, err
	}
	out := make([]remoteFile, 0, len(urls))
	for _, raw := range urls {
		ref, err := c.endpoint.Parse(raw)
		if err != nil || (ref.Scheme != "http" && ref.Scheme != "https") {
			return nil, fmt.Errorf("hf: %s: the Hub's Parquet listing holds a bad URL %q", s, raw)
		}
		out = append(out, remoteFile{url: ref.String()})
	}
	return out, nil
}

// treeEntry is one entry of the Hub's tree API.
type treeEntry struct {
	Type string `json:"type"`
	Path string `json:"path"`
	Size int64  `json:"size"`
	LFS  *struct {
		Oid  string `json:"oid"`
		Size int64  `json:"size"`
	} `json:"lfs"`
}

var reNextLink = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="?next"?`)

// listTree lists the .parquet files of CONFIG/SPLIT at the spec's revision,
// following the tree API's pagination, sorted by path.
func (c *Client) listTree(ctx context.Context, s Spec) ([]remoteFile, error) {
	next := c.apiURL("api", "datasets", s.Owner, s.Name, "tree", s.Revision, s.Config, s.Split)
	var entries []treeEntry
	for pages := 0; next != ""; pages++ {
		if pages == 1000 {
			return nil, fmt.Errorf("hf: %s: the tree listing has more than 1000 pages", s)
		}
		var page []treeEntry
		h, err := c.getJSON(ctx, s, next, &page)
		if err != nil {
			return nil, err
		}
		entries = append(entries, page...)
		next = ""
		if m := reNextLink.FindStringSubmatch(h.Get("Link")); m != nil {
			if u, err := c.endpoint.Parse(m[1]); err == nil && u.Host == c.endpoint.Host {
				next = u.String()
			}
		}
	}
	var out []remoteFile
	slices.SortFunc(entries, func(a, b treeEntry) int { return strings.Compare(a.Path, b.Path) })
	for _, e := range entries {
		if e.Type != "file" || !strings.HasSuffix(strings.ToLower(e.Path), ".parquet") {
			continue
		}
		segs := []string{"datasets", s.Owner, s.Name, "resolve", s.Revision}
		segs = append(segs, strings.Split(e.Path, "/")...)
		rf := remoteFile{url: c.apiURL(segs...)}
		if e.LFS != nil && reHex64.MatchString(e.LFS.Oid) {
			rf.sha256 = e.LFS.Oid
		}
		out = append(out, rf)
	}
	return out, nil
}

// apiURL joins path segments, each escaped, onto the endpoint.
func (c *Client) apiURL(segs ...string) string {
	esc := make([]string, len(segs))
	for i, s := range segs {
		esc[i] = url.PathEscape(s)
	}
	return strings.TrimRight(c.endpoint.String(), "/") + "/" + strings.Join(esc, "/")
}

// getJSON fetches a JSON document into v and returns the response headers.
func (c *Client) getJSON(ctx context.Context, s Spec, u string, v any) (http.Header, error) {
	var hdr http.Header
	err := c.do(ctx, s, u, nil, func(resp *http.Response) error {
		hdr = resp.Header
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("hf: %s: the Hub's answer to %s is not the expected JSON: %v", s, u, err)
		}
		return nil
	})
	return hdr, err
}

// fetched describes one downloaded file.
type fetched struct {
	size     int64
	sha256   string
	commit   string
	verified bool
}

// download1 downloads u to dest, hashing it; want (or, if empty, a
// SHA-256 the Hub gives in its headers) must match.
func (c *Client) download1(ctx context.Context, s Spec, u, dest, want string) (fetched, error) {
	var got fetched
	var hops []http.Header
	err := c.do(ctx, s, u, &hops, func(resp *http.Response) error {
		f, err := os.Create(dest)
		if err != nil {
			return err
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(f, h), resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return &retryable{fmt.Errorf("hf: %s: downloading %s: %w", s, u, err)}
		}
		if resp.ContentLength >= 0 && n != resp.ContentLength {
			return &retryable{fmt.Errorf("hf: %s: downloading %s: got %d of %d bytes", s, u, n, resp.ContentLength)}
		}
		got = fetched{size: n, sha256: hex.EncodeToString(h.Sum(nil))}
		return nil
	})
	if err != nil {
		return got, err
	}
	hub := ""
	for _, h := range hops {
		if c := strings.TrimSpace(h.Get("X-Repo-Commit")); c != "" && reDirOK.MatchString(c) {
			got.commit = c
		}
		if e := etagSHA(h.Get("X-Linked-Etag")); e != "" {
			hub = e
		} else if h.Get("X-Repo-Commit") != "" && hub == "" {
			hub = etagSHA(h.Get("ETag"))
		}
	}
	if want == "" {
		want = hub
	}
	if want != "" {
		if got.sha256 != want {
			return got, fmt.Errorf("hf: %s: %s downloaded with SHA-256 %s, but the Hub gives %s; the download is corrupt", s, u, got.sha256, want)
		}
		got.verified = true
	}
	return got, nil
}

// etagSHA returns the SHA-256 an ETag holds, or "".
func etagSHA(etag string) string {
	e := strings.TrimPrefix(strings.TrimSpace(etag), "W/")
	e = strings.ToLower(strings.Trim(e, `"`))
	if reHex64.MatchString(e) {
		return e
	}
	return ""
}

// retryable marks an error worth another attempt.
type retryable struct{ err error }

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

const attempts = 3

// do GETs u, following redirects (the token goes to the endpoint's host
// only), and hands a 200 response to fn. Transport errors, HTTP 429 and 5xx
// and errors fn marks retryable are tried again, up to attempts times. When
// hops is not nil it receives the headers of every response in the
// redirect chain, the final one last.
func (c *Client) do(ctx context.Context, s Spec, u string, hops *[]http.Header, fn func(*http.Response) error) error {
	var last error
	for i := range attempts {
		if i > 0 {
			wait := time.Duration(1<<(i-1)) * 500 * time.Millisecond
			if ra, ok := last.(*retryAfter); ok && ra.d > 0 && ra.d < 30*time.Second {
				wait = ra.d
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		var chain []http.Header
		err := c.once(ctx, s, u, &chain, fn)
		if err == nil {
			if hops != nil {
				*hops = chain
			}
			return nil
		}
		last = err
		var r *retryable
		var ra *retryAfter
		if ctx.Err() != nil || !(errors.As(err, &r) || errors.As(err, &ra)) {
			return err
		}
		c.logf("hf: %s: %v (attempt %d of %d)", s, err, i+1, attempts)
	}
	var r *retryable
	if errors.As(last, &r) {
		return r.err
	}
	return last
}

// retryAfter is HTTP 429 or 5xx, with the server's Retry-After.
type retryAfter struct {
	err error
	d   time.Duration
}

func (r *retryAfter) Error() string { return r.err.Error() }
func (r *retryAfter) Unwrap() error { return r.err }

// once makes one GET request.
func (c *Client) once(ctx context.Context, s Spec, u string, chain *[]http.Header, fn func(*http.Response) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("hf: %s: bad URL %q: %v", s, u, err)
	}
	if c.cfg.Token != "" && req.URL.Host == c.endpoint.Host {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	req.Header.Set("User-Agent", "mores (datasets/hf)")
	hc := *c.http
	inner := c.http.CheckRedirect
	hc.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if r.Response != nil {
			*chain = append(*chain, r.Response.Header)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if r.URL.Host != c.endpoint.Host {
			r.Header.Del("Authorization")
		}
		if inner != nil {
			return inner(r, via)
		}
		return nil
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &retryable{fmt.Errorf("hf: %s: %w", s, redactURLError(err))}
	}
	defer resp.Body.Close()
	*chain = append(*chain, resp.Header)
	if resp.StatusCode != http.StatusOK {
		return c.statusError(s, u, resp)
	}
	return fn(resp)
}

// redactURLError drops the query of a URL in a *url.Error, as content
// servers put signatures there.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if p, perr := url.Parse(ue.URL); perr == nil && p.RawQuery != "" {
			p.RawQuery = "…"
			return &url.Error{Op: ue.Op, URL: p.String(), Err: ue.Err}
		}
	}
	return err
}

// statusError turns a response other than 200 into an error: 401, 403 and
// 404 are the user's to fix (*bench.InputError), 429 and 5xx are retried.
func (c *Client) statusError(s Spec, u string, resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	detail := ""
	var msg struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &msg) == nil && msg.Error != "" {
		detail = ": " + msg.Error
	}
	if c.cfg.Token != "" {
		detail = strings.ReplaceAll(detail, c.cfg.Token, "[HF_TOKEN]")
	}
	page := c.apiURL("datasets", s.Owner, s.Name)
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized && c.cfg.Token == "":
		return &bench.InputError{File: s.String(), Msg: fmt.Sprintf(
			"the Hub asks for authentication (HTTP 401%s): the dataset is gated or private, or does not exist; set HF_TOKEN to a token that may read %s", detail, page)}
	case code == http.StatusUnauthorized:
		return &bench.InputError{File: s.String(), Msg: fmt.Sprintf(
			"the Hub did not accept HF_TOKEN (HTTP 401%s) for %s: check the token, or that the dataset exists", detail, page)}
	case code == http.StatusForbidden:
		return &bench.InputError{File: s.String(), Msg: fmt.Sprintf(
			"the Hub denied access (HTTP 403%s): accept the dataset's conditions at %s with the account of HF_TOKEN", detail, page)}
	case code == http.StatusNotFound:
		return &bench.InputError{File: s.String(), Msg: fmt.Sprintf(
			"not found on the Hub (HTTP 404%s): check the dataset name, config, split and revision at %s", detail, page)}
	case code == http.StatusTooManyRequests || code >= 500:
		d := time.Duration(0)
		if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs >= 0 {
			d = time.Duration(secs) * time.Second
		}
		return &retryAfter{err: fmt.Errorf("hf: %s: HTTP %d from %s%s", s, code, u, detail), d: d}
	default:
		return fmt.Errorf("hf: %s: HTTP %d from %s%s", s, code, u, detail)
	}
}

// logf passes a progress message to Config.Log.
func (c *Client) logf(format string, args ...any) {
	if c.cfg.Log != nil {
		c.cfg.Log(format, args...)
	}
}
