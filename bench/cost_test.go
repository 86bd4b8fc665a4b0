package bench

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
)

func TestDefaultPriceOfSnapshots(t *testing.T) {
	for name, want := range map[string]*Price{
		"gpt-4o-mini":            {0.15, 0.60},
		"gpt-4o-mini-2024-07-18": {0.15, 0.60}, // not gpt-4o's price
		"gpt-4o-2024-08-06":      {2.50, 10.00},
		"gpt-4.1-nano":           {0.10, 0.40},
		"gpt-4o-minix":           nil,
		"meta-llama/Llama-3-8B":  nil,
	} {
		got, ok := DefaultPrice(name)
		if (want == nil) == ok || (want != nil && got != *want) {
			t.Errorf("DefaultPrice(%q) = %v, %v; want %v", name, got, ok, want)
		}
	}
	// 1,000 prompt and 500 completion tokens of gpt-4o-mini.
	if c := (Price{0.15, 0.60}).Cost(1000, 500); c != 0.00045 {
		t.Errorf("cost %v, want 0.00045", c)
	}
	c := Completion{PromptTokens: 1000, CompletionTokens: 500, Batch: true}
	priceCompletion(&c, &Price{0.15, 0.60})
	if c.CostUSD != 0.000225 {
		t.Errorf("batch cost %v, want half of 0.00045", c.CostUSD)
	}
}

func TestJournalCodecCarriesCostAndBatch(t *testing.T) {
	e := &Entry{Kind: EntryTrial, Suite: "s", SampleID: "1", Model: "m", Attack: "none", Epoch: 1,
		Result: &Completion{Text: "hi", PromptTokens: 3, CompletionTokens: 1, CostUSD: 1.25e-6, Batch: true}}
	line, err := appendEntry(nil, e)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(e)
	if string(line) != string(want) {
		t.Errorf("encoded\n%s\nencoding/json\n%s", line, want)
	}
	var got Entry
	if err := newEntryDecoder().decode(line, &got); err != nil || !reflect.DeepEqual(got.Result, e.Result) {
		t.Errorf("decoded %+v, %v; want %+v", got.Result, err, e.Result)
	}
	b := &Entry{Kind: EntryBatch, Batch: &BatchInfo{State: "created", Model: "m", FileID: "file-1", BatchID: "batch_1", Indices: []int64{0, 2}}}
	line, _ = appendEntry(nil, b)
	var gb Entry
	if err := newEntryDecoder().decode(line, &gb); err != nil || !reflect.DeepEqual(gb.Batch, b.Batch) {
		t.Errorf("batch entry decoded %+v, %v", gb.Batch, err)
	}
}

func TestBudgetWaitsForRequestsInFlight(t *testing.T) {
	b := &budget{max: 1}
	ctx := context.Background()
	if !b.reserve(ctx, 0.6) {
		t.Fatal("first reservation refused")
	}
	done := make(chan bool)
	go func() { done <- b.reserve(ctx, 0.6) }() // waits: 0.6 + 0.6 > 1 while the first is in flight
	b.settle(0.6, 0.3)                          // it cost less than estimated
	if !<-done {
		t.Fatal("second reservation refused although 0.3 + 0.6 ≤ 1")
	}
	b.settle(0.6, 0.6)
	if b.reserve(ctx, 0.2) {
		t.Error("a reservation beyond what was spent (0.9 + 0.2 > 1) was granted")
	}
}
