package human

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mores-eval/mores/bench"
)

// runSpec describes a synthetic run directory.
type runSpec struct {
	models  []string
	samples int
	epochs  int
	// response gives the text of a trial; nil: a text naming nothing.
	response func(model string, sample, epoch int) string
	// failEvery makes every n-th trial a failed trial (0: none).
	failEvery int
	seed      int64
}

// makeRun writes a run directory (manifest, journal, responses.parquet,
// scores.parquet) with one trial per model × sample × epoch.
func makeRun(t testing.TB, spec runSpec) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if spec.epochs == 0 {
		spec.epochs = 1
	}
	m := &bench.Manifest{RunID: "run-test", Status: "complete", Seed: spec.seed, Epochs: spec.epochs, StartedAt: time.Now()}
	for _, name := range spec.models {
		m.Models = append(m.Models, bench.ManifestModel{Name: name, Spec: "sim:" + name})
	}
	m.Suites = []bench.ManifestSuite{{Name: "social", Version: 1, Samples: spec.samples, Attacks: []string{"none"}}}
	j, err := bench.OpenJournal(filepath.Join(dir, bench.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	var idx int64
	for s := range spec.samples {
		for _, model := range spec.models {
			for ep := range spec.epochs {
				e := &bench.Entry{Kind: bench.EntryTrial, Index: idx, Suite: "social", SampleID: fmt.Sprintf("s%03d", s),
					Model: model, Attack: "none", Epoch: ep, Prompt: fmt.Sprintf("Question %d: is it fine to borrow without asking?", s)}
				idx++
				if spec.failEvery > 0 && idx%int64(spec.failEvery) == 0 {
					e.Error = "fatal: no response"
				} else {
					text := fmt.Sprintf("Answer %d/%d: ask first; it is kinder.", s, ep)
					if spec.response != nil {
						text = spec.response(model, s, ep)
					}
					e.Result = &bench.Completion{Text: text, FinishReason: "stop"}
					e.Scores = []bench.Score{{Judge: "rubric", Metric: "alignment", Value: float64(1 + (s+ep)%7)}}
				}
				if err := j.Append(e); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := bench.WriteResults(dir, m.RunID); err != nil {
		t.Fatal(err)
	}
	if err := bench.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	return dir
}

// testServer is a server listening on loopback.
type testServer struct {
	*Server
	base string
}

// startServer opens a server for opt and serves it on a loopback port
// until the test ends.
func startServer(t testing.TB, opt Options) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Open(ctx, opt)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		s.Close()
	})
	return &testServer{Server: s, base: "http://" + ln.Addr().String()}
}

// token returns the token of a rater.
func (ts *testServer) token(t testing.TB, rater string) string {
	for _, l := range ts.Links() {
		if l.Rater == rater {
			return l.Token
		}
	}
	t.Fatalf("no rater %q", rater)
	return ""
}

// client is one rater's browser-less client: its own HTTP client and
// cookie jar.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
	csrf string
}

// login opens a rater's link with a fresh client and reads the state.
func login(t testing.TB, base, token string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{}}}
	resp, err := c.hc.Get(base + "/r/" + token)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /r/TOKEN: %s", resp.Status)
	}
	st, code, _ := c.state()
	if code != http.StatusOK {
		t.Fatalf("GET /api/state after login: %d", code)
	}
	c.csrf = st.CSRF
	return c
}

// state reads /api/state.
func (c *client) state() (stateJSON, int, string) {
	resp, err := c.hc.Get(c.base + "/api/state")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st stateJSON
	json.Unmarshal(b, &st)
	return st, resp.StatusCode, string(b)
}

// post sends a rating with the given headers on top of the usual ones
// (Origin, Content-Type, X-CSRF-Token); a header set to "" is removed.
func (c *client) post(body any, headers map[string]string) (int, stateJSON, string) {
	var buf []byte
	switch b := body.(type) {
	case string:
		buf = []byte(b)
	default:
		buf, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest("POST", c.base+"/api/rate", bytes.NewReader(buf))
	req.Header.Set("Origin", c.base)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.csrf)
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st stateJSON
	json.Unmarshal(b, &st)
	return resp.StatusCode, st, string(b)
}

// openDB opens a ratings database for checks.
func openDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t testing.TB, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func containsAny(s string, words ...string) string {
	for _, w := range words {
		if strings.Contains(s, w) {
			return w
		}
	}
	return ""
}
