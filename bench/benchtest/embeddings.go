package benchtest

import (
	"encoding/json"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"strings"
)

// embeddingDims is the length of the default embedding vectors.
const embeddingDims = 64

// DefaultEmbedding is the vector the server returns for a text when
// ServerOptions.Embed is nil: hashed lower-case words, unit length, so that
// texts sharing words are near.
func DefaultEmbedding(text string) []float32 {
	v := make([]float32, embeddingDims)
	for _, w := range strings.Fields(strings.ToLower(text)) {
		h := fnv.New32a()
		h.Write([]byte(strings.Trim(w, ".,;:!?'\"")))
		v[h.Sum32()%embeddingDims]++
	}
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n > 0 {
		for i := range v {
			v[i] /= float32(math.Sqrt(n))
		}
	}
	return v
}

// embeddings answers POST /v1/embeddings: one vector per input (a string or
// a list of strings), from ServerOptions.Embed or DefaultEmbedding. Every
// input is logged, in arrival order (EmbeddingInputs).
func (s *OpenAIServer) embeddings(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed", "use POST")
		return
	}
	if !s.authorized(w, r) {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "reading the body: "+err.Error())
		return
	}
	var req struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	var inputs []string
	if err := json.Unmarshal(body, &req); err != nil || req.Model == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "the body must be JSON with model and input")
		return
	}
	if json.Unmarshal(req.Input, &inputs) != nil {
		var one string
		if json.Unmarshal(req.Input, &one) != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "", "input must be a string or a list of strings")
			return
		}
		inputs = []string{one}
	}
	s.mu.Lock()
	s.embedInputs = append(s.embedInputs, inputs...)
	s.embedRequests++
	s.mu.Unlock()
	type datum struct {
		Object    string    `json:"object"`
		Embedding []float32 `json:"embedding"`
		Index     int       `json:"index"`
	}
	data := make([]datum, len(inputs))
	tokens := 0
	for i, in := range inputs {
		v := DefaultEmbedding(in)
		if s.opts.Embed != nil {
			v = s.opts.Embed(in)
		}
		data[i] = datum{Object: "embedding", Embedding: v, Index: i}
		tokens += len(strings.Fields(in))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens}})
}

// EmbeddingInputs returns every text sent to /v1/embeddings, in arrival
// order.
func (s *OpenAIServer) EmbeddingInputs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.embedInputs...)
}

// EmbeddingRequests returns how many requests /v1/embeddings answered.
func (s *OpenAIServer) EmbeddingRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.embedRequests
}
