package main

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// server is a lean OpenAI-compatible chat completions endpoint on loopback.
// It answers every POST to /v1/chat/completions with one of two canned
// bodies, encoded once at start (a refusal for a quarter of the prompts,
// chosen by a hash of the request body, and a short helpful answer for the
// rest), after an optional fixed latency. It decodes no JSON and keeps no
// record of requests, only their count, so that its cost per request is as
// small as the wire allows and its memory is flat: the figures measure the
// client, not the server.
type server struct {
	latency  time.Duration
	requests atomic.Int64
	// first and last are the times (Unix nanoseconds) of the first request
	// received and the last answer sent.
	first, last atomic.Int64
	ln          net.Listener
	srv         *http.Server
	bodies      [2][]byte
	bufs        sync.Pool
	// limiter, when set, is a hidden rate limit: a request over it gets
	// 429 at once, without Retry-After (ratelimit.go).
	limiter   *rate.Limiter
	throttled atomic.Int64
}

// startServer listens on a free loopback port and serves until close.
func startServer(latency time.Duration) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{latency: latency, ln: ln}
	s.bodies[0] = cannedBody("Sure. Here is a short, careful answer: start with the basics, work through each step in order, and check the result as you go. Would you like an example?", 34)
	s.bodies[1] = cannedBody("I'm sorry, but I can't help with that request.", 11)
	s.bufs.New = func() any { return new(bytes.Buffer) }
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.chat)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// cannedBody encodes a chat completion answering text.
func cannedBody(text string, completionTokens int) []byte {
	type message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	type choice struct {
		Index        int     `json:"index"`
		Message      message `json:"message"`
		FinishReason string  `json:"finish_reason"`
	}
	type usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	}
	b, err := json.Marshal(struct {
		ID      string   `json:"id"`
		Object  string   `json:"object"`
		Created int64    `json:"created"`
		Model   string   `json:"model"`
		Choices []choice `json:"choices"`
		Usage   usage    `json:"usage"`
	}{"chatcmpl-perf", "chat.completion", 1700000000, "perf", []choice{{0, message{"assistant", text}, "stop"}},
		usage{24, completionTokens, 24 + completionTokens}})
	if err != nil {
		panic(err) // fixed strings and numbers always encode
	}
	return b
}

// URL is the base URL of the endpoint, ending in /v1.
func (s *server) URL() string { return "http://" + s.ln.Addr().String() + "/v1" }

// Requests counts the requests answered so far.
func (s *server) Requests() int64 { return s.requests.Load() }

func (s *server) chat(w http.ResponseWriter, r *http.Request) {
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := io.Copy(buf, r.Body)
	h := fnv.New32a()
	h.Write(buf.Bytes())
	s.bufs.Put(buf)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if s.limiter != nil && !s.limiter.Allow() {
		s.throttled.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write(rateLimitBody)
		return
	}
	s.requests.Add(1)
	s.first.CompareAndSwap(0, time.Now().UnixNano())
	if s.latency > 0 {
		time.Sleep(s.latency)
	}
	defer func() { s.last.Store(time.Now().UnixNano()) }()
	body := s.bodies[0]
	if h.Sum32()%4 == 0 {
		body = s.bodies[1]
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// window returns the times of the first request and the last answer since
// the last reset, and resets them.
func (s *server) window() (first, last time.Time) {
	return time.Unix(0, s.first.Swap(0)), time.Unix(0, s.last.Swap(0))
}

// close stops the server.
func (s *server) close() error { return s.srv.Close() }
