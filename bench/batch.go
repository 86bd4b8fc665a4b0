package bench

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
