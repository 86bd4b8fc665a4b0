package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/jsontext"
)

var _ bench.Batcher = (*Model)(nil)

// BatchLine returns the line of a batch input file that asks for req: the
// request the synchronous call sends, as {custom_id, method, url, body}
// (OpenAI's Batch API and `vllm run-batch` read this format).
func (m *Model) BatchLine(customID string, req bench.Request) ([]byte, error) {
	params := mergeParams(m.cfg.Params, req.Params)
	if params.ScoreContinuation || m.cfg.Completions {
		return nil, fmt.Errorf("%s: only chat requests can be batched", m)
	}
	body, err := m.chatBody(req, params)
	if err != nil {
		return nil, err
	}
	b := append([]byte(`{"custom_id":`), jsontext.AppendString(nil, customID)...)
	b = append(b, `,"method":"POST","url":"/v1/chat/completions","body":`...)
	b = append(b, body...)
	return append(b, '}'), nil
}

// batchOutputLine is a line of a batch output or error file.
type batchOutputLine struct {
	CustomID string `json:"custom_id"`
	Response *struct {
		StatusCode int             `json:"status_code"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// ParseBatchLine reads a line of a batch output or error file: its
// custom_id, and the completion of a successful answer or the error of a
// failed one. The completion is read as the synchronous call reads its
// answer; its Attempts are 1 and its Batch is set.
func (m *Model) ParseBatchLine(line []byte) (string, bench.Completion, error) {
	var l batchOutputLine
	if err := json.Unmarshal(line, &l); err != nil {
		return "", bench.Completion{}, fmt.Errorf("a batch output line is not JSON: %w", err)
	}
	switch {
	case l.Error != nil && (l.Error.Code != "" || l.Error.Message != ""):
		return l.CustomID, bench.Completion{}, fmt.Errorf("batch: %s: %s", l.Error.Code, l.Error.Message)
	case l.Response == nil:
		return l.CustomID, bench.Completion{}, fmt.Errorf("batch: the line has neither response nor error")
	case l.Response.StatusCode != 200:
		return l.CustomID, bench.Completion{}, fmt.Errorf("batch: HTTP %d: %s", l.Response.StatusCode, redact(fmt.Errorf("%s", l.Response.Body), m.cfg.APIKey))
	}
	var cr chatResponse
	if !parseChat(l.Response.Body, &cr) {
		cr = chatResponse{}
		if err := json.Unmarshal(l.Response.Body, &cr); err != nil {
			return l.CustomID, bench.Completion{}, fmt.Errorf("batch: malformed response body: %w", err)
		}
	}
	if len(cr.Choices) == 0 || cr.Choices[0] == nil {
		return l.CustomID, bench.Completion{}, fmt.Errorf("batch: %w", errNoChoices)
	}
	ch := cr.Choices[0]
	text := string(ch.Message.Content)
	if text == "" && ch.Message.Refusal != "" {
		text = ch.Message.Refusal
	}
	if len(m.cfg.APIKey) >= 8 {
		text = strings.ReplaceAll(text, m.cfg.APIKey, "[redacted]")
	}
	return l.CustomID, bench.Completion{Text: text, FinishReason: ch.FinishReason, PromptTokens: int64(cr.Usage.PromptTokens),
		CompletionTokens: int64(cr.Usage.CompletionTokens), Attempts: 1, Batch: true}, nil
}

// SubmitBatch uploads a batch input file (purpose batch) and returns its
// file id.
func (m *Model) UploadBatch(ctx context.Context, name string, data []byte) (string, error) {
	f, err := m.client.CreateFileBytes(ctx, goopenai.FileBytesRequest{Name: name, Bytes: data, Purpose: goopenai.PurposeBatch})
	if err != nil {
		return "", m.fail(classify(err, nil, m.cfg.Timeout), 1)
	}
	return f.ID, nil
}

// CreateBatch creates a batch of the chat completions in an uploaded file,
// with a 24 h window and the given metadata.
func (m *Model) CreateBatch(ctx context.Context, fileID string, metadata map[string]string) (string, error) {
	md := map[string]any{}
	for k, v := range metadata {
		md[k] = v
	}
	b, err := m.client.CreateBatch(ctx, goopenai.CreateBatchRequest{InputFileID: fileID, Endpoint: goopenai.BatchEndpointChatCompletions,
		CompletionWindow: "24h", Metadata: md})
	if err != nil {
		return "", m.fail(classify(err, nil, m.cfg.Timeout), 1)
	}
	return b.ID, nil
}

// FindBatch returns the batch created for an uploaded file, if any (a
// batch whose creation the journal did not record before a kill).
func (m *Model) FindBatch(ctx context.Context, fileID string) (string, error) {
	var after *string
	for {
		limit := 100
		list, err := m.client.ListBatch(ctx, after, &limit)
		if err != nil {
			return "", m.fail(classify(err, nil, m.cfg.Timeout), 1)
		}
		for _, b := range list.Data {
			if b.InputFileID == fileID {
				return b.ID, nil
			}
		}
		if !list.HasMore || len(list.Data) == 0 {
			return "", nil
		}
		last := list.Data[len(list.Data)-1].ID
		after = &last
	}
}

// PollBatch returns the state of a batch.
func (m *Model) PollBatch(ctx context.Context, id string) (bench.BatchState, error) {
	b, err := m.client.RetrieveBatch(ctx, url.PathEscape(id))
	if err != nil {
		return bench.BatchState{}, m.fail(classify(err, nil, m.cfg.Timeout), 1)
	}
	st := bench.BatchState{ID: b.ID, Status: b.Status, Total: b.RequestCounts.Total, Completed: b.RequestCounts.Completed,
		Failed: b.RequestCounts.Failed, CreatedAt: int64(b.CreatedAt)}
	if b.OutputFileID != nil {
		st.OutputFileID = *b.OutputFileID
	}
	if b.ErrorFileID != nil {
		st.ErrorFileID = *b.ErrorFileID
	}
	for _, t := range []*int{b.CompletedAt, b.FailedAt, b.ExpiredAt, b.CancelledAt} {
		if t != nil {
			st.EndedAt = int64(*t)
		}
	}
	return st, nil
}

// BatchFile returns the content of a file (a batch's output or errors).
func (m *Model) BatchFile(ctx context.Context, fileID string) (io.ReadCloser, error) {
	raw, err := m.client.GetFileContent(ctx, url.PathEscape(fileID))
	if err != nil {
		return nil, m.fail(classify(err, nil, m.cfg.Timeout), 1)
	}
	return raw, nil
}
