package stats

import "math/bits"

// wyrand is the wyrand generator of Wang Yi (wyhash v4): a Weyl sequence
// mixed by one 64×64→128-bit multiplication. It passes BigCrush and
// PractRand, costs about a nanosecond per value, and its output for a seed
// is fixed by this code, so bootstrap results do not change with Go
// releases. It implements math/rand/v2.Source.
type wyrand struct{ state uint64 }

// newWyrand returns a generator for a seed and a stream number; distinct
// (seed, stream) pairs give unrelated sequences.
func newWyrand(seed, stream uint64) *wyrand {
	r := &wyrand{state: seed ^ 0x2d358dccaa6c78a5}
	// Mix the stream number in through one round of the generator so
	// nearby streams start far apart.
	r.state ^= stream * 0x9e3779b97f4a7c15
	r.Uint64()
	return r
}

// Uint64 returns the next value.
func (r *wyrand) Uint64() uint64 {
	r.state += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.state, r.state^0xe7037ed1a0b428db)
	return hi ^ lo
}

// index returns a value in [0, n) as the high word of a 64×64-bit product
// (Lemire's method without rejection; the bias, at most n/2⁶⁴, is far
// below any Monte Carlo error).
func (r *wyrand) index(n uint64) uint64 {
	i, _ := bits.Mul64(r.Uint64(), n)
	return i
}
