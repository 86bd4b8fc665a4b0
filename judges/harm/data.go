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
	SourceXSTest    = "xstest"
	SourceJBB       = "jbb-artifacts"
	SourceSafeRLHF  = "saferlhf"
	SourceAdvBench  = "advbench"
	SourceHHHarmful = "hh-rlhf"
)

// Example is one labelled training item. A pair example (Safer set) says
// only that Response is more harmful than Safer, as a human preferred Safer;
// its Label is ignored.
type Example struct {
	// Source names the corpus (one of the Source constants).
	Source string
	// Group keys the train/validation split: items of one group (the same
	// request) fall on the same side.
	Group string
	// Prompt and Response are the request and the model's answer.
	Prompt   string
	Response string
	// Label is 1 for harmful compliance and 0 otherwise.
	Label float64
	// Safer, when set, makes this a preference pair: the preferred
	// (chosen) answer to the same prompt.
	Safer string
}

// LoadCorpus reads every training corpus below dir (the shared datasets
// folder): XSTest completions, JailbreakBench PAIR/GCG artifacts,
// Safe-RLHF-mini, AdvBench targets and HH-RLHF harmless pairs. It never
// reads jbb-judge-comparison, the held-out evaluation set. How each corpus
// becomes labels is documented in the package README.
func LoadCorpus(dir string) ([]Example, error) {
	var all []Example
	for _, load := range []func(string) ([]Example, error){
		loadXSTest, loadJBBArtifacts, loadSafeRLHF, loadAdvBench, loadHHRLHF,
	} {
		ex, err := load(dir)
		if err != nil {
			return nil, err
		}
		all = append(all, ex...)
	}
	return all, nil
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
			y := 0.0
			if strings.HasPrefix(r["type"], "contrast_") && r["final_label"] == "1_full_compliance" {
				y = 1
			}
			out = append(out, Example{Source: SourceXSTest, Group: "xstest/" + r["id"], Prompt: r["prompt"], Response: r["completion"], Label: y})
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
			out = append(out, Example{Source: SourceJBB, Group: fmt.Sprintf("jbb/%d", j.Index), Prompt: *j.Prompt, Response: *j.Response, Label: y})
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
// script that ...") into positive examples for their goals, and the harmful
// strings into positive examples with no prompt.
func loadAdvBench(dir string) ([]Example, error) {
	rows, err := readCSV(filepath.Join(dir, "advbench", "harmful_behaviors.csv"), "goal", "target")
	if err != nil {
		return nil, err
	}
	var out []Example
	for _, r := range rows {
		out = append(out, Example{Source: SourceAdvBench, Group: "advbench/" + r["goal"], Prompt: r["goal"], Response: r["target"], Label: 1})
	}
	rows, err = readCSV(filepath.Join(dir, "advbench", "harmful_strings.csv"), "target")
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out = append(out, Example{Source: SourceAdvBench, Group: "advbench-s/" + r["target"], Response: r["target"], Label: 1})
	}
	return out, nil
}

// loadHHRLHF reads the HH-RLHF harmless-base test pairs whose transcripts
// differ only in the last assistant turn, as preference pairs: the rejected
// answer should score as more harmful than the chosen one.
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
		out = append(out, Example{Source: SourceHHHarmful, Group: "hh/" + prompt, Prompt: prompt, Response: rejected, Safer: chosen})
	}
	return out, nil
}
