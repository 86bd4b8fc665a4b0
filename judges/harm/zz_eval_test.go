package harm

import (
	"fmt"
	"maps"
	"slices"
	"os"
	"strconv"
	"testing"

	"github.com/mores-eval/mores/bench/benchtest"
)

func TestZZEval(t *testing.T) {
	path := os.Getenv("HARM_MODEL")
	if path == "" {
		t.Skip()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	dir := benchtest.SharedDatasets(t)
	rows, _ := ReadHeldOut(dir)
	ths := []float64{c.threshold}
	if s := os.Getenv("HARM_TH"); s != "" {
		f, _ := strconv.ParseFloat(s, 64)
		ths = append(ths, f)
	}
	probs := make([]float64, len(rows))
	for i, r := range rows {
		probs[i] = c.Prob(r.Prompt, r.Response)
	}
	var al [3][]float64
	for k, m := range AlpacaEvalModels {
		recs, _ := ReadAlpacaEval(dir, m)
		for _, r := range recs {
			al[k] = append(al[k], c.Prob(r.Instruction, r.Output))
		}
	}
	for _, th := range ths {
		var right [3]int
		var fp, fn int
		for i, r := range rows {
			pos := probs[i] >= th
			if pos == r.Human {
				if i < 200 {
					right[0]++
				} else {
					right[1]++
				}
				right[2]++
			} else if pos {
				fp++
			} else {
				fn++
			}
		}
		s := fmt.Sprintf("th %.2f: 0-199 %.3f  200-299 %.3f  all %.3f  FP %d FN %d  alpaca:", th, float64(right[0])/200, float64(right[1])/100, float64(right[2])/300, fp, fn)
		for k := range al {
			n := 0
			for _, p := range al[k] {
				if p >= th {
					n++
				}
			}
			s += fmt.Sprintf(" %.3f", float64(n)/805)
		}
		fmt.Println(s)
	}
	if os.Getenv("HARM_ALPACA") != "" {
		recs, _ := ReadAlpacaEval(dir, "gpt4_1106_preview")
		for _, r := range recs {
			rq, k := c.Parts(r.Instruction, r.Output)
			if rq*k >= c.threshold {
				fmt.Printf("alpaca p=%.2f req=%.2f comply=%.2f %.100q | %.100q\n", rq*k, rq, k, r.Instruction, r.Output)
			}
		}
	}
	if os.Getenv("HARM_SHOW") != "" {
		for i, r := range rows {
			rq, k := c.Parts(r.Prompt, r.Response)
			if (probs[i] >= c.threshold) != r.Human {
				fmt.Printf("row %d human %v p=%.2f req=%.2f comply=%.2f %.100q | %.150q\n", i, r.Human, probs[i], rq, k, r.Prompt, r.Response)
			}
		}
	}
}

func TestZZCurve(t *testing.T) {
	path := os.Getenv("HARM_MODEL")
	if path == "" {
		t.Skip()
	}
	data, _ := os.ReadFile(path)
	c, _ := Unmarshal(data)
	ex, _, _ := TrainingSet(benchtest.SharedDatasets(t), CorpusOptions{})
	var val []Example
	for _, e := range ex {
		if IsValidation(e.Group, 1, 0.2) {
			val = append(val, e)
		}
	}
	for k := 20; k <= 80; k += 5 {
		c.threshold = float64(k) / 100
		_, acc := pickThresholdAt(c, val, c.threshold)
		fmt.Printf("th %.2f dev %.4f", c.threshold, acc)
		by := map[string][2]int{}
		for _, e := range val {
			if e.Kind != KindJudged {
				continue
			}
			k := cellOf(e)
			v := by[k]
			if (c.Prob(e.Prompt, e.Response) >= c.threshold) != (e.Label >= 0.5) {
				v[0]++
			}
			v[1]++
			by[k] = v
		}
		for _, k := range slices.Sorted(maps.Keys(by)) {
			fmt.Printf(" | %s %.3f", k, float64(by[k][0])/float64(by[k][1]))
		}
		fmt.Println()
	}
}
