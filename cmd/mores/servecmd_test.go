package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveProc is a `mores serve` process started from the built binary.
type serveProc struct {
	cmd    *exec.Cmd
	links  map[string]string // rater → link
	stderr *bytes.Buffer     // read it only after Wait
}

// startServe starts the binary and reads one link per rater from stdout.
func startServe(t *testing.T, bin string, raters int, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p := &serveProc{cmd: cmd, links: map[string]string{}, stderr: stderr}
	sc := bufio.NewScanner(out)
	for len(p.links) < raters && sc.Scan() {
		rater, link, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("stdout line %q: want RATER<tab>LINK", sc.Text())
		}
		p.links[rater] = link
	}
	if len(p.links) < raters {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("serve printed %d links, want %d; stderr:\n%s", len(p.links), raters, stderr.String())
	}
	go io.Copy(io.Discard, out)
	return p
}

// raterSession follows a link like a browser and rates through the API.
type raterSession struct {
	t    *testing.T
	hc   *http.Client
	base string
	csrf string
}

type serveState struct {
	CSRF  string `json:"csrf"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
	Item  *struct {
		ID string `json:"id"`
	} `json:"item"`
}

func openLink(t *testing.T, link string) *raterSession {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	s := &raterSession{t: t, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}, base: u.Scheme + "://" + u.Host}
	resp, err := s.hc.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", link, resp.Status)
	}
	s.csrf = s.state().CSRF
	return s
}

func (s *raterSession) state() serveState {
	resp, err := s.hc.Get(s.base + "/api/state")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st serveState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 {
		s.t.Fatalf("state: %s %v", resp.Status, err)
	}
	return st
}

func (s *raterSession) rate(item string, a, e int) {
	b, _ := json.Marshal(map[string]any{"item": item, "alignment": a, "engagement": e})
	req, _ := http.NewRequest("POST", s.base+"/api/rate", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.base)
	req.Header.Set("X-CSRF-Token", s.csrf)
	resp, err := s.hc.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		s.t.Fatalf("rate: %s %s", resp.Status, body)
	}
}

// TestServeSurvivesSIGKILL rates through a served binary, kills it with
// SIGKILL, restarts it, and finds every rating and the same links; then
// exports the ratings and reports their agreement.
func TestServeSurvivesSIGKILL(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	dir := filepath.Join(out, "h")
	c.mustRun("run", "--out", out, "--run-id", "h")
	bin := buildBinary(t)
	args := []string{"serve", dir, "--addr", "127.0.0.1:0", "--raters", "2", "--overlap", "2"}

	p := startServe(t, bin, 2, args...)
	given := map[string][]string{}
	for rater, link := range p.links {
		s := openLink(t, link)
		for i := range 3 {
			st := s.state()
			s.rate(st.Item.ID, 1+i, 7-i)
			given[rater] = append(given[rater], st.Item.ID)
		}
	}
	if err := p.cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown, no flush
		t.Fatal(err)
	}
	p.cmd.Wait()

	p2 := startServe(t, bin, 2, args...)
	for rater, link := range p.links {
		if p2.links[rater] == "" || strings.Split(p2.links[rater], "/r/")[1] != strings.Split(link, "/r/")[1] {
			t.Fatalf("rater %s: token changed across the restart", rater)
		}
		// The old link (new port) still works and resumes after 3 ratings.
		s := openLink(t, p2.links[rater])
		st := s.state()
		if st.Done != 3 || st.Item == nil {
			t.Fatalf("rater %s after SIGKILL and restart: %d rated, item %v; want 3 and a next item", rater, st.Done, st.Item)
		}
		for _, id := range given[rater] {
			if st.Item.ID == id {
				t.Fatalf("rater %s resumed at a rated item", rater)
			}
		}
	}
	p2.cmd.Process.Kill()
	p2.cmd.Wait()

	stdout := c.mustRun("serve", dir, "--export")
	if !strings.Contains(stdout, "6 ratings: 12 scores added") {
		t.Fatalf("export: %q", stdout)
	}
	human := 0
	for _, r := range readScores(t, dir) {
		if r.Judge == "human" {
			human++
		}
	}
	if human != 12 {
		t.Fatalf("%d human score rows, want 12", human)
	}
	if stdout := c.mustRun("serve", dir, "--export"); !strings.Contains(stdout, "0 scores added, 12 already exported") {
		t.Fatalf("second export: %q", stdout)
	}
	report := c.mustRun("report", dir)
	if !strings.Contains(report, "Human agreement (2 raters)") || !strings.Contains(report, "alignment") {
		t.Fatalf("report without the human agreement section:\n%s", report)
	}
}

func TestServeWarnsOnANonLoopbackAddress(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	dir := filepath.Join(out, "w")
	c.mustRun("run", "--out", out, "--run-id", "w")
	bin := buildBinary(t)
	for _, tc := range []struct {
		addr string
		warn bool
	}{{"127.0.0.1:0", false}, {"0.0.0.0:0", true}} {
		p := startServe(t, bin, 1, "serve", dir, "--addr", tc.addr)
		p.cmd.Process.Kill()
		p.cmd.Wait()
		if got := strings.Contains(p.stderr.String(), "warning: listening on"); got != tc.warn {
			t.Errorf("--addr %s: warning %v, want %v; stderr:\n%s", tc.addr, got, tc.warn, p.stderr.String())
		}
	}
}

func TestServeUsageErrorsExitTwo(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	dir := filepath.Join(out, "u")
	c.mustRun("run", "--out", out, "--run-id", "u")
	for _, args := range [][]string{
		{"serve", dir, "--mode", "ranking"},
		{"serve", dir, "--raters", "2", "--overlap", "3"},
		{"serve", dir, "--raters", filepath.Join(out, "missing.txt")},
		{"serve", dir, "--addr", "nonsense"},
		{"serve", filepath.Join(out, "nowhere")},
		{"serve", dir, "--export", "--db", filepath.Join(out, "none.sqlite")},
	} {
		if _, stderr, code := c.run(args...); code != 2 {
			t.Errorf("mores %s: exit %d, want 2\n%s", strings.Join(args, " "), code, stderr)
		}
	}
}
