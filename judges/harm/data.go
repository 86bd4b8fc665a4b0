package harm

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Source names of the training corpora, as used in Example.Source and in
// TrainConfig.SourceWeights.
const (
	SourceXSTest     = "xstest"
	SourceJBB        = "jbb-artifacts"
	SourceSafeRLHF   = "saferlhf"
	SourceAdvBench   = "advbench"
	SourceHHHarmful  = "hh-rlhf"
	SourceTruthfulQA = "truthfulqa"
	SourceBehaviors  = "jbb-behaviors"
	SourceGPTFuzz    = "gptfuzz"
	SourceEthics     = "ethics"
)

// NonCommercialSources are the corpora whose licence forbids commercial
// use (Safe-RLHF-mini: CC BY-NC 4.0). The default model is trained without
// them; CorpusOptions.NonCommercial adds them.
var NonCommercialSources = []string{SourceSafeRLHF}

// Kind says which term of the loss an example feeds.
type Kind uint8

const (
	// KindJudged is a (prompt, response) with a harmful-compliance Label.
	KindJudged Kind = iota
	// KindPair is a preference pair: Response is more harmful than Safer
	// (which may be empty: an empty answer is the safer one). Label is
	// ignored.
	KindPair
	// KindRequest is a request alone (Response empty), labelled by
	// Request: whether carrying it out would be harmful.
	KindRequest
)

// Request labels a prompt: is the request itself harmful?
type Request int8

const (
	RequestUnknown Request = iota
	RequestHarmful
	RequestBenign
)

// Example is one labelled training item.
type Example struct {
	// Source names the corpus (one of the Source constants).
	Source string
	// Kind is the loss term the example feeds.
	Kind Kind
	// Group keys the train/validation split: items of one group (the same
	// request) fall on the same side.
	Group string
	// Goal is the behaviour behind the prompt when the corpus records it
	// (AdvBench and JailbreakBench goals); it is used only to find overlap
	// with the held-out set.
	Goal string
	// Prompt and Response are the request and the model's answer.
	Prompt   string
	Response string
	// Label is 1 for harmful compliance and 0 otherwise (KindJudged).
	Label float64
	// Request says whether the prompt is a harmful request, when known.
	Request Request
	// Safer is the preferred (chosen) answer of a KindPair example.
	Safer string
}

// Texts returns the example's non-empty texts (goal, prompt, response,
// safer answer), the fields audited for overlap with held-out data.
func (e Example) Texts() []string {
	var out []string
	for _, s := range []string{e.Goal, e.Prompt, e.Response, e.Safer} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// CorpusOptions selects the corpora LoadCorpus reads.
type CorpusOptions struct {
	// NonCommercial adds the corpora whose licence forbids commercial use
	// (NonCommercialSources).
	NonCommercial bool
}

// LoadCorpus reads every training corpus below dir (the shared datasets
// folder): XSTest completions, JailbreakBench PAIR/GCG artifacts and
// behaviours, AdvBench goals and targets, HH-RLHF harmless pairs,
// TruthfulQA answers and GPTFuzz questions, plus Safe-RLHF-mini with
// opt.NonCommercial. It returns every item, including those that overlap
// the held-out set: TrainingSet removes them. It never reads alpacaeval.
// How each corpus becomes labels is documented in the package README.
func LoadCorpus(dir string, opt CorpusOptions) ([]Example, error) {
	loaders := []func(string) ([]Example, error){
		loadXSTest, loadJBBArtifacts, loadAdvBench, loadHHRLHF, loadTruthfulQA, loadBehaviors, loadGPTFuzz, loadEthics,
	}
	if opt.NonCommercial {
		loaders = append(loaders, loadSafeRLHF)
	}
	var all []Example
	for _, load := range loaders {
		ex, err := load(dir)
		if err != nil {
			return nil, err
		}
		all = append(all, ex...)
	}
	return all, nil
}

// TrainingSet is what the training program trains on: LoadCorpus with
// every item that overlaps the held-out sets removed (see LoadHeldOut and
// HeldOut.Drop): jbb-judge-comparison, and the AlpacaEval instructions and
// outputs, which are read for that only.
func TrainingSet(dir string, opt CorpusOptions) ([]Example, DropReport, error) {
	all, err := LoadCorpus(dir, opt)
	if err != nil {
		return nil, DropReport{}, err
	}
	h, err := LoadHeldOut(dir)
	if err != nil {
		return nil, DropReport{}, err
	}
	kept, rep := h.Drop(all)
	return kept, rep, nil
}

// readCSV reads a CSV file with a header row and returns the rows as maps
// from column name to value, checking that the named columns exist.
func readCSV(path string, need ...string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	for _, n := range need {
		found := false
		for _, h := range header {
			found = found || h == n
		}
		if !found {
			return nil, fmt.Errorf("%s: no column %q", path, n)
		}
	}
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		m := make(map[string]string, len(header))
		for i, h := range header {
			if i < len(rec) {
				m[h] = rec[i]
			}
		}
		rows = append(rows, m)
	}
	return rows, nil
}

// loadXSTest labels an XSTest completion harmful when its prompt is one of
// the unsafe contrast prompts and the human gold label is full compliance.
// Refusals, partial refusals and any answer to a safe prompt are labelled 0.
func loadXSTest(dir string) ([]Example, error) {
	models := []string{"gpt4", "llama2new", "llama2orig", "mistralguard", "mistralinstruct"}
	var out []Example
	for _, m := range models {
		p := filepath.Join(dir, "xstest-completions", "automated_evaluation_labels", "xstest_v2_completions_"+m+"_gpteval.csv")
		rows, err := readCSV(p, "id", "type", "prompt", "completion", "final_label")
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			y, req := 0.0, RequestBenign
			if strings.HasPrefix(r["type"], "contrast_") {
				req = RequestHarmful
				if r["final_label"] == "1_full_compliance" {
					y = 1
				}
			}
			out = append(out, Example{Source: SourceXSTest, Group: "xstest/" + r["id"], Prompt: r["prompt"], Response: r["completion"], Label: y, Request: req})
		}
	}
	return out, nil
}

// loadJBBArtifacts reads the PAIR and GCG jailbreak prompts with the target
// models' responses, labelled by the `jailbroken` flag (the JailbreakBench
// Llama-3-70B judge). Entries without a response are skipped.
func loadJBBArtifacts(dir string) ([]Example, error) {
	files := []string{
		"PAIR/black_box/vicuna-13b-v1.5.json",
		"PAIR/black_box/llama-2-7b-chat-hf.json",
		"GCG/white_box/vicuna-13b-v1.5.json",
		"GCG/white_box/llama-2-7b-chat-hf.json",
	}
	var out []Example
	for _, f := range files {
		p := filepath.Join(dir, "jbb-attack-artifacts", f)
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Jailbreaks []struct {
				Index      int     `json:"index"`
				Goal       string  `json:"goal"`
				Prompt     *string `json:"prompt"`
				Response   *string `json:"response"`
				Jailbroken bool    `json:"jailbroken"`
			} `json:"jailbreaks"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for _, j := range doc.Jailbreaks {
			if j.Prompt == nil || j.Response == nil {
				continue
			}
			y := 0.0
			if j.Jailbroken {
				y = 1
			}
			out = append(out, Example{Source: SourceJBB, Group: fmt.Sprintf("jbb/%d", j.Index), Goal: j.Goal, Prompt: *j.Prompt, Response: *j.Response, Label: y, Request: RequestHarmful})
		}
	}
	return out, nil
}

// loadSafeRLHF reads Safe-RLHF-mini question/answer pairs with their
// safe (0) / unsafe (1) labels.
func loadSafeRLHF(dir string) ([]Example, error) {
	rows, err := readCSV(filepath.Join(dir, "saferlhf-mini", "Safe-RLHFmini.csv"), "question", "answer", "label")
	if err != nil {
		return nil, err
	}
	out := make([]Example, 0, len(rows))
	for i, r := range rows {
		var y float64
		switch r["label"] {
		case "1":
			y = 1
		case "0":
		default:
			return nil, fmt.Errorf("saferlhf-mini row %d: label %q is not 0 or 1", i+2, r["label"])
		}
		out = append(out, Example{Source: SourceSafeRLHF, Group: "saferlhf/" + r["question"], Prompt: r["question"], Response: r["answer"], Label: y})
	}
	return out, nil
}

// loadAdvBench turns the AdvBench affirmative targets ("Sure, here is a
// script that ...") into positive examples for their goals. The harmful
// strings (fragments with no request) are not used.
func loadAdvBench(dir string) ([]Example, error) {
	rows, err := readCSV(filepath.Join(dir, "advbench", "harmful_behaviors.csv"), "goal", "target")
	if err != nil {
		return nil, err
	}
	var out []Example
	for _, r := range rows {
		out = append(out, Example{Source: SourceAdvBench, Group: "advbench/" + r["goal"], Goal: r["goal"], Prompt: r["goal"], Response: r["target"], Label: 1, Request: RequestHarmful})
	}
	return out, nil
}

// loadHHRLHF reads the HH-RLHF harmless-base test pairs whose transcripts
// differ only in the last assistant turn, as preference pairs: the rejected
// answer should score as more harmful than the chosen one. A chosen turn
// that is empty stays a pair (the empty answer is the safer one); it is not
// a harmless example of the rejected answer.
func loadHHRLHF(dir string) ([]Example, error) {
	p := filepath.Join(dir, "hh-rlhf", "harmless-base", "test.jsonl.gz")
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	dec := json.NewDecoder(zr)
	var out []Example
	for line := 1; ; line++ {
		var row struct {
			Chosen   string `json:"chosen"`
			Rejected string `json:"rejected"`
		}
		if err := dec.Decode(&row); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: record %d: %w", p, line, err)
		}
		const turn = "\n\nAssistant:"
		ci, ri := strings.LastIndex(row.Chosen, turn), strings.LastIndex(row.Rejected, turn)
		if ci < 0 || ri < 0 || row.Chosen[:ci] != row.Rejected[:ri] {
			continue
		}
		chosen := strings.TrimSpace(row.Chosen[ci+len(turn):])
		rejected := strings.TrimSpace(row.Rejected[ri+len(turn):])
		if chosen == rejected {
			continue
		}
		prompt := row.Chosen[:ci]
		if h := strings.LastIndex(prompt, "\n\nHuman:"); h >= 0 {
			prompt = prompt[h+len("\n\nHuman:"):]
		}
		prompt = strings.TrimSpace(prompt)
		out = append(out, Example{Source: SourceHHHarmful, Kind: KindPair, Group: "hh/" + prompt, Prompt: prompt, Response: rejected, Safer: chosen})
	}
	return out, nil
}

// loadTruthfulQA turns every TruthfulQA answer (best, correct and
// incorrect: all are harmless) into a benign compliant example of its
// question, label 0.
func loadTruthfulQA(dir string) ([]Example, error) {
	rows, err := readCSV(filepath.Join(dir, "truthfulqa", "TruthfulQA.csv"), "Question", "Best Answer", "Correct Answers", "Incorrect Answers")
	if err != nil {
		return nil, err
	}
	var out []Example
	for _, r := range rows {
		q := r["Question"]
		seen := map[string]bool{}
		answers := []string{r["Best Answer"]}
		answers = append(answers, strings.Split(r["Correct Answers"], "; ")...)
		answers = append(answers, strings.Split(r["Incorrect Answers"], "; ")...)
		for _, a := range answers {
			a = strings.TrimSpace(a)
			if a == "" || seen[a] {
				continue
			}
			seen[a] = true
			out = append(out, Example{Source: SourceTruthfulQA, Group: "tqa/" + q, Prompt: q, Response: a, Request: RequestBenign})
		}
	}
	return out, nil
}

// loadBehaviors turns the JailbreakBench behaviours into examples of their
// affirmative targets ("Sure, here is ..."): label 1 for a harmful goal,
// label 0 for its benign twin on the same topic.
func loadBehaviors(dir string) ([]Example, error) {
	var out []Example
	for _, f := range []struct {
		file string
		y    float64
		req  Request
	}{{"harmful-behaviors.csv", 1, RequestHarmful}, {"benign-behaviors.csv", 0, RequestBenign}} {
		rows, err := readCSV(filepath.Join(dir, "jbb-behaviors", f.file), "Index", "Goal", "Target")
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out = append(out, Example{Source: SourceBehaviors, Group: "behaviors/" + f.file + "/" + r["Index"], Goal: r["Goal"], Prompt: r["Goal"], Response: r["Target"], Label: f.y, Request: f.req})
		}
	}
	return out, nil
}

// loadGPTFuzz reads the GPTFuzz harmful questions as harmful requests
// (no response).
func loadGPTFuzz(dir string) ([]Example, error) {
	rows, err := readCSV(filepath.Join(dir, "gptfuzz", "question_list.csv"), "text")
	if err != nil {
		return nil, err
	}
	var out []Example
	for _, r := range rows {
		out = append(out, Example{Source: SourceGPTFuzz, Kind: KindRequest, Group: "gptfuzz/" + r["text"], Prompt: r["text"], Request: RequestHarmful})
	}
	return out, nil
}

// loadEthics reads the distinct scenarios of the ETHICS deontology,
// justice and virtue test splits ("Could you bring me my shoes?", "I
// usually make my kids breakfast…", "Martha hired a new babysitter…"):
// everyday requests and situations, used as benign requests (no response)
// so that the request part learns the words of ordinary life. The label
// columns are not used.
func loadEthics(dir string) ([]Example, error) {
	var out []Example
	seen := map[string]bool{}
	for _, f := range []string{"deontology/deontology_test.csv", "justice/justice_test.csv", "virtue/virtue_test.csv"} {
		rows, err := readCSV(filepath.Join(dir, "ethics", f), "scenario")
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			q, _, _ := strings.Cut(r["scenario"], " [SEP] ")
			q = strings.TrimSpace(q)
			if q == "" || seen[q] {
				continue
			}
			seen[q] = true
			out = append(out, Example{Source: SourceEthics, Kind: KindRequest, Group: "ethics/" + q, Prompt: q, Request: RequestBenign})
		}
	}
	return out, nil
}
