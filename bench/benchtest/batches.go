package benchtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// BatchOptions configure the files and batches endpoints of the server
// (OpenAI's Batch API: POST /v1/files, POST /v1/batches, GET
// /v1/batches/{id}, GET /v1/batches, GET /v1/files/{id}/content).
type BatchOptions struct {
	// PollsToEnd is how many polls of a batch answer in_progress before it
	// ends; zero means 2.
	PollsToEnd int
	// Expire makes every batch expire: only the first half of its lines
	// are answered, the rest are neither in the output nor in the error
	// file, as OpenAI does.
	Expire bool
	// FailLine, if set, sends the lines whose custom_id it accepts to the
	// error file (HTTP 500) instead of answering them.
	FailLine func(customID string) bool
}

type serverFile struct {
	id, name, purpose string
	data              []byte
}

type serverBatch struct {
	id, inputFileID       string
	status                string
	polls                 int
	metadata              map[string]any
	createdAt, endedAt    int64
	outputFile, errorFile string
	total, done, failed   int
}

// SetBatchOptions replaces the batch options (for a test that lets
// batches end only after a client was killed).
func (s *OpenAIServer) SetBatchOptions(o BatchOptions) {
	s.mu.Lock()
	s.opts.Batches = o
	s.mu.Unlock()
}

// Uploads returns the number of files uploaded.
func (s *OpenAIServer) Uploads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uploads
}

// BatchesCreated returns the number of batches created.
func (s *OpenAIServer) BatchesCreated() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.batchOrder)
}

// BatchAnswered returns how many batch lines the server answered, by prompt.
func (s *OpenAIServer) BatchAnswered() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyCounts(s.batchAnswered)
}

func (s *OpenAIServer) uploadFile(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	if err := r.ParseMultipartForm(256 << 20); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "a file upload is multipart/form-data: "+err.Error())
		return
	}
	purpose := r.FormValue("purpose")
	f, hdr, err := r.FormFile("file")
	if err != nil || purpose != "batch" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "want a file and purpose=batch")
		return
	}
	data, _ := io.ReadAll(f)
	s.mu.Lock()
	s.nextID++
	sf := &serverFile{id: fmt.Sprintf("file-%d", s.nextID), name: hdr.Filename, purpose: purpose, data: data}
	s.files[sf.id] = sf
	s.uploads++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": sf.id, "object": "file", "bytes": len(data), "created_at": time.Now().Unix(),
		"filename": sf.name, "purpose": purpose, "status": "processed"})
}

func (s *OpenAIServer) fileContent(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	f := s.files[r.PathValue("id")]
	s.mu.Unlock()
	if f == nil {
		writeError(w, http.StatusNotFound, "invalid_request_error", "", "No such File object: "+r.PathValue("id"))
		return
	}
	w.Header().Set("Content-Type", "application/jsonl")
	w.Write(f.data)
}

func (s *OpenAIServer) createBatch(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	var req struct {
		InputFileID      string         `json:"input_file_id"`
		Endpoint         string         `json:"endpoint"`
		CompletionWindow string         `json:"completion_window"`
		Metadata         map[string]any `json:"metadata"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", err.Error())
		return
	}
	s.mu.Lock()
	f := s.files[req.InputFileID]
	if f == nil || req.Endpoint != "/v1/chat/completions" || req.CompletionWindow != "24h" {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "want an uploaded input_file_id, endpoint /v1/chat/completions and completion_window 24h")
		return
	}
	s.nextID++
	b := &serverBatch{id: fmt.Sprintf("batch_%d", s.nextID), inputFileID: f.id, status: "validating", metadata: req.Metadata,
		createdAt: time.Now().Unix(), total: bytes.Count(f.data, []byte("\n"))}
	s.batches[b.id] = b
	s.batchOrder = append(s.batchOrder, b.id)
	v := b.view()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, v)
}

func (s *OpenAIServer) listBatches(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	data := []map[string]any{}
	for i := len(s.batchOrder) - 1; i >= 0; i-- { // newest first, as OpenAI lists
		data = append(data, s.batches[s.batchOrder[i]].view())
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "has_more": false})
}

func (s *OpenAIServer) getBatch(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	b := s.batches[r.PathValue("id")]
	if b == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "invalid_request_error", "", "No such Batch object: "+r.PathValue("id"))
		return
	}
	b.polls++
	ends := s.opts.Batches.PollsToEnd
	if ends <= 0 {
		ends = 2
	}
	if b.status == "validating" || b.status == "in_progress" {
		b.status = "in_progress"
		if b.polls > ends {
			s.runBatchLocked(b)
		}
	}
	v := b.view()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, v)
}

// runBatchLocked answers a batch's lines and ends it; s.mu is held.
func (s *OpenAIServer) runBatchLocked(b *serverBatch) {
	opts := s.opts.Batches
	in := s.files[b.inputFileID].data
	var out, errs bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(in))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		var line struct {
			CustomID string          `json:"custom_id"`
			Method   string          `json:"method"`
			URL      string          `json:"url"`
			Body     json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			continue
		}
		if opts.Expire && n > b.total/2 {
			continue // not reached before the window closed
		}
		req, err := decodeChatRequest("chat", line.Body)
		if msg := validate(req); err != nil || msg != "" || line.Method != "POST" || line.URL != "/v1/chat/completions" || (opts.FailLine != nil && opts.FailLine(line.CustomID)) {
			b.failed++
			fmt.Fprintf(&errs, `{"id":"batch_req_%d","custom_id":%q,"response":{"status_code":500,"request_id":"req_%d","body":{"error":{"message":"The server had an error processing this request.","type":"server_error"}}},"error":null}`+"\n", n, line.CustomID, n)
			continue
		}
		s.mu.Unlock()
		u, body := s.answer(req)
		s.mu.Lock()
		s.batchAnswered[req.UserPrompt()]++
		s.promptTokens += u.PromptTokens
		s.complTokens += u.CompletionTokens
		b.done++
		fmt.Fprintf(&out, `{"id":"batch_req_%d","custom_id":%q,"response":{"status_code":200,"request_id":"req_%d","body":%s},"error":null}`+"\n", n, line.CustomID, n, body)
	}
	b.status = "completed"
	if opts.Expire {
		b.status = "expired"
	}
	b.endedAt = b.createdAt + 7 // seconds: a batch's time from creation to end
	s.nextID++
	if out.Len() > 0 {
		b.outputFile = fmt.Sprintf("file-%d", s.nextID)
		s.files[b.outputFile] = &serverFile{id: b.outputFile, purpose: "batch_output", data: out.Bytes()}
	}
	if errs.Len() > 0 {
		b.errorFile = fmt.Sprintf("file-%d-errors", s.nextID)
		s.files[b.errorFile] = &serverFile{id: b.errorFile, purpose: "batch_output", data: errs.Bytes()}
	}
}

// view is the batch as the API shows it.
func (b *serverBatch) view() map[string]any {
	v := map[string]any{"id": b.id, "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": b.inputFileID,
		"completion_window": "24h", "status": b.status, "created_at": b.createdAt, "metadata": b.metadata,
		"request_counts": map[string]int{"total": b.total, "completed": b.done, "failed": b.failed},
		"output_file_id": nil, "error_file_id": nil}
	if b.outputFile != "" {
		v["output_file_id"] = b.outputFile
	}
	if b.errorFile != "" {
		v["error_file_id"] = b.errorFile
	}
	if b.endedAt != 0 {
		key := strings.TrimSuffix(b.status, "d") + "d_at" // completed_at, expired_at
		v[key] = b.endedAt
	}
	return v
}
