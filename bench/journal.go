package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Entry kinds in a journal.
const (
	EntryTrial  = "trial"  // a finished trial: request, completion or error, scores
	EntryScores = "scores" // scores added later to a journaled trial (mores judge, pair judges)
	EntryBatch  = "batch"  // a batch of requests submitted, created or finished (mores run --batch); see BatchInfo
)

// Entry is one line of the journal.
type Entry struct {
	Kind     string      `json:"k"`
	Index    int64       `json:"i"`
	Suite    string      `json:"suite"`
	SampleID string      `json:"sample_id"`
	Model    string      `json:"model"`
	Attack   string      `json:"attack"`
	Epoch    int         `json:"epoch"`
	Prompt   string      `json:"prompt,omitempty"`
	System   string      `json:"system,omitempty"`
	Messages []Message   `json:"messages,omitempty"`
	Result   *Completion `json:"c,omitempty"`
	Error    string      `json:"error,omitempty"`
	// Attempts counts the calls made for a failed trial (a finished one
	// has them in Result).
	Attempts int     `json:"attempts,omitempty"`
	Scores   []Score `json:"scores,omitempty"`
	// Batch describes a batch (Kind EntryBatch); its trial fields are empty.
	Batch *BatchInfo `json:"batch,omitempty"`

	// seq is the trial's place in the order Run produced trials (plan
	// order), from 1; 0 when unknown. It is not journaled.
	seq int64
}

// Key returns the trial key of the entry.
func (e *Entry) Key() TrialKey {
	return TrialKey{Suite: e.Suite, SampleID: e.SampleID, Model: e.Model, Attack: e.Attack, Epoch: e.Epoch}
}

// Journal is an append-only file of entries, one JSON object a line. A
// journal named *.zst (JournalFile, what runs write) holds the lines as a
// sequence of zstd frames, one per Flush, each holding whole lines: the file
// is an ordinary zstd stream (`zstdcat journal.jsonl.zst`, DuckDB's
// read_json), about a twentieth of the plain size. A plain journal
// (PlainJournalFile, written by earlier versions of mores) holds the lines as they
// are. Either way, entries reach the operating system as soon as Flush is
// called, so a killed process loses at most the entries not yet flushed; a
// torn last line or frame is cut off when the journal is opened again.
type Journal struct {
	f    *os.File
	w    *bufio.Writer // plain journal
	line []byte

	// A zstd journal: the lines of the frame being built, and the
	// encoder that turns them into one frame.
	zbuf  []byte
	frame []byte
	enc   *zstd.Encoder

	// BeforeWrite, if set, is called before buffered entries are handed to
	// the operating system (a Flush, or an Append that fills the buffer):
	// the runner commits the response cache there, so that the journal is
	// never ahead of it.
	BeforeWrite func()
}

// journalFrameSize is the size of the lines above which Append writes a
// zstd frame without waiting for Flush.
const journalFrameSize = 256 << 10

// JournalPath returns the journal of the run directory dir: the plain
// journal.jsonl of a run written by earlier versions of mores when there is one (and
// no compressed journal), else journal.jsonl.zst, existing or not.
func JournalPath(dir string) string {
	z := filepath.Join(dir, JournalFile)
	if _, err := os.Stat(z); err == nil {
		return z
	}
	p := filepath.Join(dir, PlainJournalFile)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return z
}

// compressed tells whether the journal at path is zstd-framed.
func compressed(path string) bool { return strings.HasSuffix(path, ".zst") }

// OpenJournal opens path for appending, creating it if needed and cutting
// off a torn last line (or zstd frame) left by a killed process.
func OpenJournal(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	var end int64
	if compressed(path) {
		end, err = completeFrames(f)
	} else {
		end, err = completeLength(f)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Truncate(end); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	j := &Journal{f: f}
	if compressed(path) {
		j.enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithLowerEncoderMem(true))
		if err != nil {
			f.Close()
			return nil, err
		}
	} else {
		j.w = bufio.NewWriterSize(f, 256<<10)
	}
	return j, nil
}

// completeLength returns the length of f up to and including its last
// newline.
func completeLength(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	for end := size; end > 0; {
		start := max(end-chunk, 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

// completeFrames returns the length of the zstd journal f up to the end of
// its last complete frame. It walks the frames'
// block headers without decoding them, but for the last, which it decodes:
// a frame cut short or garbled by a killed process (or a crash of the
// machine) is dropped, like a torn last line of a plain journal.
func completeFrames(f *os.File) (int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	var end int64
	fr := newFrameReader(f)
	err := fr.frames(false, func(end1 int64, _ []byte) error {
		end = end1
		return nil
	})
	return end, err
}

// Append writes one entry to the buffer: one line holding the entry as
// JSON, the bytes encoding/json would write (HTML characters unescaped).
func (j *Journal) Append(e *Entry) error {
	line, err := appendEntry(j.line[:0], e)
	if err != nil {
		return err
	}
	j.line = append(line, '\n')
	if j.enc != nil {
		j.zbuf = append(j.zbuf, j.line...)
		if len(j.zbuf) >= journalFrameSize {
			return j.Flush()
		}
		return nil
	}
	if j.BeforeWrite != nil && len(j.line) > j.w.Available() {
		j.BeforeWrite()
	}
	_, err = j.w.Write(j.line)
	return err
}

// Flush hands buffered entries to the operating system: for a zstd
// journal, one frame written with one system call.
func (j *Journal) Flush() error {
	if j.enc == nil {
		if j.BeforeWrite != nil && j.w.Buffered() > 0 {
			j.BeforeWrite()
		}
		return j.w.Flush()
	}
	if len(j.zbuf) == 0 {
		return nil
	}
	if j.BeforeWrite != nil {
		j.BeforeWrite()
	}
	j.frame = j.enc.EncodeAll(j.zbuf, j.frame[:0])
	j.zbuf = j.zbuf[:0]
	_, err := j.f.Write(j.frame)
	return err
}

// Sync flushes and asks the operating system to write to disk.
func (j *Journal) Sync() error {
	if err := j.Flush(); err != nil {
		return err
	}
	return j.f.Sync()
}

// Close flushes, syncs and closes.
func (j *Journal) Close() error {
	err := j.Sync()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	if j.enc != nil {
		j.enc.Close()
	}
	return err
}

// ScanJournal calls fn for every complete entry of the journal at path, with
// the entry's byte offset (in the decompressed lines of a zstd journal). A
// missing journal has no entries. A torn last line or frame is ignored.
func ScanJournal(path string, fn func(off int64, e *Entry) error) error {
	d := newEntryDecoder()
	line := 0
	return scanLines(path, func(off int64, b []byte) error {
		line++
		var e Entry
		if err := d.decode(b, &e); err != nil {
			return &InputError{File: path, Line: line, Msg: "corrupt journal entry: " + err.Error()}
		}
		return fn(off, &e)
	})
}

// scanLines calls fn with every complete line of the journal at path (its
// newline included) and its byte offset (in the decompressed lines of a
// zstd journal). The line is valid only during the call. A missing file has
// no lines; a torn last line or frame is ignored.
func scanLines(path string, fn func(off int64, line []byte) error) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if compressed(path) {
		return scanFrameLines(path, f, fn)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var off int64
	var full []byte
	for {
		b, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: gather it whole.
			full = append(full[:0], b...)
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = r.ReadSlice('\n')
				full = append(full, b...)
			}
			b = full
		}
		if errors.Is(err, io.EOF) {
			return nil // a torn or empty tail
		}
		if err != nil {
			return err
		}
		if ferr := fn(off, b); ferr != nil {
			return ferr
		}
		off += int64(len(b))
	}
}

// scanFrameLines calls fn with every complete line of the zstd journal f.
// A line may span frames (the journal writes whole lines in each frame,
// but any zstd stream of lines is read); the lines after the last newline
// are a torn tail and ignored.
func scanFrameLines(path string, f io.Reader, fn func(off int64, line []byte) error) error {
	var off int64
	var carry []byte
	fr := newFrameReader(f)
	err := fr.frames(true, func(_ int64, plain []byte) error {
		if len(carry) > 0 {
			i := bytes.IndexByte(plain, '\n')
			if i < 0 {
				carry = append(carry, plain...)
				return nil
			}
			carry = append(carry, plain[:i+1]...)
			plain = plain[i+1:]
			if err := fn(off, carry); err != nil {
				return err
			}
			off += int64(len(carry))
			carry = carry[:0]
		}
		for len(plain) > 0 {
			i := bytes.IndexByte(plain, '\n')
			if i < 0 {
				carry = append(carry, plain...)
				return nil
			}
			if err := fn(off, plain[:i+1]); err != nil {
				return err
			}
			off += int64(i + 1)
			plain = plain[i+1:]
		}
		return nil
	})
	var fe *frameError
	if errors.As(err, &fe) {
		return &InputError{File: path, Msg: fe.Error()}
	}
	return err
}

// errLocked is returned by lockFile when another process holds the lock.
var errLocked = errors.New("locked by another process")

// RunLock keeps a run directory for one process; see LockRunDir.
type RunLock struct{ f *os.File }

// LockRunDir takes the run directory dir for this process, so that two
// processes (a run and a --resume of it started too early, two runs given
// the same --run-id, a judge of a run still going) never write one journal
// at once, which would interleave and corrupt its lines. It fails at once,
// with an *InputError, when another process holds dir. The lock is released
// by Unlock or when the process ends, however it ends.
func LockRunDir(dir string) (*RunLock, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, &InputError{File: dir, Msg: "the run directory is in use by another mores process (a run, --resume or judge of it has not finished); wait for it or stop it, then try again"}
		}
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	return &RunLock{f: f}, nil
}

// Unlock releases the run directory.
func (l *RunLock) Unlock() error { return l.f.Close() }

// ReadEntryAt reads the entry starting at off.
func ReadEntryAt(f *os.File, off int64, buf *[]byte) (*Entry, error) {
	r := io.NewSectionReader(f, off, 1<<40)
	br := bufio.NewReader(r)
	b, err := br.ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	*buf = b
	var e Entry
	if err := newEntryDecoder().decode(b, &e); err != nil {
		return nil, err
	}
	return &e, nil
}
