//go:build ignore

// genprior writes prior.jsonl, the built-in prior memory, from Anthropic's
// HH-RLHF harmless-base test split (MIT, github.com/anthropics/hh-rlhf,
// commit 354e5c3cb8960630860dd5774a6ac2a58313bf4d), as
// ../shared/datasets/hh-rlhf holds it: of the conversations with one human
// turn whose chosen and rejected answers differ and are at most 400 bytes,
// every third one in file order, up to 120; the first human turn is the
// question, the chosen answer is labelled good and the rejected one bad
// (the released code's labeled_prior.jsonl is built the same way from
// HH-RLHF, with labels "good" and "bad").
//
//	go run genprior.go ../../../shared/datasets/hh-rlhf/harmless-base/test.jsonl.gz
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		panic(err)
	}
	out, err := os.Create("prior.jsonl")
	if err != nil {
		panic(err)
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	k, n := 0, 0
	for sc.Scan() && n < 120 {
		var row struct{ Chosen, Rejected string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			panic(err)
		}
		q, good, ok1 := split(row.Chosen)
		q2, bad, ok2 := split(row.Rejected)
		if !ok1 || !ok2 || q != q2 || good == bad || good == "" || bad == "" || len(good) > 400 || len(bad) > 400 {
			continue
		}
		k++
		if k%3 != 1 {
			continue
		}
		n++
		enc.Encode(map[string]string{"question": q, "answer": good, "label": "good"})
		enc.Encode(map[string]string{"question": q, "answer": bad, "label": "bad"})
	}
	if err := out.Close(); err != nil {
		panic(err)
	}
	fmt.Println(n, "pairs")
}

// split returns the human turn and the assistant's answer of a one-turn
// conversation "\n\nHuman: …\n\nAssistant: …".
func split(t string) (string, string, bool) {
	if strings.Count(t, "\n\nHuman:") != 1 || strings.Count(t, "\n\nAssistant:") != 1 {
		return "", "", false
	}
	rest, ok := strings.CutPrefix(t, "\n\nHuman:")
	if !ok {
		return "", "", false
	}
	q, a, ok := strings.Cut(rest, "\n\nAssistant:")
	return strings.TrimSpace(q), strings.TrimSpace(a), ok
}
