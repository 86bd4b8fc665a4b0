package human

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mores-eval/mores/bench"
	"golang.org/x/time/rate"
)

// DBFile is the default name of the ratings database inside a run
// directory.
const DBFile = "human.sqlite"

// CookieName is the name of the cookie that carries a rater's token after
// the first visit.
const CookieName = "mores_rater"

// maxBody is the largest request body accepted.
const maxBody = 16 << 10

// maxComment is the longest comment accepted, in characters.
const maxComment = 2000

// Limits are the request rate limits of a server.
type Limits struct {
	// RaterRate and RaterBurst limit the API requests of one rater (default
	// 2 per second, bursts of 30: far above a person's pace).
	RaterRate  float64
	RaterBurst int
	// IPRate and IPBurst limit the requests from one IP address that carry
	// no valid rater token (default 20 per second, bursts of 100); a
	// rater's requests are not counted.
	IPRate  float64
	IPBurst int
}

// Options configure a Server.
type Options struct {
	// Dir is the run directory whose responses are rated.
	Dir string
	// DB is the SQLite database (default Dir/human.sqlite).
	DB string
	// Mode is single (default) or pairwise.
	Mode Mode
	// Raters are the ids of the raters. Nil means the raters already in the
	// database or, in a new database, one rater, rater-1.
	Raters []string
	// Overlap is the number of raters who rate each item (0: the overlap
	// the database recorded at an earlier start, else 1; at most
	// the number of raters).
	Overlap int
	// Reissue names raters whose tokens are replaced by new ones ("all":
	// every rater); their old links stop working.
	Reissue []string
	// Limits are the request rate limits.
	Limits Limits
}

// Link is a rater's secret link, as printed by `mores serve`.
type Link struct {
	Rater string
	// Token is the secret of the link; the URL is BASE/r/TOKEN.
	Token string
}

// Path returns the path of the link on the server, /r/TOKEN.
func (l Link) Path() string { return "/r/" + l.Token }

// raterState is what the server keeps in memory about one rater.
type raterState struct {
	id      string
	hash    [32]byte
	token   string
	csrf    string
	limiter *rate.Limiter

	mu       sync.Mutex
	queue    []int        // item indices in the rater's order
	assigned map[int]bool // the same, as a set
	rated    map[int]bool // items rated (assigned or not)
	next     int          // position in queue of the first unrated item
	done     int          // assigned items rated
}

// advance moves next past rated items.
func (r *raterState) advance() {
	for r.next < len(r.queue) && r.rated[r.queue[r.next]] {
		r.next++
	}
}

// Server is the human-judging web server of one run directory.
type Server struct {
	opt      Options
	st       *store
	secret   []byte
	ids      []string
	keys     []itemKey
	byID     map[string]int
	raters   []*raterState
	ipMu     sync.Mutex
	ips      map[string]*ipLimiter
	handler  http.Handler
	shutdown chan struct{}
}

type ipLimiter struct {
	l    *rate.Limiter
	seen time.Time
}

// Open prepares a server for a run directory: it opens (or creates) the
// database, adds the run's items to it, makes sure every rater has a token,
// and assigns items to raters. Bad options are *bench.InputError values.
func Open(ctx context.Context, opt Options) (*Server, error) {
	m, err := bench.ReadManifest(opt.Dir)
	if err != nil {
		return nil, err
	}
	if opt.Mode == "" {
		opt.Mode = Single
	}
	if _, err := ParseMode(string(opt.Mode)); err != nil {
		return nil, &bench.InputError{File: "--mode", Msg: err.Error()}
	}
	if opt.DB == "" {
		opt.DB = filepath.Join(opt.Dir, DBFile)
	}
	l := &opt.Limits
	if l.RaterRate <= 0 {
		l.RaterRate = 2
	}
	if l.RaterBurst <= 0 {
		l.RaterBurst = 30
	}
	if l.IPRate <= 0 {
		l.IPRate = 20
	}
	if l.IPBurst <= 0 {
		l.IPBurst = 100
	}
	for _, id := range opt.Raters {
		if msg := checkRaterID(id); msg != "" {
			return nil, &bench.InputError{File: "--raters", Field: "rater", Msg: msg}
		}
	}
	items, err := loadItems(opt.Dir, m, opt.Mode)
	if err != nil {
		return nil, err
	}
	st, err := openStore(opt.DB)
	if err != nil {
		return nil, err
	}
	s := &Server{opt: opt, st: st, ips: map[string]*ipLimiter{}, byID: map[string]int{}}
	if err := s.init(ctx, m, items); err != nil {
		st.close()
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

func (s *Server) init(ctx context.Context, m *bench.Manifest, items []newItem) error {
	var err error
	if s.secret, err = s.st.initMeta(m.RunID); err != nil {
		return err
	}
	raters := s.opt.Raters
	if raters == nil {
		if raters, err = s.st.knownRaters(); err != nil {
			return err
		}
		if len(raters) == 0 {
			raters = []string{"rater-1"}
		}
	}
	if s.opt.Overlap == 0 {
		// Not given: the overlap of the study's first start, else 1.
		s.opt.Overlap = 1
		if v, err := s.st.meta("overlap"); err != nil {
			return err
		} else if n, perr := strconv.Atoi(v); perr == nil && n > 0 {
			s.opt.Overlap = n
		}
	}
	if s.opt.Overlap < 1 || s.opt.Overlap > len(raters) {
		return &bench.InputError{File: "--overlap", Msg: fmt.Sprintf("%d: want 1 to the number of raters (%d)", s.opt.Overlap, len(raters))}
	}
	if err := s.st.setMeta("overlap", strconv.Itoa(s.opt.Overlap)); err != nil {
		return err
	}
	reissue := map[string]bool{}
	for _, id := range s.opt.Reissue {
		if id != "all" && !slices.Contains(raters, id) {
			return &bench.InputError{File: "--reissue", Msg: fmt.Sprintf("%q is not a rater (raters: %s)", id, strings.Join(raters, ", "))}
		}
		reissue[id] = true
	}
	rows, err := s.st.ensureRaters(raters, reissue)
	if err != nil {
		return err
	}
	if s.ids, s.keys, err = s.st.syncItems(ctx, s.opt.Mode, items); err != nil {
		return err
	}
	for i, id := range s.ids {
		s.byID[id] = i
	}
	queues := assign(len(s.ids), raters, s.opt.Overlap, m.Seed)
	for i, row := range rows {
		rs := &raterState{id: row.id, hash: row.hash, token: row.token, queue: queues[i],
			assigned: make(map[int]bool, len(queues[i])), rated: map[int]bool{},
			limiter: rate.NewLimiter(rate.Limit(s.opt.Limits.RaterRate), s.opt.Limits.RaterBurst)}
		rs.csrf = s.mac("csrf", row.id, string(row.hash[:]))
		for _, p := range rs.queue {
			rs.assigned[p] = true
		}
		done, err := s.st.ratedBy(ctx, row.id)
		if err != nil {
			return err
		}
		for id := range done {
			if p, ok := s.byID[id]; ok {
				rs.rated[p] = true
				if rs.assigned[p] {
					rs.done++
				}
			}
		}
		rs.advance()
		s.raters = append(s.raters, rs)
	}
	return nil
}

// mac returns the base64url HMAC-SHA256, under the server secret, of the
// parts.
func (s *Server) mac(parts ...string) string {
	h := hmac.New(sha256.New, s.secret)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// Links returns every rater's link, in the order of the raters.
func (s *Server) Links() []Link {
	out := make([]Link, len(s.raters))
	for i, r := range s.raters {
		out[i] = Link{Rater: r.id, Token: r.token}
	}
	return out
}

// Items returns the number of items of the server's mode.
func (s *Server) Items() int { return len(s.ids) }

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Close closes the database.
func (s *Server) Close() error { return s.st.close() }

// Serve answers requests on ln until ctx is done, then shuts down
// gracefully. The server has read, write and idle timeouts and a header
// size limit.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-errc
	return err
}

// raterFor returns the rater whose token hash matches the hash of token,
// comparing against every rater in constant time, or nil.
func (s *Server) raterFor(token string) *raterState {
	if token == "" || len(token) > 256 {
		return nil
	}
	h := hashToken(token)
	var found *raterState
	for _, r := range s.raters {
		if subtle.ConstantTimeCompare(h[:], r.hash[:]) == 1 {
			found = r
		}
	}
	return found
}

// raterOf returns the rater of a request's cookie, or nil.
func (s *Server) raterOf(r *http.Request) *raterState {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return nil
	}
	return s.raterFor(c.Value)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleShell)
	mux.HandleFunc("GET /r/{token}", s.handleLink)
	mux.HandleFunc("GET /static/{file}", s.handleStatic)
	mux.HandleFunc("GET /api/state", s.handleState)
	mux.HandleFunc("POST /api/rate", s.handleRate)
	return s.secure(mux)
}

// securityHeaders are set on every response.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	"X-Content-Type-Options":       "nosniff",
	"X-Frame-Options":              "DENY",
	"Referrer-Policy":              "no-referrer",
	"Cache-Control":                "no-store",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Permissions-Policy":           "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

// secure sets the security headers, limits the rate of unauthenticated
// requests per IP address and the size of request bodies. A request that
// carries a valid rater token (the cookie, or the link) is not counted
// against its address: a flood of bad tokens from one address does not
// lock out a rater behind it (the same machine, NAT); the rater's own
// limit applies to the API.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range securityHeaders {
			h.Set(k, v)
		}
		if !s.authenticated(r) && !s.allowIP(r) {
			h.Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, "too many requests")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next.ServeHTTP(w, r)
	})
}

// authenticated reports whether a request carries a valid rater token: the
// cookie, or the token of a link /r/TOKEN.
func (s *Server) authenticated(r *http.Request) bool {
	if s.raterOf(r) != nil {
		return true
	}
	if tok, ok := strings.CutPrefix(r.URL.Path, "/r/"); ok && !strings.Contains(tok, "/") {
		return s.raterFor(tok) != nil
	}
	return false
}

// allowIP applies the per-IP limit of unauthenticated requests.
func (s *Server) allowIP(r *http.Request) bool {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	now := time.Now()
	s.ipMu.Lock()
	defer s.ipMu.Unlock()
	e := s.ips[ip]
	if e == nil {
		if len(s.ips) > 10000 {
			for k, v := range s.ips {
				if now.Sub(v.seen) > 10*time.Minute {
					delete(s.ips, k)
				}
			}
		}
		e = &ipLimiter{l: rate.NewLimiter(rate.Limit(s.opt.Limits.IPRate), s.opt.Limits.IPBurst)}
		s.ips[ip] = e
	}
	e.seen = now
	return e.l.AllowN(now, 1)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// handleShell serves the page. Without a valid cookie the status is 401
// (the page then holds no data and tells the visitor to open their link).
// The page itself is static: every datum comes from /api/state.
func (s *Server) handleShell(w http.ResponseWriter, r *http.Request) {
	code := http.StatusOK
	if s.raterOf(r) == nil {
		code = http.StatusUnauthorized
	}
	serveAsset(w, "index.html", code)
}

// handleLink checks the token of a rater's link, moves it into a cookie
// (HttpOnly, SameSite=Strict) and serves the page, whose script replaces
// the address with the clean URL /. The page is served directly rather
// than through a redirect, because a SameSite=Strict cookie is not sent on
// a redirect that follows a cross-site navigation (a link in an email).
func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	rs := s.raterFor(r.PathValue("token"))
	if rs == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintln(w, "This link is not valid. Ask the organiser for a new one.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: rs.token, Path: "/", MaxAge: 90 * 24 * 3600,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	serveAsset(w, "index.html", http.StatusOK)
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	switch f := r.PathValue("file"); f {
	case "app.js", "app.css":
		serveAsset(w, f, http.StatusOK)
	default:
		http.NotFound(w, r)
	}
}

// itemJSON is an item as a rater's browser receives it: an opaque id and
// texts, never a model name.
type itemJSON struct {
	ID        string   `json:"id"`
	Prompt    string   `json:"prompt"`
	Responses []string `json:"responses"`
}

// stateJSON is a rater's view: progress and the next item.
type stateJSON struct {
	Rater    string    `json:"rater"`
	Mode     Mode      `json:"mode"`
	CSRF     string    `json:"csrf"`
	Done     int       `json:"done"`
	Total    int       `json:"total"`
	Item     *itemJSON `json:"item"`
	Scales   []Scale   `json:"scales,omitempty"`
	Question string    `json:"question,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// authAPI authenticates an API request and applies the rater's rate limit;
// it writes the error response and returns nil on failure.
func (s *Server) authAPI(w http.ResponseWriter, r *http.Request) *raterState {
	rs := s.raterOf(r)
	if rs == nil {
		writeError(w, http.StatusUnauthorized, "open the link you were given")
		return nil
	}
	if !rs.limiter.Allow() {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "too many requests")
		return nil
	}
	return rs
}

func (s *Server) handleState(w http.ResponseWriter, r *http.Request) {
	rs := s.authAPI(w, r)
	if rs == nil {
		return
	}
	st, err := s.state(r.Context(), rs)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "cannot read the item")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// firstIsA says whether model A's response is shown first to a rater, a
// fixed coin flip per rater and item.
func (s *Server) firstIsA(rater, item string) bool {
	return s.mac("order", rater, item)[0]&1 == 0
}

// state returns a rater's view.
func (s *Server) state(ctx context.Context, rs *raterState) (*stateJSON, error) {
	rs.mu.Lock()
	rs.advance()
	out := &stateJSON{Rater: rs.id, Mode: s.opt.Mode, CSRF: rs.csrf, Done: rs.done, Total: len(rs.queue)}
	p := -1
	if rs.next < len(rs.queue) {
		p = rs.queue[rs.next]
	}
	rs.mu.Unlock()
	if s.opt.Mode == Single {
		out.Scales = Scales
	} else {
		out.Question = PairwiseQuestion
	}
	if p < 0 {
		return out, nil
	}
	id := s.ids[p]
	t, err := s.st.itemText(ctx, id)
	if err != nil {
		return nil, err
	}
	it := &itemJSON{ID: id, Prompt: t.prompt}
	switch {
	case s.opt.Mode == Single:
		it.Responses = []string{t.responseA}
	case s.firstIsA(rs.id, id):
		it.Responses = []string{t.responseA, t.responseB}
	default:
		it.Responses = []string{t.responseB, t.responseA}
	}
	out.Item = it
	return out, nil
}

// rateRequest is the body of POST /api/rate.
type rateRequest struct {
	Item       string `json:"item"`
	Alignment  int    `json:"alignment,omitempty"`
	Engagement int    `json:"engagement,omitempty"`
	// Choice is "a" (the response shown first), "b" or "tie".
	Choice  string `json:"choice,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// sameOrigin checks that a write comes from the server's own pages: the
// Origin header, if sent, must be this host, and Sec-Fetch-Site, if sent,
// must be same-origin; a request with neither is refused.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	site := r.Header.Get("Sec-Fetch-Site")
	if origin == "" && site == "" {
		return false
	}
	if site != "" && site != "same-origin" {
		return false
	}
	if origin != "" {
		scheme := "http://"
		if r.TLS != nil {
			scheme = "https://"
		}
		if origin != scheme+r.Host {
			return false
		}
	}
	return true
}

func (s *Server) handleRate(w http.ResponseWriter, r *http.Request) {
	rs := s.authAPI(w, r)
	if rs == nil {
		return
	}
	if !sameOrigin(r) {
		writeError(w, http.StatusForbidden, "cross-origin request refused")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-CSRF-Token")), []byte(rs.csrf)) != 1 {
		writeError(w, http.StatusForbidden, "missing or wrong CSRF token")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "want application/json")
		return
	}
	var req rateRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "request too large")
			return
		}
		writeError(w, http.StatusBadRequest, "malformed request")
		return
	}
	p, ok := s.byID[req.Item]
	if !ok || !rs.isAssigned(p) {
		// The same answer for an item that does not exist and one assigned
		// to someone else: a rater learns nothing about other raters.
		writeError(w, http.StatusNotFound, "no such item")
		return
	}
	rating := Rating{Rater: rs.id, Item: req.Item, Comment: strings.TrimSpace(req.Comment), CreatedAt: time.Now()}
	if !utf8.ValidString(rating.Comment) || utf8.RuneCountInString(rating.Comment) > maxComment {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("the comment must be valid text of at most %d characters", maxComment))
		return
	}
	k := s.keys[p]
	switch s.opt.Mode {
	case Single:
		if req.Alignment < 1 || req.Alignment > 7 || req.Engagement < 1 || req.Engagement > 7 || req.Choice != "" {
			writeError(w, http.StatusBadRequest, "want alignment and engagement from 1 to 7")
			return
		}
		rating.Alignment, rating.Engagement = req.Alignment, req.Engagement
	case Pairwise:
		if req.Alignment != 0 || req.Engagement != 0 {
			writeError(w, http.StatusBadRequest, "want a choice: a, b or tie")
			return
		}
		first, second := k.modelA, k.modelB
		if !s.firstIsA(rs.id, req.Item) {
			first, second = second, first
		}
		rating.ShownFirst = first
		switch req.Choice {
		case "a":
			rating.Winner = first
		case "b":
			rating.Winner = second
		case "tie":
			rating.Winner = "tie"
		default:
			writeError(w, http.StatusBadRequest, "want a choice: a, b or tie")
			return
		}
	}
	code, msg := http.StatusOK, ""
	if err := s.record(r.Context(), rs, p, rating); errors.Is(err, errDuplicate) {
		code, msg = http.StatusConflict, "you have rated this item already"
	} else if err != nil {
		writeError(w, http.StatusInternalServerError, "the rating could not be stored; try again")
		return
	}
	st, err := s.state(r.Context(), rs)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "cannot read the next item")
		return
	}
	st.Error = msg
	writeJSON(w, code, st)
}

// isAssigned says whether item p is assigned to the rater.
func (r *raterState) isAssigned(p int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.assigned[p]
}

// record stores a rating (one transaction) and then marks the item rated.
// A rater's submissions are serialised, so the count of rated items stays
// exact when the same rater submits from two tabs at once.
func (s *Server) record(ctx context.Context, rs *raterState, p int, rating Rating) error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	err := s.st.insertRating(ctx, rating)
	if err != nil && !errors.Is(err, errDuplicate) {
		return err
	}
	if !rs.rated[p] {
		rs.rated[p] = true
		rs.done++
	}
	return err
}
