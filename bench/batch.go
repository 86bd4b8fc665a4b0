package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// BatchInfo is the journal record of one batch of requests (an entry of
// kind EntryBatch). A batch is journaled three times: when its input file
// is uploaded (State "uploaded": FileID and the trials it holds), when the
// batch is created (State "created": BatchID), and when its results are
// recorded (State "done": Status). A resumed run polls the batches created
// and not done instead of submitting their requests again, and adopts a
// batch created for an uploaded file whose creation was not journaled.
type BatchInfo struct {
	State   string `json:"state"`
	Model   string `json:"model"`
	FileID  string `json:"file_id,omitempty"`
	BatchID string `json:"batch_id,omitempty"`
	// Indices are the plan indices of the trials in the batch (their
	// custom_id is "mores-INDEX").
	Indices []int64 `json:"indices,omitempty"`
	// Status is the batch's final status (completed, expired, failed,
	// cancelled) for State "done".
	Status string `json:"status,omitempty"`
}

// BatchState is what a poll of a batch tells.
type BatchState struct {
	ID                        string
	Status                    string // validating, in_progress, finalizing, completed, failed, expired, cancelling, cancelled
	Total, Completed, Failed  int
	OutputFileID, ErrorFileID string
	CreatedAt, EndedAt        int64 // Unix seconds; EndedAt 0 while it runs
}

// Ended reports whether the batch will change no more.
func (s BatchState) Ended() bool {
	switch s.Status {
	case "completed", "failed", "expired", "cancelled":
		return true
	}
	return false
}

// Batcher is a model that can answer requests in batches: the lines of a
// batch input file ({custom_id, method, url, body}), the parsing of a batch
// output line, and the files and batches API (OpenAI's Batch API).
type Batcher interface {
	BatchLine(customID string, req Request) ([]byte, error)
	ParseBatchLine(line []byte) (customID string, c Completion, err error)
	UploadBatch(ctx context.Context, name string, data []byte) (fileID string, err error)
	CreateBatch(ctx context.Context, fileID string, metadata map[string]string) (batchID string, err error)
	FindBatch(ctx context.Context, fileID string) (batchID string, err error)
	PollBatch(ctx context.Context, id string) (BatchState, error)
	BatchFile(ctx context.Context, fileID string) (io.ReadCloser, error)
}

// OpenAI's limits on one batch input file.
const (
	MaxBatchLines = 50000
	MaxBatchBytes = 200 << 20
)

// BatchOptions configure RunBatch.
type BatchOptions struct {
	// PollEvery is the time between polls (default 30 s).
	PollEvery time.Duration
	// Status, when set, is given a status line after every poll.
	Status func(line string)
	// MaxLines and MaxBytes bound one input file (default OpenAI's limits).
	MaxLines, MaxBytes int
}

// customID is the custom_id of a trial's line: its plan index.
func customID(index int64) string { return "mores-" + strconv.FormatInt(index, 10) }

// parseCustomID reads a custom_id written by customID.
func parseCustomID(id string) (int64, bool) {
	rest, ok := strings.CutPrefix(id, "mores-")
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(rest, 10, 64)
	return i, err == nil && i >= 0
}

// batchable reports whether a trial goes into a batch: a prepared request
// of a Batcher model that the cache does not answer.
func batchable(spec *RunSpec, models []Model, w work) (Batcher, bool) {
	if w.err != nil {
		return nil, false
	}
	b, ok := spec.Models[w.model].Model.(Batcher)
	if !ok || cacheHolds(models[w.model], w.t.Request) {
		return nil, false
	}
	if w.t.Request.Params.ScoreContinuation {
		return nil, false
	}
	return b, true
}

func cachedModels(spec *RunSpec) []Model {
	models := make([]Model, len(spec.Models))
	for i, m := range spec.Models {
		models[i] = m.Model
		if spec.Cache != nil {
			models[i] = WithCache(m.Model, spec.Cache)
		}
	}
	return models
}

// WriteBatchFile writes the batch input file of every trial of the plan not
// journaled in spec.Dir and not answered by the cache to path (one file,
// for `vllm run-batch -i path -o results.jsonl`), and returns the number of
// lines. Trials of models that cannot batch are left out.
func WriteBatchFile(spec RunSpec, path string) (int64, error) {
	if spec.Epochs < 1 {
		spec.Epochs = 1
	}
	js, err := scanDone(filepath.Join(spec.Dir, JournalFile), spec.Models)
	if err != nil {
		return 0, err
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	models := cachedModels(&spec)
	var n, skipped int64
	var werr error
	produce(&spec, js.isDone, &skipped, func(wk work) bool {
		b, ok := batchable(&spec, models, wk)
		if !ok {
			return true
		}
		line, err := b.BatchLine(customID(wk.t.Index), wk.t.Request)
		if err == nil {
			_, err = w.Write(append(line, '\n'))
		}
		if err != nil {
			werr = err
			return false
		}
		n++
		return true
	})
	if err := w.Flush(); werr == nil {
		werr = err
	}
	if err := f.Close(); werr == nil {
		werr = err
	}
	return n, werr
}

// ImportBatchResults records the answers of a batch output file (OpenAI's,
// or `vllm run-batch`'s) as trials of the run in spec.Dir, judged, cached and
// journaled as if they had come back one by one. Lines of trials journaled
// already, and error lines, are skipped. It returns the number of trials
// recorded and of lines that failed.
func ImportBatchResults(ctx context.Context, spec RunSpec, path string) (recorded, failed int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, &InputError{File: path, Msg: err.Error()}
	}
	defer f.Close()
	lines, err := readBatchLines(f, path)
	if err != nil {
		return 0, 0, err
	}
	return recordBatch(ctx, &spec, lines, 0)
}

// readBatchLines reads the raw lines of an output file by the plan index
// of their custom_id.
func readBatchLines(r io.Reader, name string) (map[int64][]byte, error) {
	out := map[int64][]byte{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	n := 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var l struct {
			CustomID string `json:"custom_id"`
		}
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, &InputError{File: name, Line: n, Field: "custom_id", Msg: "not a JSON line: " + err.Error()}
		}
		i, ok := parseCustomID(l.CustomID)
		if !ok {
			return nil, &InputError{File: name, Line: n, Field: "custom_id", Msg: fmt.Sprintf("%q is not a custom_id Mores wrote (mores-INDEX)", l.CustomID)}
		}
		out[i] = bytes.Clone(b)
	}
	if err := sc.Err(); err != nil {
		return nil, &InputError{File: name, Line: n + 1, Msg: err.Error()}
	}
	return out, nil
}

// recordBatch journals the answers among lines (by plan index) of trials
// not journaled yet; latency is the latency recorded for each.
func recordBatch(ctx context.Context, spec *RunSpec, lines map[int64][]byte, latency time.Duration) (recorded, failed int64, err error) {
	if spec.Epochs < 1 {
		spec.Epochs = 1
	}
	jpath := filepath.Join(spec.Dir, JournalFile)
	js, err := scanDone(jpath, spec.Models)
	if err != nil {
		return 0, 0, err
	}
	j, err := OpenJournal(jpath)
	if err != nil {
		return 0, 0, err
	}
	defer j.Close()
	models := cachedModels(spec)
	var skipped int64
	var werr error
	produce(spec, js.isDone, &skipped, func(wk work) bool {
		line, ok := lines[wk.t.Index]
		if !ok || wk.err != nil {
			return true
		}
		b, ok := spec.Models[wk.model].Model.(Batcher)
		if !ok {
			return true
		}
		_, c, perr := b.ParseBatchLine(line)
		if perr != nil {
			failed++
			return true // left for a synchronous retry
		}
		c.Latency = latency
		priceCompletion(&c, spec.Models[wk.model].Price)
		if cm, ok := models[wk.model].(*cachedModel); ok {
			cm.cache.Put(cm.cache.Key(wk.t.Request), c)
		}
		t := wk.t
		e := &Entry{Kind: EntryTrial, Index: t.Index, Suite: t.Suite, SampleID: t.SampleID, Model: t.Model,
			Attack: t.Attack, Epoch: t.Epoch, Prompt: t.Request.Prompt(), System: t.Request.System, Result: &c}
		if len(t.Request.Messages) > 1 {
			e.Messages = t.Request.Messages
		}
		e.Scores = JudgeAll(ctx, spec.Suites[wk.suite].Judges, t, c)
		if werr = j.Append(e); werr != nil {
			return false
		}
		recorded++
		return ctx.Err() == nil
	})
	if werr != nil {
		return recorded, failed, werr
	}
	return recorded, failed, j.Sync()
}

// RunBatch sends the plan's requests through batches: it submits the
// trials not journaled, not answered by the cache and not in a batch
// already as batch input files (at most MaxLines lines and MaxBytes each,
// one model a file), journaling each file's upload and each batch's
// creation; then it polls every batch not done and records the answers of
// those that ended as RunBatch's caller would get them one by one. A
// resumed RunBatch polls the batches the journal holds instead of
// submitting their requests again; a file uploaded whose batch creation was
// not journaled is looked for among the server's batches before a batch is
// created for it. Requests a batch did not answer (error lines, an expired
// or failed batch) are left unjournaled: the caller runs them synchronously
// (Run) afterwards, with the cached and unbatchable ones.
func RunBatch(ctx context.Context, spec RunSpec, opt BatchOptions) error {
	if spec.Epochs < 1 {
		spec.Epochs = 1
	}
	if opt.PollEvery <= 0 {
		opt.PollEvery = 30 * time.Second
	}
	if opt.MaxLines <= 0 {
		opt.MaxLines = MaxBatchLines
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = MaxBatchBytes
	}
	if opt.Status == nil {
		opt.Status = func(string) {}
	}
	if err := os.MkdirAll(spec.Dir, 0o755); err != nil {
		return err
	}
	jpath := filepath.Join(spec.Dir, JournalFile)
	js, err := scanDone(jpath, spec.Models)
	if err != nil {
		return err
	}
	byName := map[string]int{}
	for i, m := range spec.Models {
		byName[m.Name] = i
	}
	// The batches of the journal, by input file, in their last state.
	type open struct {
		info  BatchInfo
		model Batcher
	}
	files := map[string]*open{}
	var order []string
	for _, e := range js.batches {
		bi := *e.Batch
		o := files[bi.FileID]
		if o == nil {
			mi, ok := byName[bi.Model]
			if !ok {
				continue
			}
			b, ok := spec.Models[mi].Model.(Batcher)
			if !ok {
				continue
			}
			o = &open{model: b}
			files[bi.FileID] = o
			order = append(order, bi.FileID)
		}
		if bi.Indices == nil {
			bi.Indices = o.info.Indices
		}
		if bi.BatchID == "" {
			bi.BatchID = o.info.BatchID
		}
		o.info = bi
	}
	inBatch := map[int64]bool{}
	for _, id := range order {
		if o := files[id]; o.info.State != "done" {
			for _, i := range o.info.Indices {
				inBatch[i] = true
			}
		}
	}

	j, err := OpenJournal(jpath)
	if err != nil {
		return err
	}
	journal := func(bi BatchInfo) error {
		if err := j.Append(&Entry{Kind: EntryBatch, Index: -1, Batch: &bi}); err != nil {
			return err
		}
		return j.Sync()
	}
	create := func(o *open) error {
		id, err := o.model.FindBatch(ctx, o.info.FileID)
		if err != nil {
			return err
		}
		if id == "" {
			if id, err = o.model.CreateBatch(ctx, o.info.FileID, map[string]string{"mores_run_id": spec.RunID}); err != nil {
				return err
			}
		}
		o.info = BatchInfo{State: "created", Model: o.info.Model, FileID: o.info.FileID, BatchID: id, Indices: o.info.Indices}
		return journal(BatchInfo{State: "created", Model: o.info.Model, FileID: o.info.FileID, BatchID: id})
	}
	// Batches uploaded before a kill and not created.
	for _, id := range order {
		if o := files[id]; o.info.State == "uploaded" {
			if err := create(o); err != nil {
				j.Close()
				return err
			}
		}
	}

	// New batches: one buffer a model.
	type pending struct {
		buf     bytes.Buffer
		indices []int64
	}
	bufs := make([]*pending, len(spec.Models))
	submit := func(mi int) error {
		p := bufs[mi]
		if p == nil || len(p.indices) == 0 {
			return nil
		}
		b := spec.Models[mi].Model.(Batcher)
		name := fmt.Sprintf("mores-%s-%s-%d.jsonl", spec.RunID, spec.Models[mi].Name, p.indices[0])
		fileID, err := b.UploadBatch(ctx, name, p.buf.Bytes())
		if err != nil {
			return err
		}
		o := &open{model: b, info: BatchInfo{State: "uploaded", Model: spec.Models[mi].Name, FileID: fileID, Indices: p.indices}}
		if err := journal(o.info); err != nil {
			return err
		}
		if err := create(o); err != nil {
			return err
		}
		files[fileID] = o
		order = append(order, fileID)
		bufs[mi] = nil
		return nil
	}
	models := cachedModels(&spec)
	var skipped int64
	var serr error
	produce(&spec, js.isDone, &skipped, func(w work) bool {
		if inBatch[w.t.Index] {
			return true
		}
		b, ok := batchable(&spec, models, w)
		if !ok {
			return true
		}
		line, err := b.BatchLine(customID(w.t.Index), w.t.Request)
		if err != nil {
			return true // left for the synchronous run, which records the error
		}
		p := bufs[w.model]
		if p != nil && (len(p.indices)+1 > opt.MaxLines || p.buf.Len()+len(line)+1 > opt.MaxBytes) {
			if serr = submit(w.model); serr != nil {
				return false
			}
			p = nil
		}
		if p == nil {
			p = &pending{}
			bufs[w.model] = p
		}
		p.buf.Write(line)
		p.buf.WriteByte('\n')
		p.indices = append(p.indices, w.t.Index)
		return ctx.Err() == nil
	})
	for mi := range bufs {
		if serr == nil {
			serr = submit(mi)
		}
	}
	if serr == nil {
		serr = ctx.Err()
	}
	if err := j.Close(); serr == nil {
		serr = err
	}
	if serr != nil {
		return serr
	}

	// Poll until every batch has ended, recording each as it ends.
	for {
		var waiting []string
		var total, completed, failed int
		for _, id := range order {
			o := files[id]
			if o.info.State == "done" {
				continue
			}
			st, err := o.model.PollBatch(ctx, o.info.BatchID)
			if err != nil {
				return err
			}
			total += st.Total
			completed += st.Completed
			failed += st.Failed
			if !st.Ended() {
				waiting = append(waiting, st.ID+" "+st.Status)
				continue
			}
			if err := finishBatch(ctx, &spec, o.model, o.info, st, opt.Status); err != nil {
				return err
			}
			o.info.State = "done"
		}
		if len(waiting) == 0 {
			opt.Status(fmt.Sprintf("batches: all %d ended", len(order)))
			return nil
		}
		opt.Status(fmt.Sprintf("batches: %d of %d running (%s); %d of %d requests done, %d failed",
			len(waiting), len(order), strings.Join(waiting, ", "), completed, total, failed))
		t := time.NewTimer(opt.PollEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// finishBatch downloads the error file (its lines are reported, and left
// for a synchronous retry) and the output file of an ended batch, records
// its answers and journals it done. The recorded latency of each
// answer is the batch's time from creation to end.
func finishBatch(ctx context.Context, spec *RunSpec, b Batcher, info BatchInfo, st BatchState, status func(string)) error {
	if st.ErrorFileID != "" {
		rc, err := b.BatchFile(ctx, st.ErrorFileID)
		if err != nil {
			return err
		}
		errLines, err := readBatchLines(rc, "batch "+st.ID+" errors")
		rc.Close()
		if err != nil {
			return err
		}
		status(fmt.Sprintf("batch %s %s: %d error lines, retried synchronously", st.ID, st.Status, len(errLines)))
	}
	lines := map[int64][]byte{}
	if st.OutputFileID != "" {
		rc, err := b.BatchFile(ctx, st.OutputFileID)
		if err != nil {
			return err
		}
		lines, err = readBatchLines(rc, "batch "+st.ID+" output")
		rc.Close()
		if err != nil {
			return err
		}
	}
	var latency time.Duration
	if st.EndedAt > st.CreatedAt && st.CreatedAt > 0 {
		latency = time.Duration(st.EndedAt-st.CreatedAt) * time.Second
	}
	if _, _, err := recordBatch(ctx, spec, lines, latency); err != nil {
		return err
	}
	j, err := OpenJournal(filepath.Join(spec.Dir, JournalFile))
	if err != nil {
		return err
	}
	if err := j.Append(&Entry{Kind: EntryBatch, Index: -1, Batch: &BatchInfo{State: "done", Model: info.Model, FileID: info.FileID,
		BatchID: info.BatchID, Status: st.Status}}); err != nil {
		j.Close()
		return err
	}
	return j.Close()
}
