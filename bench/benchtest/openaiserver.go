package benchtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

// FaultKind names one way the loopback server can fail a generation request.
type FaultKind int

const (
	// FaultNone answers normally.
	FaultNone FaultKind = iota
	// FaultRateLimit answers 429 with a Retry-After header.
	FaultRateLimit
	// FaultServerError answers 500.
	FaultServerError
	// FaultUnavailable answers 503.
	FaultUnavailable
	// FaultTruncated answers 200 with only the first half of the JSON body.
	FaultTruncated
	// FaultDrop reads the request, then closes the connection without a
	// response.
	FaultDrop
	// FaultSlow waits FaultPlan.SlowDelay before answering, or until the client
	// gives up, whichever comes first.
	FaultSlow
	// FaultEmptyChoices answers 200 with a well-formed body whose choices list
	// is empty.
	FaultEmptyChoices
	// FaultBadRequest answers 400, which a client must not retry.
	FaultBadRequest
)

var faultNames = [...]string{"none", "rate-limit", "server-error", "unavailable", "truncated", "drop", "slow", "empty-choices", "bad-request"}

// String returns the kind's name, for test names and messages.
func (k FaultKind) String() string {
	if k >= 0 && int(k) < len(faultNames) {
		return faultNames[k]
	}
	return fmt.Sprintf("fault(%d)", int(k))
}

// TransientFaults returns the fault kinds that a client should retry: every
// kind but FaultNone and FaultBadRequest.
func TransientFaults() []FaultKind {
	return []FaultKind{FaultRateLimit, FaultServerError, FaultUnavailable, FaultTruncated, FaultDrop, FaultSlow, FaultEmptyChoices}
}

// FaultPlan decides which generation requests fail, and how. The decision
// for a request depends only on Seed, the request's prompt and how many
// requests with that prompt came before it (its attempt number), so a run
// with many concurrent clients gets the same faults whatever the order in
// which requests arrive.
type FaultPlan struct {
	// Seed seeds the fault decisions.
	Seed int64
	// Rate is the share (0 to 1) of attempts, beyond the first FailFirst of
	// each prompt, that fail.
	Rate float64
	// Kinds are the fault kinds drawn from (uniformly, by the seed); empty
	// means TransientFaults().
	Kinds []FaultKind
	// FailFirst makes the first FailFirst attempts of every distinct prompt
	// fail, so that a client retrying more often than that is guaranteed to
	// succeed when Rate is 0.
	FailFirst int
	// RetryAfter is the delay a 429 asks for, sent in whole seconds (rounded
	// up); zero means one second.
	RetryAfter time.Duration
	// RetryAfterHeader, if set, is sent verbatim as the Retry-After header of
	// a 429 instead of RetryAfter (for example an HTTP date, or "0").
	RetryAfterHeader string
	// SlowDelay is how long FaultSlow waits before answering; zero means 30
	// seconds. The wait ends early when the client goes away or the server
	// closes.
	SlowDelay time.Duration
	// Decide, if set, replaces every rule above: it is given the prompt and
	// its attempt number (from 1) and returns the fault to apply.
	Decide func(prompt string, attempt int) FaultKind
}

// decide returns the fault for the attempt-th request carrying prompt.
func (p FaultPlan) decide(prompt string, attempt int) FaultKind {
	if p.Decide != nil {
		return p.Decide(prompt, attempt)
	}
	kinds := p.Kinds
	if len(kinds) == 0 {
		kinds = TransientFaults()
	}
	h1, h2 := p.hash(prompt, attempt)
	switch {
	case attempt <= p.FailFirst:
	case p.Rate > 0 && float64(h1>>11)/(1<<53) < p.Rate:
	default:
		return FaultNone
	}
	return kinds[h2%uint64(len(kinds))]
}

// hash returns two independent 64-bit values derived from the seed, the
// prompt and the attempt number.
func (p FaultPlan) hash(prompt string, attempt int) (uint64, uint64) {
	h := fnv.New64a()
	var buf [16]byte
	binary.LittleEndian.PutUint64(buf[:8], uint64(p.Seed))
	binary.LittleEndian.PutUint64(buf[8:], uint64(attempt))
	h.Write(buf[:])
	h.Write([]byte(prompt))
	x := h.Sum64()
	return splitmix(x), splitmix(x ^ 0x9e3779b97f4a7c15)
}

// splitmix is the SplitMix64 finaliser; it spreads the bits of x.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// ServerOptions configure an OpenAIServer. The zero value answers every
// request at once with a canned reply.
type ServerOptions struct {
	// Respond returns the answer text for a request; nil echoes a canned
	// reply naming the prompt ("Canned reply to: PROMPT").
	Respond func(req ChatRequest) string
	// Latency delays every generation response.
	Latency time.Duration
	// Faults decides which generation requests fail.
	Faults FaultPlan
	// RequireKey, if set, makes every request without the header
	// "Authorization: Bearer RequireKey" fail with 401. The 401 message
	// quotes the key it was given, as careless servers do, so that tests can
	// check that clients keep keys out of their errors.
	RequireKey string
	// Models, if set, lists the only model names the server knows; requests
	// for any other model get 404. Empty means any model is accepted and
	// /v1/models lists "mores-test".
	Models []string
	// Logprobs, if set, returns the token log probabilities of an answer when
	// a request asks for them; nil uses a deterministic default (each word is
	// a token; alternatives are "alt1", "alt2", ...). For a completions
	// request with echo, answer is the whole echoed text (the prompt followed
	// by the generated text) and the tokens returned must spell it exactly,
	// as SplitTokens does; the default then tokenises the prompt and the
	// generated text apart and gives each token the logprob -0.1 × its
	// length in bytes. The first token's logprob is sent as null,
	// as real servers do.
	Logprobs func(req ChatRequest, answer string) []TokenLogprob
	// RateLimit, if positive, is a hidden limit on the generation requests
	// answered per second (a token bucket of RateBurst, at least 1): a
	// request over it gets 429 at once, with no Retry-After, as the
	// FaultRateLimit it is counted as.
	RateLimit float64
	RateBurst int
	// Batches configure the files and batches endpoints (batches.go).
	Batches BatchOptions
	// RecordLimit, if positive, keeps only the last RecordLimit requests in
	// Recorded (counts are always complete); benchmarks use it to keep memory
	// flat.
	RecordLimit int
	// Embed returns the vector of an input of /v1/embeddings; nil means
	// DefaultEmbedding.
	Embed func(input string) []float32
}

// ChatMessage is one message of a chat request. Content given as a list of
// parts is joined into one text.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// UnmarshalJSON accepts content as a string or as a list of {type, text}
// parts.
func (m *ChatMessage) UnmarshalJSON(b []byte) error {
	var raw struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	m.Role = raw.Role
	m.Content = ""
	if len(raw.Content) == 0 || string(raw.Content) == "null" {
		return nil
	}
	if raw.Content[0] == '"' {
		return json.Unmarshal(raw.Content, &m.Content)
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw.Content, &parts); err != nil {
		return fmt.Errorf("content is neither a string nor a list of parts: %w", err)
	}
	var sb strings.Builder
	for _, p := range parts {
		sb.WriteString(p.Text)
	}
	m.Content = sb.String()
	return nil
}

// StringList is a JSON value that may be a single string or a list of
// strings (OpenAI's stop and prompt fields).
type StringList []string

// UnmarshalJSON accepts a string, a list of strings or null.
func (s *StringList) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = StringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// ChatRequest is a generation request as the server decoded it from the
// wire. Pointer fields are nil when the field was absent from the body, so
// tests can tell "temperature 0" from "no temperature".
type ChatRequest struct {
	// Endpoint is "chat" for /chat/completions and "completions" for
	// /completions.
	Endpoint string `json:"-"`
	Model    string `json:"model"`
	// Messages are the chat messages (chat endpoint).
	Messages []ChatMessage `json:"messages,omitempty"`
	// Prompt is the prompt of a plain completion (completions endpoint).
	Prompt              StringList `json:"prompt,omitempty"`
	Temperature         *float64   `json:"temperature,omitempty"`
	TopP                *float64   `json:"top_p,omitempty"`
	MaxTokens           *int       `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int       `json:"max_completion_tokens,omitempty"`
	Seed                *int64     `json:"seed,omitempty"`
	Stop                StringList `json:"stop,omitempty"`
	// Logprobs is true when the request asks for token log probabilities
	// (chat: "logprobs": true; completions: "logprobs": N).
	Logprobs bool `json:"-"`
	// TopLogprobs is the number of alternatives asked for per token (chat:
	// top_logprobs; completions: the number given as logprobs).
	TopLogprobs *int `json:"-"`
	N           *int `json:"n,omitempty"`
	Stream      bool `json:"stream,omitempty"`
	// Echo asks a completions request to return the prompt before the
	// generated text (and, with logprobs, the prompt tokens' log
	// probabilities): the legacy way of scoring a text's likelihood. With
	// echo, max_tokens 0 generates nothing.
	Echo bool `json:"echo,omitempty"`
}

// UserPrompt returns the content of the last user message, or for a plain
// completion its (first) prompt.
func (r ChatRequest) UserPrompt() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	if len(r.Prompt) > 0 {
		return r.Prompt[0]
	}
	return ""
}

// System returns the content of the first system (or developer) message.
func (r ChatRequest) System() string {
	for _, m := range r.Messages {
		if m.Role == "system" || m.Role == "developer" {
			return m.Content
		}
	}
	return ""
}

// maxTokens returns the request's token limit, 0 if none.
func (r ChatRequest) maxTokens() int {
	switch {
	case r.MaxCompletionTokens != nil:
		return *r.MaxCompletionTokens
	case r.MaxTokens != nil:
		return *r.MaxTokens
	}
	return 0
}

// decodeChatRequest decodes a request body for the given endpoint.
func decodeChatRequest(endpoint string, body []byte) (ChatRequest, error) {
	var req ChatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return req, err
	}
	req.Endpoint = endpoint
	var lp struct {
		Logprobs    json.RawMessage `json:"logprobs"`
		TopLogprobs *int            `json:"top_logprobs"`
	}
	if err := json.Unmarshal(body, &lp); err != nil {
		return req, err
	}
	switch endpoint {
	case "chat":
		if len(lp.Logprobs) > 0 && string(lp.Logprobs) != "null" {
			if err := json.Unmarshal(lp.Logprobs, &req.Logprobs); err != nil {
				return req, fmt.Errorf("logprobs must be a boolean: %w", err)
			}
		}
		req.TopLogprobs = lp.TopLogprobs
	case "completions":
		if len(lp.Logprobs) > 0 && string(lp.Logprobs) != "null" {
			var n int
			if err := json.Unmarshal(lp.Logprobs, &n); err != nil {
				return req, fmt.Errorf("logprobs must be an integer: %w", err)
			}
			req.Logprobs, req.TopLogprobs = true, &n
		}
	}
	return req, nil
}

// TokenLogprob is the log probability of one answer token, with the most
// likely alternatives at its position.
type TokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []byte       `json:"bytes,omitempty"`
	TopLogprobs []TopLogprob `json:"top_logprobs"`
}

// TopLogprob is one alternative token and its log probability.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []byte  `json:"bytes,omitempty"`
}

// RecordedRequest is one request the server received.
type RecordedRequest struct {
	// Seq is the request's arrival number, from 1, over all generation
	// requests.
	Seq int
	// Received is when the server started handling the request.
	Received time.Time
	Method   string
	Path     string
	// Body is the raw request body.
	Body []byte
	// Chat is the decoded body (zero when it could not be decoded).
	Chat ChatRequest
	// Attempt is how many requests with this prompt the server had received,
	// this one included.
	Attempt int
	// Fault is the fault applied to the request.
	Fault FaultKind
	// Status is the HTTP status answered (0 for a dropped connection).
	Status int
	// Header holds the request headers; an Authorization value is replaced by
	// "[present]" so that recorded requests never hold a key.
	Header http.Header
}

// OpenAIServer is a real HTTP server on 127.0.0.1 (net/http/httptest) that
// speaks the part of the OpenAI wire format Mores uses:
//
//	POST /v1/chat/completions  (also /chat/completions)
//	POST /v1/completions       (also /completions), plain text completions
//	GET  /v1/models            (also /models)
//
// Its answers are scripted by ServerOptions.Respond, and a FaultPlan makes a
// deterministic share of the generation requests fail the way real servers
// fail: 429 with Retry-After, 500, 503, a truncated JSON body, a dropped
// connection, a response slower than any sane client timeout, an empty
// choices list, or a 400. The server records every request it receives so
// that tests can check what arrived on the wire, how often, and in what
// order. Point a real client (go-openai) at URL(): fake the wire, not the
// client.
//
// Create it with NewOpenAIServer or StartOpenAIServer. Its methods are safe
// for concurrent use.
type OpenAIServer struct {
	opts ServerOptions
	srv  *httptest.Server
	done chan struct{}
	once sync.Once

	mu             sync.Mutex
	requests       int
	promptCounts   map[string]int
	answeredCounts map[string]int
	faultCounts    map[FaultKind]int
	recorded       []*RecordedRequest
	inFlight       int
	maxInFlight    int
	promptTokens   int64
	complTokens    int64
	nextID         int
	embedInputs    []string
	embedRequests  int
	bucket         *rate.Limiter
	files          map[string]*serverFile
	batches        map[string]*serverBatch
	batchOrder     []string
	batchAnswered  map[string]int
	uploads        int
}

// NewOpenAIServer starts a server on loopback; the caller must Close it.
func NewOpenAIServer(opts ServerOptions) *OpenAIServer {
	s := &OpenAIServer{
		opts:           opts,
		done:           make(chan struct{}),
		promptCounts:   map[string]int{},
		answeredCounts: map[string]int{},
		faultCounts:    map[FaultKind]int{},
		files:          map[string]*serverFile{},
		batches:        map[string]*serverBatch{},
		batchAnswered:  map[string]int{},
	}
	if opts.RateLimit > 0 {
		s.bucket = rate.NewLimiter(rate.Limit(opts.RateLimit), max(opts.RateBurst, 1))
	}
	mux := http.NewServeMux()
	for _, prefix := range []string{"", "/v1"} {
		mux.HandleFunc(prefix+"/chat/completions", func(w http.ResponseWriter, r *http.Request) { s.generate(w, r, "chat") })
		mux.HandleFunc(prefix+"/completions", func(w http.ResponseWriter, r *http.Request) { s.generate(w, r, "completions") })
		mux.HandleFunc(prefix+"/models", s.models)
		mux.HandleFunc(prefix+"/embeddings", s.embeddings)
		mux.HandleFunc("POST "+prefix+"/files", s.uploadFile)
		mux.HandleFunc("GET "+prefix+"/files/{id}/content", s.fileContent)
		mux.HandleFunc("POST "+prefix+"/batches", s.createBatch)
		mux.HandleFunc("GET "+prefix+"/batches", s.listBatches)
		mux.HandleFunc("GET "+prefix+"/batches/{id}", s.getBatch)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "unknown_url", "Unknown request URL: "+r.Method+" "+r.URL.Path)
	})
	s.srv = httptest.NewServer(mux)
	return s
}

// StartOpenAIServer starts a server on loopback and closes it when the test
// ends.
func StartOpenAIServer(t testing.TB, opts ServerOptions) *OpenAIServer {
	t.Helper()
	s := NewOpenAIServer(opts)
	t.Cleanup(s.Close)
	return s
}

// URL returns the base URL of the API, ending in /v1 (what OpenAI clients
// call the base URL).
func (s *OpenAIServer) URL() string { return s.srv.URL + "/v1" }

// RootURL returns the server's address without the /v1 prefix.
func (s *OpenAIServer) RootURL() string { return s.srv.URL }

// Close ends slow responses, closes client connections and shuts the server
// down. It may be called more than once.
func (s *OpenAIServer) Close() {
	s.once.Do(func() {
		close(s.done)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// Requests returns how many generation requests (chat or plain completions)
// the server has received, faulted or not.
func (s *OpenAIServer) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// PromptCounts returns how many generation requests carried each prompt
// (the last user message, or a completion's prompt).
func (s *OpenAIServer) PromptCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyCounts(s.promptCounts)
}

// AnsweredCounts returns, per prompt, how many requests were sent a
// complete, successful answer (status 200, well-formed body with choices).
func (s *OpenAIServer) AnsweredCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyCounts(s.answeredCounts)
}

// Answered returns how many requests got a complete, successful answer.
func (s *OpenAIServer) Answered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.answeredCounts {
		n += c
	}
	return n
}

// FaultCounts returns how many requests got each fault kind (FaultNone
// included). Requests refused before the fault decision (401, 400 for a
// malformed body, 404 for an unknown model) are not counted.
func (s *OpenAIServer) FaultCounts() map[FaultKind]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[FaultKind]int, len(s.faultCounts))
	for k, v := range s.faultCounts {
		m[k] = v
	}
	return m
}

// Recorded returns a copy of the recorded generation requests in arrival
// order (Seq). A request is recorded as it arrives, and its Fault and Status
// are filled in before the client can see the response; with RecordLimit
// set, only the last ones are kept.
func (s *OpenAIServer) Recorded() []RecordedRequest {
	s.mu.Lock()
	recs := make([]RecordedRequest, len(s.recorded))
	for i, r := range s.recorded {
		recs[i] = *r
	}
	s.mu.Unlock()
	sort.Slice(recs, func(i, j int) bool { return recs[i].Seq < recs[j].Seq })
	return recs
}

// LastRequest returns the recorded generation request that arrived last,
// and false when there is none.
func (s *OpenAIServer) LastRequest() (RecordedRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.recorded) == 0 {
		return RecordedRequest{}, false
	}
	last := s.recorded[0]
	for _, r := range s.recorded[1:] {
		if r.Seq > last.Seq {
			last = r
		}
	}
	return *last, true
}

// MaxInFlight returns the largest number of generation requests the server
// was handling at the same time.
func (s *OpenAIServer) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// Usage returns the prompt and completion tokens reported in all successful
// answers.
func (s *OpenAIServer) Usage() (promptTokens, completionTokens int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.promptTokens, s.complTokens
}

func copyCounts(m map[string]int) map[string]int {
	c := make(map[string]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// models answers GET /v1/models.
func (s *OpenAIServer) models(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed", "use GET")
		return
	}
	if !s.authorized(w, r) {
		return
	}
	names := s.opts.Models
	if len(names) == 0 {
		names = []string{"mores-test"}
	}
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	list := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list"}
	for _, n := range names {
		list.Data = append(list.Data, model{ID: n, Object: "model", Created: 1700000000, OwnedBy: "mores"})
	}
	writeJSON(w, http.StatusOK, list)
}

// authorized checks the Authorization header against RequireKey and writes
// a 401 when it does not match.
func (s *OpenAIServer) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.RequireKey == "" {
		return true
	}
	got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if got == s.opts.RequireKey {
		return true
	}
	writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
		fmt.Sprintf("Incorrect API key provided: %s.", got))
	return false
}

// generate handles the chat and plain completions endpoints.
func (s *OpenAIServer) generate(w http.ResponseWriter, r *http.Request, endpoint string) {
	received := time.Now()
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed", "use POST")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "reading the body: "+err.Error())
		return
	}
	req, decodeErr := decodeChatRequest(endpoint, body)
	prompt := req.UserPrompt()

	header := r.Header.Clone()
	if header.Get("Authorization") != "" {
		header.Set("Authorization", "[present]")
	}
	s.mu.Lock()
	s.requests++
	s.promptCounts[prompt]++
	attempt := s.promptCounts[prompt]
	seq := s.requests
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)

	rec := &RecordedRequest{Seq: seq, Received: received, Method: r.Method, Path: r.URL.Path, Body: body, Chat: req, Attempt: attempt, Header: header}
	s.recorded = append(s.recorded, rec)
	if l := s.opts.RecordLimit; l > 0 && len(s.recorded) > l {
		s.recorded = s.recorded[len(s.recorded)-l:]
	}
	s.mu.Unlock()

	// Every change to the record is made before the client can see the
	// response, so that a client that has its answer (or error) finds the
	// server's counts up to date.
	var left sync.Once
	leave := func() {
		left.Do(func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		})
	}
	defer leave()
	sw := &statusWriter{ResponseWriter: w, s: s, rec: rec}
	if abort := s.serveGeneration(sw, r, req, decodeErr, attempt, rec, leave); abort {
		leave()
		// End the connection without a response rather than let net/http
		// send an empty 200.
		panic(http.ErrAbortHandler)
	}
}

// statusWriter records the status of a response in its RecordedRequest as
// the header is written.
type statusWriter struct {
	http.ResponseWriter
	s   *OpenAIServer
	rec *RecordedRequest
}

// WriteHeader records the status, then writes the header.
func (w *statusWriter) WriteHeader(status int) {
	w.s.mu.Lock()
	w.rec.Status = status
	w.s.mu.Unlock()
	w.ResponseWriter.WriteHeader(status)
}

// Hijack lets FaultDrop take over the connection.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	return hj.Hijack()
}

// serveGeneration answers one decoded generation request. It reports
// whether the connection must be aborted because no response was written.
// leave marks the request as no longer in flight; it is called before a
// dropped connection is closed.
func (s *OpenAIServer) serveGeneration(w http.ResponseWriter, r *http.Request, req ChatRequest, decodeErr error, attempt int, rec *RecordedRequest, leave func()) (abort bool) {
	if s.opts.RequireKey != "" && !s.authorized(w, r) {
		return false
	}
	if decodeErr != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "We could not parse the JSON body of your request: "+decodeErr.Error())
		return false
	}
	if msg := validate(req); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", msg)
		return false
	}
	if len(s.opts.Models) > 0 && !contains(s.opts.Models, req.Model) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "model_not_found",
			fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", req.Model))
		return false
	}
	if s.bucket != nil && !s.bucket.Allow() {
		s.mu.Lock()
		rec.Fault = FaultRateLimit
		s.faultCounts[FaultRateLimit]++
		s.mu.Unlock()
		writeError(w, http.StatusTooManyRequests, "requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later.")
		return false
	}
	if !s.sleep(r.Context(), s.opts.Latency) {
		return true
	}
	plan := s.opts.Faults
	fault := plan.decide(req.UserPrompt(), attempt)
	s.mu.Lock()
	rec.Fault = fault
	s.faultCounts[fault]++
	s.mu.Unlock()
	switch fault {
	case FaultRateLimit:
		ra := plan.RetryAfterHeader
		if ra == "" {
			d := plan.RetryAfter
			if d <= 0 {
				d = time.Second
			}
			ra = fmt.Sprint(int64(math.Ceil(d.Seconds())))
		}
		w.Header().Set("Retry-After", ra)
		writeError(w, http.StatusTooManyRequests, "requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later.")
		return false
	case FaultServerError:
		writeError(w, http.StatusInternalServerError, "server_error", "", "The server had an error while processing your request.")
		return false
	case FaultUnavailable:
		writeError(w, http.StatusServiceUnavailable, "server_error", "", "The engine is currently overloaded, please try again later.")
		return false
	case FaultBadRequest:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Scripted bad request.")
		return false
	case FaultDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				leave()
				conn.Close()
				return false
			}
		}
		return true
	case FaultSlow:
		d := plan.SlowDelay
		if d <= 0 {
			d = 30 * time.Second
		}
		if !s.sleep(r.Context(), d) {
			return true
		}
	}

	usage, body := s.answer(req)
	switch fault {
	case FaultTruncated:
		half := body[:len(body)/2]
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(half)))
		w.WriteHeader(http.StatusOK)
		w.Write(half)
		return false
	case FaultEmptyChoices:
		var m map[string]any
		json.Unmarshal(body, &m)
		m["choices"] = []any{}
		writeJSON(w, http.StatusOK, m)
		return false
	}
	s.mu.Lock()
	s.answeredCounts[req.UserPrompt()]++
	s.promptTokens += usage.PromptTokens
	s.complTokens += usage.CompletionTokens
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	return false
}

// sleep waits d, and reports false when the request or the server ended
// first.
func (s *OpenAIServer) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

// validate returns what is wrong with a request, or "".
func validate(req ChatRequest) string {
	switch {
	case req.Model == "":
		return "you must provide a model parameter"
	case req.Stream:
		return "this test server does not stream; set stream to false"
	case req.Endpoint == "chat" && len(req.Messages) == 0:
		return "'messages' must contain at least one message"
	case req.Endpoint == "completions" && len(req.Prompt) == 0:
		return "you must provide a prompt"
	case req.Temperature != nil && (*req.Temperature < 0 || *req.Temperature > 2):
		return fmt.Sprintf("%v is not a valid temperature: it must be between 0 and 2", *req.Temperature)
	case req.TopP != nil && (*req.TopP < 0 || *req.TopP > 1):
		return fmt.Sprintf("%v is not a valid top_p: it must be between 0 and 1", *req.TopP)
	case req.N != nil && (*req.N < 1 || *req.N > 128):
		return "n must be between 1 and 128"
	case req.maxTokens() < 0:
		return "max_tokens must be positive"
	}
	for _, m := range req.Messages {
		switch m.Role {
		case "system", "developer", "user", "assistant", "tool":
		default:
			return fmt.Sprintf("%q is not a valid role", m.Role)
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// usage is the token usage of an answer; whitespace-separated words stand
// in for tokens.
type usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

// answer computes the answer's usage and the response body.
func (s *OpenAIServer) answer(req ChatRequest) (usage, []byte) {
	var text string
	if s.opts.Respond != nil {
		text = s.opts.Respond(req)
	} else {
		text = "Canned reply to: " + req.UserPrompt()
	}
	finish := "stop"
	for _, stop := range req.Stop {
		if stop == "" {
			continue
		}
		if i := strings.Index(text, stop); i >= 0 {
			text = text[:i]
		}
	}
	if mt := req.maxTokens(); mt > 0 {
		if words := strings.Fields(text); len(words) > mt {
			text = strings.Join(words[:mt], " ")
			finish = "length"
		}
	}
	var promptWords int
	for _, m := range req.Messages {
		promptWords += len(strings.Fields(m.Content))
	}
	for _, p := range req.Prompt {
		promptWords += len(strings.Fields(p))
	}
	echo := req.Endpoint == "completions" && req.Echo
	if echo && req.MaxTokens != nil && *req.MaxTokens == 0 && req.MaxCompletionTokens == nil {
		text, finish = "", "length"
	}
	u := usage{PromptTokens: int64(promptWords), CompletionTokens: int64(len(strings.Fields(text)))}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	generated := text
	if echo && len(req.Prompt) > 0 {
		text = req.Prompt[0] + text
	}

	var logprobs []TokenLogprob
	if req.Logprobs {
		switch {
		case s.opts.Logprobs != nil:
			logprobs = s.opts.Logprobs(req, text)
		case echo:
			logprobs = defaultEchoLogprobs(strings.TrimSuffix(text, generated), generated)
		default:
			top := 0
			if req.TopLogprobs != nil {
				top = *req.TopLogprobs
			}
			logprobs = defaultLogprobs(text, top)
		}
	}

	n := 1
	if req.N != nil {
		n = *req.N
	}
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.mu.Unlock()

	var out any
	if req.Endpoint == "completions" {
		type choice struct {
			Text         string `json:"text"`
			Index        int    `json:"index"`
			FinishReason string `json:"finish_reason"`
			Logprobs     any    `json:"logprobs"`
		}
		var lp any
		if logprobs != nil {
			lp = completionLogprobs(logprobs, echo)
		}
		choices := make([]choice, n)
		for i := range choices {
			choices[i] = choice{Text: text, Index: i, FinishReason: finish, Logprobs: lp}
		}
		out = map[string]any{
			"id": fmt.Sprintf("cmpl-%d", id), "object": "text_completion", "created": time.Now().Unix(),
			"model": req.Model, "choices": choices, "usage": u,
		}
	} else {
		type message struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		}
		type choice struct {
			Index        int     `json:"index"`
			Message      message `json:"message"`
			FinishReason string  `json:"finish_reason"`
			Logprobs     any     `json:"logprobs"`
		}
		var lp any
		if logprobs != nil {
			lp = map[string]any{"content": logprobs}
		}
		choices := make([]choice, n)
		for i := range choices {
			choices[i] = choice{Index: i, Message: message{Role: "assistant", Content: text}, FinishReason: finish, Logprobs: lp}
		}
		out = map[string]any{
			"id": fmt.Sprintf("chatcmpl-%d", id), "object": "chat.completion", "created": time.Now().Unix(),
			"model": req.Model, "choices": choices, "usage": u, "system_fingerprint": "fp_mores",
		}
	}
	body, err := json.Marshal(out)
	if err != nil {
		panic(fmt.Sprintf("benchtest: encoding an answer: %v", err))
	}
	return u, body
}

// defaultLogprobs makes deterministic log probabilities: each word is a
// token (with its leading space), the chosen token has logprob -0.1*(i%5+1)
// and the k-th alternative "altk" is k nats less likely.
func defaultLogprobs(text string, top int) []TokenLogprob {
	var out []TokenLogprob
	for i, w := range strings.Fields(text) {
		tok := w
		if i > 0 {
			tok = " " + w
		}
		lp := -0.1 * float64(i%5+1)
		t := TokenLogprob{Token: tok, Logprob: lp, Bytes: []byte(tok), TopLogprobs: []TopLogprob{}}
		if top > 0 {
			t.TopLogprobs = append(t.TopLogprobs, TopLogprob{Token: tok, Logprob: lp, Bytes: []byte(tok)})
			for k := 1; k < top; k++ {
				alt := fmt.Sprintf("alt%d", k)
				t.TopLogprobs = append(t.TopLogprobs, TopLogprob{Token: alt, Logprob: lp - float64(k), Bytes: []byte(alt)})
			}
		}
		out = append(out, t)
	}
	return out
}

// SplitTokens splits text into tokens that spell it exactly: each token is a
// run of white space (possibly empty) followed by a run of other characters,
// and trailing white space is a token of its own. "Q: Hi\nA:" is "Q:", " Hi",
// "\nA:". Tests use it to script echo log probabilities.
func SplitTokens(text string) []string {
	var out []string
	start := 0
	inWord := false
	for i, r := range text {
		space := r == ' ' || r == '\t' || r == '\n' || r == '\r'
		if space && inWord {
			out = append(out, text[start:i])
			start = i
		}
		inWord = !space
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// defaultEchoLogprobs gives each token of SplitTokens(prompt) and then of
// SplitTokens(generated) the log probability -0.1 × its length in bytes.
func defaultEchoLogprobs(prompt, generated string) []TokenLogprob {
	var out []TokenLogprob
	for _, tok := range append(SplitTokens(prompt), SplitTokens(generated)...) {
		out = append(out, TokenLogprob{Token: tok, Logprob: -0.1 * float64(len(tok)), TopLogprobs: []TopLogprob{}})
	}
	return out
}

// completionLogprobs renders token log probabilities in the legacy
// completions format; with echo the first token's logprob is null (it has
// no context), as OpenAI and vLLM send it.
func completionLogprobs(ts []TokenLogprob, echo bool) map[string]any {
	tokens := make([]string, len(ts))
	lps := make([]any, len(ts))
	tops := make([]map[string]float64, len(ts))
	offsets := make([]int, len(ts))
	off := 0
	for i, t := range ts {
		tokens[i], lps[i], offsets[i] = t.Token, t.Logprob, off
		if echo && i == 0 {
			lps[i] = nil
		}
		off += utf8.RuneCountInString(t.Token)
		tops[i] = map[string]float64{}
		for _, a := range t.TopLogprobs {
			tops[i][a.Token] = a.Logprob
		}
	}
	return map[string]any{"tokens": tokens, "token_logprobs": lps, "top_logprobs": tops, "text_offset": offsets}
}

// writeError writes an error in OpenAI's format.
func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	e := map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}
	if code != "" {
		e["code"] = code
	}
	writeJSON(w, status, map[string]any{"error": e})
}

// writeJSON writes v as a JSON body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		panic(fmt.Sprintf("benchtest: encoding JSON: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
