package bench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// The frames of a zstd journal. The writer (Journal.Flush) writes each
// frame with one system call, so a process killed at any moment leaves
// whole frames and at most one torn frame at the end; a crash of the
// machine may leave a garbled one there instead. frameReader walks a file
// frame by frame (RFC 8878: a frame header, blocks each with a 3-byte
// header giving its size, an optional checksum), so that it knows where
// each frame ends without decoding it, and drops a last frame that is cut
// short or does not decode.

const (
	zstdMagic          = 0xFD2FB528
	zstdSkippableFirst = 0x184D2A50
	zstdSkippableLast  = 0x184D2A5F
	// maxJournalFrame bounds the decoded size of one frame (the journal
	// writes frames of about journalFrameSize, or one long line).
	maxJournalFrame = 1 << 30
)

// frameError is a frame that cannot be read, not at the end of the file.
type frameError struct {
	off int64
	msg string
}

func (e *frameError) Error() string {
	return fmt.Sprintf("corrupt journal frame at byte %d: %s", e.off, e.msg)
}

var journalDecoders = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxJournalFrame),
		zstd.WithDecoderLowmem(true))
	if err != nil {
		panic(err) // only invalid options fail
	}
	return d
}}

// frameReader reads the frames of a zstd stream.
type frameReader struct {
	r   *bufio.Reader
	off int64 // of the next byte of r
	// fcs is the decoded size the last frame's header declares, -1 when
	// it declares none.
	fcs   int64
	raw   []byte
	plain []byte
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 1<<20)}
}

// errTorn is a frame cut short by the end of the file.
var errTorn = errors.New("torn frame")

// read appends n bytes of the stream to fr.raw.
func (fr *frameReader) read(n int) ([]byte, error) {
	start := len(fr.raw)
	fr.raw = append(fr.raw, make([]byte, n)...)
	k, err := io.ReadFull(fr.r, fr.raw[start:])
	fr.off += int64(k)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, errTorn
	}
	if err != nil {
		return nil, err
	}
	return fr.raw[start:], nil
}

// next reads the raw bytes of the next frame into fr.raw. It returns
// io.EOF at the end of the stream, errTorn when the stream ends inside the
// frame, a *frameError when the bytes are no zstd frame, and whether the
// frame is skippable (holds no data).
func (fr *frameReader) next() (skip bool, err error) {
	fr.raw = fr.raw[:0]
	if _, err := fr.r.Peek(1); errors.Is(err, io.EOF) {
		return false, io.EOF
	}
	start := fr.off
	b, err := fr.read(4)
	if err != nil {
		return false, err
	}
	magic := binary.LittleEndian.Uint32(b)
	if magic >= zstdSkippableFirst && magic <= zstdSkippableLast {
		b, err := fr.read(4)
		if err != nil {
			return false, err
		}
		n := binary.LittleEndian.Uint32(b)
		k, err := fr.r.Discard(int(n))
		fr.off += int64(k)
		if err != nil {
			return false, errTorn
		}
		return true, nil
	}
	if magic != zstdMagic {
		return false, &frameError{off: start, msg: fmt.Sprintf("no zstd frame (magic %#08x)", magic)}
	}
	b, err = fr.read(1)
	if err != nil {
		return false, err
	}
	fhd := b[0]
	single := fhd&0x20 != 0
	checksum := fhd&0x04 != 0
	n := [4]int{0, 1, 2, 4}[fhd&0x03] // dictionary id
	if !single {
		n++ // window descriptor
	}
	fcsSize := [4]int{0, 2, 4, 8}[fhd>>6] // frame content size
	if fhd>>6 == 0 && single {
		fcsSize = 1
	}
	hdr, err := fr.read(n + fcsSize)
	if err != nil {
		return false, err
	}
	fr.fcs = -1
	switch f := hdr[n:]; fcsSize {
	case 1:
		fr.fcs = int64(f[0])
	case 2:
		fr.fcs = int64(binary.LittleEndian.Uint16(f)) + 256
	case 4:
		fr.fcs = int64(binary.LittleEndian.Uint32(f))
	case 8:
		fr.fcs = int64(binary.LittleEndian.Uint64(f))
	}
	for {
		b, err := fr.read(3)
		if err != nil {
			return false, err
		}
		h := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
		last, typ, size := h&1 != 0, (h>>1)&3, int(h>>3)
		switch typ {
		case 1: // RLE: one byte repeated size times
			size = 1
		case 3:
			return false, &frameError{off: start, msg: "reserved block type"}
		}
		if _, err := fr.read(size); err != nil {
			return false, err
		}
		if last {
			break
		}
	}
	if checksum {
		if _, err := fr.read(4); err != nil {
			return false, err
		}
	}
	return false, nil
}

// frames calls fn for each complete frame of the stream with the offset
// just past it and, when decode is set, its decoded bytes (else nil). The
// last frame is always decoded, to tell whether it is whole: a last frame
// cut short or that does not decode is dropped silently. A frame before
// the last that does not decode is a *frameError.
func (fr *frameReader) frames(decode bool, fn func(end int64, plain []byte) error) error {
	dec := journalDecoders.Get().(*zstd.Decoder)
	defer journalDecoders.Put(dec)
	for {
		start := fr.off
		skip, err := fr.next()
		if errors.Is(err, io.EOF) || errors.Is(err, errTorn) {
			return nil
		}
		if err != nil {
			return err
		}
		_, perr := fr.r.Peek(1)
		last := errors.Is(perr, io.EOF)
		var plain []byte
		if !skip && (decode || last) {
			plain, err = dec.DecodeAll(fr.raw, fr.plain[:0])
			if err != nil {
				if last {
					return nil // a garbled last frame: torn
				}
				return &frameError{off: start, msg: err.Error()}
			}
			fr.plain = plain
		}
		if err := fn(fr.off, plain); err != nil {
			return err
		}
	}
}

// compactFrameSize is the size of the lines of each frame CompactJournal
// writes.
const compactFrameSize = 1 << 20

// compactBelow is the mean decoded frame size below which CompactJournal
// rewrites a journal (a frame of the journal's writer declares its decoded
// size in its header): below it, frames hold about ten trials or fewer.
const compactBelow = 8 << 10

// CompactJournal rewrites the zstd journal of the run directory dir in
// frames of about a megabyte of lines when its frames are small: a run
// that finishes a few trials at a time (a slow model) flushes each few as
// one frame, and small frames compress poorly. The lines do not change.
// The new journal is written beside the old one and renamed over it, so a
// process killed meanwhile leaves the old journal (and a temporary file
// that RemoveStaleTemps removes). The caller holds the directory's lock. A
// plain journal is left as it is. It reports whether it rewrote.
func CompactJournal(dir string) (bool, error) {
	path := JournalPath(dir)
	if !compressed(path) {
		return false, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	var frames int
	var size int64 // decoded
	fr := newFrameReader(f)
	if err := fr.frames(false, func(end int64, plain []byte) error {
		frames++
		switch {
		case plain != nil:
			size += int64(len(plain))
		case fr.fcs >= 0:
			size += fr.fcs
		default:
			size += compactBelow // unknown: do not count it as small
		}
		return nil
	}); err != nil {
		return false, err
	}
	if frames <= 1 || size/int64(frames) >= compactBelow {
		return false, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(dir, "."+JournalFile+".compact-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name()) // nothing left there once renamed
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	if err != nil {
		tmp.Close()
		return false, err
	}
	defer enc.Close()
	var buf, frame []byte
	write := func() error {
		if len(buf) == 0 {
			return nil
		}
		frame = enc.EncodeAll(buf, frame[:0])
		buf = buf[:0]
		_, err := tmp.Write(frame)
		return err
	}
	err = newFrameReader(f).frames(true, func(_ int64, plain []byte) error {
		buf = append(buf, plain...)
		if len(buf) >= compactFrameSize && buf[len(buf)-1] == '\n' {
			return write()
		}
		return nil
	})
	if err == nil {
		err = write()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return false, fmt.Errorf("compacting %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return true, nil
}
