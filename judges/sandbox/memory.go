package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"unicode"

	"github.com/mores-eval/mores/bench"
)

// DistanceThreshold is DISTANCE_THRESHOLD of the released code: a question
// whose cosine distance to a remembered one is below it recalls that one.
// It was set for OpenAI's text-embedding-ada-002.
const DistanceThreshold = 0.3

// LexicalThreshold is the threshold of the built-in lexical embedding,
// whose distances run higher than ada-002's for the same pair of texts: a
// question recalls a remembered one that shares most of its words.
// TestLexicalThreshold pins what it admits.
const LexicalThreshold = 0.45

// Embedder embeds texts for the agents' memories.
type Embedder interface {
	// Name identifies the embedding (recorded in the manifest).
	Name() string
	// Threshold is the cosine distance below which a memory is recalled.
	Threshold() float64
	// Embed returns one vector per text.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// Lexical is the offline embedding: hashed word unigrams and character
// trigrams of the lower-cased text, in 4096 dimensions, compared by cosine.
// It is a deviation from the released code, which embeds with
// text-embedding-ada-002, and has its own threshold (LexicalThreshold).
type Lexical struct{}

// Name implements Embedder.
func (Lexical) Name() string { return "lexical" }

// Threshold implements Embedder.
func (Lexical) Threshold() float64 { return LexicalThreshold }

// Embed implements Embedder.
func (Lexical) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = lexicalVector(t)
	}
	return out, nil
}

const lexicalDims = 4096

func lexicalVector(text string) []float32 {
	v := make([]float32, lexicalDims)
	add := func(kind, s string, w float32) {
		h := fnv.New32a()
		h.Write([]byte(kind))
		h.Write([]byte(s))
		x := h.Sum32()
		sign := float32(1)
		if x&1 == 1 {
			sign = -1
		}
		v[(x>>1)%lexicalDims] += sign * w
	}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' })
	for _, w := range words {
		add("w", w, 1)
		rs := []rune("^" + w + "$")
		for i := 0; i+3 <= len(rs); i++ {
			add("c", string(rs[i:i+3]), 0.5)
		}
	}
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n > 0 {
		s := float32(1 / math.Sqrt(n))
		for i := range v {
			v[i] *= s
		}
	}
	return v
}

// CosineDistance is 1 − cos(a, b), as openai.embeddings_utils computes it
// (scipy's cosine distance); it is 1 when either vector is zero.
func CosineDistance(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range min(len(a), len(b)) {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 1
	}
	return 1 - dot/math.Sqrt(na*nb)
}

// VectorEmbedder is a model that embeds texts, such as an openai.Model
// (POST /v1/embeddings).
type VectorEmbedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// Remote is an Embedder backed by an embedding endpoint, with DistanceThreshold.
type Remote struct {
	Spec  string // the spec, for the manifest (never a secret)
	Model VectorEmbedder
}

// Name implements Embedder.
func (r Remote) Name() string { return r.Spec }

// Threshold implements Embedder.
func (r Remote) Threshold() float64 { return DistanceThreshold }

// Embed implements Embedder.
func (r Remote) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return r.Model.Embed(ctx, texts)
}

// embedCache remembers the vectors of texts during a run, and keeps them in
// the response cache (when there is one) so that a resumed or repeated run
// asks the embedding endpoint nothing it asked before.
type embedCache struct {
	e     Embedder
	store *bench.ModelCache // nil: none

	mu   sync.Mutex
	vecs map[string][]float32
}

func newEmbedCache(e Embedder, c *bench.Cache) *embedCache {
	ec := &embedCache{e: e, vecs: map[string][]float32{}}
	if _, local := e.(Lexical); c != nil && !local {
		ec.store = c.Model("sandbox-embedding|" + e.Name())
	}
	return ec
}

func (c *embedCache) key(text string) string {
	return c.store.Key(bench.Request{Messages: []bench.Message{{Role: "user", Content: text}}})
}

// ensure embeds the texts not yet known, in batches of 256.
func (c *embedCache) ensure(ctx context.Context, texts []string) error {
	c.mu.Lock()
	var missing []string
	seen := map[string]bool{}
	for _, t := range texts {
		if _, ok := c.vecs[t]; ok || seen[t] {
			continue
		}
		seen[t] = true
		if c.store != nil {
			if comp, ok := c.store.Get(ctx, c.key(t)); ok {
				var v []float32
				if json.Unmarshal([]byte(comp.Text), &v) == nil && len(v) > 0 {
					c.vecs[t] = v
					continue
				}
			}
		}
		missing = append(missing, t)
	}
	c.mu.Unlock()
	for len(missing) > 0 {
		batch := missing[:min(256, len(missing))]
		missing = missing[len(batch):]
		// As Agent.get_embedding and openai.embeddings_utils.get_embedding
		// send it: stripped, newlines as spaces.
		inputs := make([]string, len(batch))
		for i, t := range batch {
			inputs[i] = strings.ReplaceAll(strings.TrimSpace(t), "\n", " ")
		}
		vecs, err := c.e.Embed(ctx, inputs)
		if err != nil {
			return fmt.Errorf("embedding: %w", err)
		}
		if len(vecs) != len(batch) {
			return fmt.Errorf("embedding: %d vectors for %d texts", len(vecs), len(batch))
		}
		c.mu.Lock()
		for i, t := range batch {
			c.vecs[t] = vecs[i]
			if c.store != nil {
				b, _ := json.Marshal(vecs[i])
				c.store.Put(c.key(t), bench.Completion{Text: string(b)})
			}
		}
		c.mu.Unlock()
	}
	return nil
}

func (c *embedCache) get(text string) []float32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.vecs[text]
}

// Memory is an agent's internal memory: question → answer, with the
// question's embedding, in the order saved.
type Memory struct {
	qs   []string
	ans  []string
	embs [][]float32
	idx  map[string]int
}

// Len returns the number of remembered questions.
func (m *Memory) Len() int { return len(m.qs) }

// Save remembers the answer to a question unless the question is remembered
// already (save_int_memory keeps the first answer: `if question not in
// self.internal_mem.keys()`).
func (m *Memory) Save(question, answer string, emb []float32) {
	if m.idx == nil {
		m.idx = map[string]int{}
	}
	if _, ok := m.idx[question]; ok {
		return
	}
	m.idx[question] = len(m.qs)
	m.qs = append(m.qs, question)
	m.ans = append(m.ans, answer)
	m.embs = append(m.embs, emb)
}

// put sets the answer to a question, replacing an earlier one (the initial
// memory is a dict update: a later duplicate question replaces the answer
// in its first place).
func (m *Memory) put(question, answer string, emb []float32) {
	if i, ok := m.idx[question]; ok {
		m.ans[i] = answer
		return
	}
	m.Save(question, answer, emb)
}

// Recall returns the remembered question nearest to emb and its answer when
// their cosine distance is below threshold (the first of equally near
// ones, as numpy's argmin), else nil; it also returns the distance (1 for
// an empty memory).
func (m *Memory) Recall(emb []float32, threshold float64) (*History, float64) {
	best, bestD := -1, math.Inf(1)
	for i, e := range m.embs {
		if d := CosineDistance(emb, e); d < bestD {
			best, bestD = i, d
		}
	}
	if best < 0 {
		return nil, 1
	}
	if bestD < threshold {
		return &History{Question: m.qs[best], Answer: m.ans[best]}, bestD
	}
	return nil, bestD
}
