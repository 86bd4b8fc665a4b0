package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
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

// Journal is an append-only file of entries, one JSON object a line. Lines
// reach the operating system as soon as Flush is called, so a killed process
// loses at most the entries not yet flushed; a torn last line is cut off when
// the journal is opened again.
type Journal struct {
	f    *os.File
	w    *bufio.Writer
	line []byte
}

// OpenJournal opens path for appending, creating it if needed and cutting
// off a torn last line left by a killed process.
func OpenJournal(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	end, err := completeLength(f)
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
	return &Journal{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
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

// Append writes one entry to the buffer: one line holding the entry as
// JSON, the bytes encoding/json would write (HTML characters unescaped).
func (j *Journal) Append(e *Entry) error {
	line, err := appendEntry(j.line[:0], e)
	if err != nil {
		return err
	}
	j.line = append(line, '\n')
	_, err = j.w.Write(j.line)
	return err
}

// Flush hands buffered entries to the operating system.
func (j *Journal) Flush() error { return j.w.Flush() }

// Sync flushes and asks the operating system to write to disk.
func (j *Journal) Sync() error {
	if err := j.w.Flush(); err != nil {
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
	return err
}

// ScanJournal calls fn for every complete entry of the journal at path, with
// the entry's byte offset. A missing journal has no entries. A torn last line
// is ignored.
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

// scanLines calls fn with every complete line of the file at path (its
// newline included) and its byte offset. The line is valid only during the
// call. A missing file has no lines; a torn last line is ignored.
func scanLines(path string, fn func(off int64, line []byte) error) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
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
