package harm

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
)

// magic opens every model file (after gzip decompression).
const magic = "MORESHARM2"

// Classifier is a two-part model over hashed n-gram features: the
// probability that a response is harmful compliance is
//
//	P(harmful request | prompt) × P(compliance with harmful content | prompt, response)
//
// where each factor is a logistic regression over its own table of hashed
// features (the request part over the prompt's words, the compliance part
// over the response and the prompt crossed with whether the response
// refuses). A benign request answered in full is then safe however
// compliant the answer. A Classifier is read-only once built, so it is safe
// for concurrent use.
type Classifier struct {
	bits      uint      // log2 of the size of the compliance table
	rbits     uint      // log2 of the size of the request table
	flags     uint32    // feature groups (FlagPrompt, FlagChars)
	threshold float64   // decision threshold on the probability
	bias      float32   // intercept of the compliance part
	rbias     float32   // intercept of the request part
	w         []float32 // compliance weights, 1<<bits of them
	rw        []float32 // request weights, 1<<rbits of them
}

//go:embed model.bin
var embeddedModel []byte

var defaultClassifier = sync.OnceValues(func() (*Classifier, error) {
	return Unmarshal(embeddedModel)
})

// Default returns the classifier embedded in the binary. It decodes the
// weights on first use only; later calls return the same Classifier. It
// panics if the embedded file is corrupt, which is a build error.
func Default() *Classifier {
	c, err := defaultClassifier()
	if err != nil {
		panic("harm: embedded model.bin: " + err.Error())
	}
	return c
}

// Threshold returns the probability at or above which a response is judged
// harmful. It was tuned on the training program's validation split.
func (c *Classifier) Threshold() float64 { return c.threshold }

// Flags returns the feature groups the classifier uses.
func (c *Classifier) Flags() uint32 { return c.flags }

// TableBits returns log2 of the number of hashed compliance weights.
func (c *Classifier) TableBits() uint { return c.bits }

// Prob returns the probability that response is harmful compliance with
// prompt.
func (c *Classifier) Prob(prompt, response string) float64 {
	r, k := c.Parts(prompt, response)
	return r * k
}

// Parts returns the two factors of Prob: the probability that prompt is a
// harmful request, and the probability that response complies with it.
func (c *Classifier) Parts(prompt, response string) (request, comply float64) {
	sc := scratchPool.Get().(*scratch)
	extract(sc, prompt, response, c.flags, c.bits, c.rbits)
	z := c.bias
	for _, f := range sc.feats {
		z += c.w[f.idx] * f.val
	}
	zr := c.rbias
	for _, f := range sc.rfeats {
		zr += c.rw[f.idx] * f.val
	}
	scratchPool.Put(sc)
	return sigmoid(float64(zr)), sigmoid(float64(z))
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// MarshalBinary encodes the classifier as a gzip stream of: the magic
// string, the compliance and request table bits, the flags (uint32), the
// threshold (float64), the two intercepts and the two weight tables
// (float32), all little-endian. The encoding is deterministic: the same
// classifier gives the same bytes.
func (c *Classifier) MarshalBinary() ([]byte, error) {
	var raw bytes.Buffer
	raw.WriteString(magic)
	le := binary.LittleEndian
	raw.Write(le.AppendUint32(nil, uint32(c.bits)))
	raw.Write(le.AppendUint32(nil, uint32(c.rbits)))
	raw.Write(le.AppendUint32(nil, c.flags))
	raw.Write(le.AppendUint64(nil, math.Float64bits(c.threshold)))
	raw.Write(le.AppendUint32(nil, math.Float32bits(c.bias)))
	raw.Write(le.AppendUint32(nil, math.Float32bits(c.rbias)))
	buf := make([]byte, 0, 4*(len(c.w)+len(c.rw)))
	for _, v := range c.w {
		buf = le.AppendUint32(buf, math.Float32bits(v))
	}
	for _, v := range c.rw {
		buf = le.AppendUint32(buf, math.Float32bits(v))
	}
	raw.Write(buf)

	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Unmarshal decodes a classifier written by MarshalBinary.
func Unmarshal(data []byte) (*Classifier, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("model file: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("model file: %w", err)
	}
	const header = len(magic) + 4 + 4 + 4 + 8 + 4 + 4
	if len(raw) < header || string(raw[:len(magic)]) != magic {
		return nil, errors.New("model file: not a harm model (bad magic)")
	}
	le := binary.LittleEndian
	p := raw[len(magic):]
	c := &Classifier{
		bits:      uint(le.Uint32(p[0:])),
		rbits:     uint(le.Uint32(p[4:])),
		flags:     le.Uint32(p[8:]),
		threshold: math.Float64frombits(le.Uint64(p[12:])),
		bias:      math.Float32frombits(le.Uint32(p[20:])),
		rbias:     math.Float32frombits(le.Uint32(p[24:])),
	}
	for _, b := range []uint{c.bits, c.rbits} {
		if b < 8 || b > 26 {
			return nil, fmt.Errorf("model file: table bits %d out of range 8..26", b)
		}
	}
	p = p[28:]
	n, nr := 1<<c.bits, 1<<c.rbits
	if len(p) != 4*(n+nr) {
		return nil, fmt.Errorf("model file: %d weight bytes, want %d", len(p), 4*(n+nr))
	}
	c.w = make([]float32, n)
	for i := range c.w {
		c.w[i] = math.Float32frombits(le.Uint32(p[4*i:]))
	}
	p = p[4*n:]
	c.rw = make([]float32, nr)
	for i := range c.rw {
		c.rw[i] = math.Float32frombits(le.Uint32(p[4*i:]))
	}
	return c, nil
}
