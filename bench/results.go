package bench

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// ResultCounts counts the rows written by WriteResults.
type ResultCounts struct {
	Trials int64 `json:"trials"`
	// Errors counts the trials without a response (generation errors).
	Errors int64 `json:"errors"`
	Cached int64 `json:"cached"`
	Scores int64 `json:"scores"`
	// JudgmentErrors counts the score rows holding an error instead of a
	// value: a judge that failed on a trial that has a response.
	JudgmentErrors int64 `json:"judgment_errors"`
}

// journalRef locates one journal entry: its plan index, byte offset and
// length, and for a trial the hash of its key.
type journalRef struct {
	index int64
	off   int64
	hash  uint64
	n     uint32
	trial bool
	drop  bool
}

// resultsChunk is how many bytes of journal entries WriteResults reads at
// once: the entries of a run of consecutive plan indexes, read in file
// order with one read per contiguous stretch.
const resultsChunk = 4 << 20

// WriteResults turns the journal of a run directory into responses.parquet
// and scores.parquet, one row per trial (the first journaled, should a trial
// appear twice) in plan order, and one row per trial × judge × metric.
//
// A journal written by one run is in plan order but for the trials that
// concurrent workers finished out of turn; WriteResults reads it once,
// putting entries back in order through a window of reorderWindow entries,
// in memory that does not depend on the length of the journal. A journal
// that is further out of order (merged shards, pair-judge scores appended at
// the end, a run resumed out of turn) is written by writeResultsSorted.
func WriteResults(dir, runID string) (ResultCounts, error) {
	jpath := JournalPath(dir)
	RemoveStaleTemps(dir)
	rc, inOrder, err := writeResultsInOrder(dir, jpath, runID)
	if err != nil || inOrder {
		return rc, err
	}
	return writeResultsSorted(dir, jpath, runID)
}

// reorderWindow is how many journal entries writeResultsInOrder holds to
// put them back in plan order: far more than the trials a run has in
// flight at once.
const reorderWindow = 8192

// errOutOfOrder stops writeResultsInOrder's scan.
var errOutOfOrder = errors.New("journal out of plan order")

type pendingEntry struct {
	seq int64
	e   *Entry
}

// orderedWriter writes journal entries, given in journal order, as rows of
// responses.parquet and scores.parquet in plan order, through a window of
// reorderWindow entries. It serves WriteResults, reading a journal, and
// Run, which hands it each entry as it journals it, so that a run's
// results are written while it runs.
type orderedWriter struct {
	runID  string
	resp   *ParquetWriter[ResponseRow]
	scores *ParquetWriter[ScoreRow]
	sb     *scoreBuffer
	rc     ResultCounts

	h         []pendingEntry // a binary min-heap by plan index, then journal position
	seq       int64
	next      int64            // addInTurn: the seq of the next entry to write
	waiting   map[int64]*Entry // addInTurn: entries that came before their turn
	lastIndex int64
	lastKey   TrialKey
	haveKey   bool
}

// newOrderedWriter creates the Parquet files of dir (written in place by
// close, removed by abort).
func newOrderedWriter(dir, runID string) (*orderedWriter, error) {
	resp, err := CreateParquet[ResponseRow](filepath.Join(dir, ResponsesFile))
	if err != nil {
		return nil, err
	}
	scores, err := CreateParquet[ScoreRow](filepath.Join(dir, ScoresFile))
	if err != nil {
		resp.Abort()
		return nil, err
	}
	w := &orderedWriter{runID: runID, resp: resp, scores: scores, lastIndex: math.MinInt64}
	w.sb = &scoreBuffer{w: scores, rc: &w.rc, index: math.MinInt64}
	return w, nil
}

func (w *orderedWriter) less(a, b pendingEntry) bool {
	return a.e.Index < b.e.Index || (a.e.Index == b.e.Index && a.seq < b.seq)
}

func (w *orderedWriter) push(p pendingEntry) {
	h := append(w.h, p)
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !w.less(h[i], h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
	w.h = h
}

func (w *orderedWriter) pop() pendingEntry {
	h := w.h
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = pendingEntry{}
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && w.less(h[l], h[m]) {
			m = l
		}
		if r < len(h) && w.less(h[r], h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	w.h = h
	return top
}

// emit writes the rows of the next entry in plan order, or returns
// errOutOfOrder.
func (w *orderedWriter) emit(p pendingEntry) error {
	e := p.e
	if e.Kind == EntryBatch {
		return nil // bookkeeping of --batch, no rows
	}
	if e.Index < w.lastIndex {
		return errOutOfOrder
	}
	if e.Index != w.lastIndex {
		w.lastIndex, w.haveKey = e.Index, false
	}
	if e.Kind == EntryTrial {
		k := e.Key()
		switch {
		case w.haveKey && k == w.lastKey:
			return nil // the same trial journaled again: keep the first
		case w.haveKey:
			return errOutOfOrder // two trials at one index: not one plan
		}
		w.lastKey, w.haveKey = k, true
	}
	return writeRows(e, w.runID, w.resp, w.sb, &w.rc)
}

// add takes the next entry of the journal, which the writer keeps.
func (w *orderedWriter) add(e *Entry) error {
	w.seq++
	w.push(pendingEntry{seq: w.seq, e: e})
	if len(w.h) > reorderWindow {
		return w.emit(w.pop())
	}
	return nil
}

// addInTurn takes the next entry journaled by Run, which knows the order in
// which it produced trials (Entry.seq): an entry is written as soon as
// every trial produced before it is, so that rows do not wait in a window
// and close has little left to do. Entries that come early wait, at most
// reorderWindow of them (a trial retried for minutes); beyond that it
// returns errOutOfOrder.
func (w *orderedWriter) addInTurn(e *Entry) error {
	if e.seq <= 0 {
		return errOutOfOrder
	}
	if w.next == 0 {
		w.next = 1
		w.waiting = map[int64]*Entry{}
	}
	if e.seq != w.next {
		w.waiting[e.seq] = e
		if len(w.waiting) > reorderWindow {
			return errOutOfOrder
		}
		return nil
	}
	for {
		w.seq++
		if err := w.emit(pendingEntry{seq: w.seq, e: e}); err != nil {
			return err
		}
		w.next++
		var ok bool
		if e, ok = w.waiting[w.next]; !ok {
			return nil
		}
		delete(w.waiting, w.next)
	}
}

// close writes the entries still waiting and finishes both files.
func (w *orderedWriter) close() (ResultCounts, error) {
	// Entries of addInTurn whose predecessors never came (a cancelled
	// run's unfinished trials) go in production order.
	for _, seq := range slices.Sorted(maps.Keys(w.waiting)) {
		w.seq++
		if err := w.emit(pendingEntry{seq: w.seq, e: w.waiting[seq]}); err != nil {
			w.abort()
			return w.rc, err
		}
	}
	w.waiting = nil
	for len(w.h) > 0 {
		if err := w.emit(w.pop()); err != nil {
			w.abort()
			return w.rc, err
		}
	}
	if err := w.sb.flush(); err != nil {
		w.abort()
		return w.rc, err
	}
	if err := w.resp.Close(); err != nil {
		w.scores.Abort()
		return w.rc, err
	}
	if err := w.scores.Close(); err != nil {
		return w.rc, err
	}
	return w.rc, nil
}

// abort removes the files being written.
func (w *orderedWriter) abort() {
	w.resp.Abort()
	w.scores.Abort()
}

// writeResultsInOrder writes the results in one pass over the journal and
// reports false (having written nothing) when the journal is not nearly in
// plan order: when an entry comes after reorderWindow entries of later
// plan indexes, or two different trials share a plan index.
func writeResultsInOrder(dir, jpath, runID string) (ResultCounts, bool, error) {
	w, err := newOrderedWriter(dir, runID)
	if err != nil {
		return ResultCounts{}, false, err
	}
	d := newEntryDecoder()
	var line int64
	err = scanLines(jpath, func(_ int64, b []byte) error {
		line++
		e := &Entry{}
		if err := d.decode(b, e); err != nil {
			return &InputError{File: jpath, Line: int(line), Msg: "corrupt journal entry: " + err.Error()}
		}
		return w.add(e)
	})
	if err != nil {
		w.abort()
		if errors.Is(err, errOutOfOrder) {
			return ResultCounts{}, false, nil
		}
		return ResultCounts{}, false, err
	}
	rc, err := w.close()
	if errors.Is(err, errOutOfOrder) {
		return ResultCounts{}, false, nil
	}
	if err != nil {
		return rc, false, err
	}
	return rc, true, nil
}

// writeResultsSorted writes the results of a journal in any order in two
// passes. The first reads the journal once and keeps 32 bytes per entry
// (plan index, offset, length, key hash), not the entries; duplicates are
// found by sorting, not by a map. The second visits the entries in plan
// order a chunk of a few megabytes at a time: the entries of a chunk are
// read in file order, contiguous ones in one read, so a journal made of a
// few long stretches each in plan order (merged shards) is read
// sequentially.
func writeResultsSorted(dir, jpath, runID string) (ResultCounts, error) {
	var rc ResultCounts
	var lines int
	if compressed(jpath) {
		// The second pass reads entries at their offsets: it reads a
		// plain copy of the journal, removed when done. Its lines are
		// counted, so that refs is allocated once, not grown.
		plain, n, err := plainCopy(dir, jpath)
		lines = n
		if plain != "" {
			defer os.Remove(plain)
		}
		if err != nil {
			return rc, err
		}
		jpath = plain
	}
	seed := maphash.MakeSeed()
	refs := make([]journalRef, 0, lines)
	d := newEntryDecoder()
	lineNo := 0
	if err := scanLines(jpath, func(off int64, line []byte) error {
		lineNo++
		r, ok := parseRef(line, seed)
		if !ok {
			// Off the fast path: decode it whole (encoding/json says what
			// is wrong, if anything).
			var e Entry
			if err := d.decode(line, &e); err != nil {
				return &InputError{File: jpath, Line: lineNo, Msg: "corrupt journal entry: " + err.Error()}
			}
			if e.Kind == EntryBatch {
				return nil // bookkeeping of --batch, no rows
			}
			r = journalRef{index: e.Index, n: uint32(len(line)), trial: e.Kind == EntryTrial}
			if r.trial {
				r.hash = keyHash(seed, e.Key())
			}
		}
		r.off = off
		refs = append(refs, r)
		return nil
	}); err != nil {
		return rc, err
	}
	refs = dropDuplicateTrials(refs)
	slices.SortFunc(refs, func(a, b journalRef) int {
		if c := cmp.Compare(a.index, b.index); c != 0 {
			return c
		}
		return cmp.Compare(a.off, b.off)
	})

	f, err := os.Open(jpath)
	if err != nil && !os.IsNotExist(err) {
		return rc, err
	}
	if f != nil {
		defer f.Close()
	}
	resp, err := CreateParquet[ResponseRow](filepath.Join(dir, ResponsesFile))
	if err != nil {
		return rc, err
	}
	defer resp.Abort()
	scores, err := CreateParquet[ScoreRow](filepath.Join(dir, ScoresFile))
	if err != nil {
		return rc, err
	}
	defer scores.Abort()
	sb := &scoreBuffer{w: scores, rc: &rc, index: math.MinInt64}

	var buf []byte
	var order []int
	pos := make([]int, 0, 1024)
	for start := 0; start < len(refs); {
		// A chunk: consecutive refs in plan order, up to resultsChunk bytes.
		end, size := start, 0
		for end < len(refs) && (end == start || size+int(refs[end].n) <= resultsChunk) {
			size += int(refs[end].n)
			end++
		}
		chunk := refs[start:end]
		start = end
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		order = order[:0]
		for i := range chunk {
			order = append(order, i)
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(chunk[a].off, chunk[b].off) })
		pos = slices.Grow(pos[:0], len(chunk))[:len(chunk)]
		// Read in file order, one ReadAt per contiguous stretch.
		at, runStart, runOff := 0, 0, int64(-1)
		flush := func(upto int) error {
			if upto > runStart {
				if _, err := f.ReadAt(buf[runStart:upto], runOff); err != nil {
					return fmt.Errorf("%s: reading entries at %d: %w", jpath, runOff, err)
				}
			}
			return nil
		}
		for _, i := range order {
			r := &chunk[i]
			if runOff < 0 || r.off != runOff+int64(at-runStart) {
				if err := flush(at); err != nil {
					return rc, err
				}
				runStart, runOff = at, r.off
			}
			pos[i] = at
			at += int(r.n)
		}
		if err := flush(at); err != nil {
			return rc, err
		}
		for i := range chunk {
			line := buf[pos[i] : pos[i]+int(chunk[i].n)]
			var e Entry
			if err := d.decode(line, &e); err != nil {
				return rc, fmt.Errorf("%s: entry at %d: %w", jpath, chunk[i].off, err)
			}
			if err := writeRows(&e, runID, resp, sb, &rc); err != nil {
				return rc, err
			}
		}
	}
	if err := sb.flush(); err != nil {
		return rc, err
	}
	if err := resp.Close(); err != nil {
		return rc, err
	}
	if err := scores.Close(); err != nil {
		return rc, err
	}
	return rc, nil
}

// dropDuplicateTrials removes every trial entry but the first of its key.
// It sorts refs by key hash and offset to find them, so refs come back in
// another order.
func dropDuplicateTrials(refs []journalRef) []journalRef {
	slices.SortFunc(refs, func(a, b journalRef) int {
		if a.trial != b.trial {
			if a.trial {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(a.hash, b.hash); c != 0 {
			return c
		}
		return cmp.Compare(a.off, b.off)
	})
	for i := 1; i < len(refs); i++ {
		if refs[i].trial && refs[i-1].trial && refs[i].hash == refs[i-1].hash {
			refs[i].drop = true
		}
	}
	return slices.DeleteFunc(refs, func(r journalRef) bool { return r.drop })
}

// writeRows writes the rows of one journal entry.
func writeRows(e *Entry, runID string, resp *ParquetWriter[ResponseRow], sb *scoreBuffer, rc *ResultCounts) error {
	if err := sb.at(e.Index); err != nil {
		return err
	}
	if e.Kind == EntryTrial {
		row := ResponseRow{RunID: runID, Suite: e.Suite, SampleID: e.SampleID, Model: e.Model, Attack: e.Attack,
			Epoch: int32(e.Epoch), Prompt: e.Prompt, System: e.System, Error: StrPtr(e.Error)}
		if len(e.Messages) > 0 {
			if b, err := json.Marshal(e.Messages); err == nil {
				m := string(b)
				row.Messages = &m
			}
		}
		if c := e.Result; c != nil {
			row.Response = c.Text
			row.FinishReason = c.FinishReason
			row.PromptTokens = c.PromptTokens
			row.CompletionTokens = c.CompletionTokens
			row.LatencyMS = float64(c.Latency.Microseconds()) / 1000
			row.Attempts = int32(c.Attempts)
			row.Cached = c.Cached
			row.CostUSD = c.CostUSD
			if c.Cached {
				rc.Cached++
			}
		}
		if e.Error != "" {
			rc.Errors++
			if e.Result == nil {
				row.Attempts = int32(e.Attempts)
			}
		}
		rc.Trials++
		if err := resp.Write(row); err != nil {
			return err
		}
	}
	for i := range e.Scores {
		s := &e.Scores[i]
		row := ScoreRow{RunID: runID, Suite: e.Suite, SampleID: e.SampleID, Model: e.Model, Attack: e.Attack,
			Epoch: int32(e.Epoch), Judge: s.Judge, Metric: s.Metric, Label: s.Label, Explanation: s.Explanation,
			Error: StrPtr(s.Error), Rater: s.Rater, JudgeVersion: s.Version}
		if s.Error == "" {
			v := s.Value
			row.Value = &v
		}
		sb.rows = append(sb.rows, row)
	}
	return nil
}

// scoreBuffer holds the score rows of one plan index until the entries of
// the next begin, so that a later score of a trial for the same judge,
// metric and rater replaces an earlier one: `mores judge` scores again a
// trial whose judgment failed, and the failure must not stay beside the
// value.
type scoreBuffer struct {
	w     *ParquetWriter[ScoreRow]
	rc    *ResultCounts
	index int64
	rows  []ScoreRow
}

// at starts the rows of plan index i, writing those of the previous index.
func (sb *scoreBuffer) at(i int64) error {
	if i == sb.index {
		return nil
	}
	sb.index = i
	return sb.flush()
}

// flush writes the buffered rows but those a later row replaces.
func (sb *scoreBuffer) flush() error {
	rows := sb.rows
	same := func(a, b *ScoreRow) bool {
		return a.Judge == b.Judge && a.Metric == b.Metric && a.Rater == b.Rater && a.SampleID == b.SampleID &&
			a.Model == b.Model && a.Attack == b.Attack && a.Epoch == b.Epoch && a.Suite == b.Suite
	}
	for i := range rows {
		replaced := false
		for j := i + 1; j < len(rows) && !replaced; j++ {
			replaced = same(&rows[i], &rows[j])
		}
		if replaced {
			continue
		}
		sb.rc.Scores++
		if rows[i].Error != nil {
			sb.rc.JudgmentErrors++
		}
		if err := sb.w.Write(rows[i]); err != nil {
			return err
		}
	}
	clear(sb.rows)
	sb.rows = sb.rows[:0]
	return nil
}

// plainCopy writes the lines of the zstd journal jpath to a temporary file
// in dir (which RemoveStaleTemps removes, should the process be killed) and
// returns its name and number of lines.
func plainCopy(dir, jpath string) (string, int, error) {
	f, err := os.CreateTemp(dir, ".journal-sort-*")
	if err != nil {
		return "", 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	lines := 0
	err = scanLines(jpath, func(_ int64, line []byte) error {
		lines++
		_, err := w.Write(line)
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return f.Name(), lines, err
}
