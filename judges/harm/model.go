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
const magic = "MORESHARM1"

// Classifier is a logistic-regression model over hashed n-gram features of a
// prompt and a response. A Classifier is read-only once built, so it is safe
// for concurrent use.
type Classifier struct {
	bits      uint      // log2 of the size of the weight table
	flags     uint32    // feature groups (FlagPrompt, FlagChars)
	threshold float64   // decision threshold on the probability
	bias      float32   // intercept
	w         []float32 // weights, 1<<bits of them
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

// TableBits returns log2 of the number of hashed feature weights.
func (c *Classifier) TableBits() uint { return c.bits }

// Prob returns the probability that response is harmful compliance with
// prompt.
func (c *Classifier) Prob(prompt, response string) float64 {
	sc := scratchPool.Get().(*scratch)
	extract(sc, prompt, response, c.flags, c.bits)
	z := c.bias
	for _, f := range sc.feats {
		z += c.w[f.idx] * f.val
	}
	scratchPool.Put(sc)
	return sigmoid(float64(z))
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// MarshalBinary encodes the classifier as a gzip stream of: the magic
// string, the table bits, the flags (uint32), the threshold (float64), the
// bias and the weights (float32), all little-endian. The encoding is
// deterministic: the same classifier gives the same bytes.
func (c *Classifier) MarshalBinary() ([]byte, error) {
	var raw bytes.Buffer
	raw.WriteString(magic)
	le := binary.LittleEndian
	raw.Write(le.AppendUint32(nil, uint32(c.bits)))
	raw.Write(le.AppendUint32(nil, c.flags))
	raw.Write(le.AppendUint64(nil, math.Float64bits(c.threshold)))
	raw.Write(le.AppendUint32(nil, math.Float32bits(c.bias)))
	buf := make([]byte, 0, 4*len(c.w))
	for _, v := range c.w {
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
	const header = len(magic) + 4 + 4 + 8 + 4
	if len(raw) < header || string(raw[:len(magic)]) != magic {
		return nil, errors.New("model file: not a harm model (bad magic)")
	}
	le := binary.LittleEndian
	p := raw[len(magic):]
	c := &Classifier{
		bits:      uint(le.Uint32(p[0:])),
		flags:     le.Uint32(p[4:]),
		threshold: math.Float64frombits(le.Uint64(p[8:])),
		bias:      math.Float32frombits(le.Uint32(p[16:])),
	}
	if c.bits < 8 || c.bits > 26 {
		return nil, fmt.Errorf("model file: table bits %d out of range 8..26", c.bits)
	}
	p = p[20:]
	n := 1 << c.bits
	if len(p) != 4*n {
		return nil, fmt.Errorf("model file: %d weight bytes, want %d", len(p), 4*n)
	}
	c.w = make([]float32, n)
	for i := range c.w {
		c.w[i] = math.Float32frombits(le.Uint32(p[4*i:]))
	}
	return c, nil
}
