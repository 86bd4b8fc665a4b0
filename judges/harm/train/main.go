// Command train fits the harm judge's classifier on the public labelled
// corpora in the shared datasets folder and writes the model file that the
// harm package embeds:
//
//	go run ./judges/harm/train -out judges/harm/model.bin
//
// The output is deterministic for a seed: two runs write the same bytes. It
// trains on harm.TrainingSet: the held-out sets (jbb-judge-comparison and
// the AlpacaEval outputs) are read only to drop every training item that
// overlaps them. What was dropped (counts per corpus and kind) and the
// validation report (per-corpus accuracy at the chosen threshold) go to
// stderr. With -noncommercial it also trains on Safe-RLHF-mini (CC BY-NC
// 4.0): the model it writes is then for non-commercial use only.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mores-eval/mores/judges/harm"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(2)
	}
}

// run parses the flags, trains and writes the model file.
func run(args []string, stderr io.Writer) error {
	def := harm.DefaultTrainConfig()
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "model file to write (required)")
	data := fs.String("data", "", "shared datasets folder (default: ../shared/datasets beside the module root, or $MORES_SHARED_DATASETS)")
	seed := fs.Int64("seed", def.Seed, "seed of the train/validation split")
	bits := fs.Uint("bits", def.TableBits, "log2 of the number of hashed compliance features")
	rbits := fs.Uint("request-bits", def.RequestBits, "log2 of the number of hashed request features")
	reqWeight := fs.Float64("request-weight", def.RequestWeight, "weight of the request part's own loss on labelled requests")
	l2 := fs.Float64("l2", def.L2, "L2 penalty")
	iters := fs.Int("iters", def.Iterations, "maximum L-BFGS iterations")
	val := fs.Float64("val", def.ValFraction, "fraction of request groups held out for validation")
	noPrompt := fs.Bool("no-prompt", false, "do not use prompt features")
	noChars := fs.Bool("no-chars", false, "do not use character n-grams")
	nonCommercial := fs.Bool("noncommercial", false, "also train on corpora whose licence forbids commercial use (Safe-RLHF-mini, CC BY-NC 4.0): the weights are then for non-commercial use only")
	weights := fs.String("weights", "", "corpus weights, e.g. xstest=1,jbb-artifacts=1,advbench=0.2,hh-rlhf=0.5,truthfulqa=0.5,jbb-behaviors=0.2,gptfuzz=0.2 (a corpus left out is not used)")
	reqOnly := fs.String("request-only", strings.Join(def.RequestOnly, ","), "corpora that train the request part only (comma-separated)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-out is required")
	}
	cfg := def
	cfg.Seed, cfg.TableBits, cfg.RequestBits, cfg.L2, cfg.Iterations, cfg.ValFraction = *seed, *bits, *rbits, *l2, *iters, *val
	cfg.RequestWeight = *reqWeight
	cfg.RequestOnly = nil
	if *reqOnly != "" {
		cfg.RequestOnly = strings.Split(*reqOnly, ",")
	}
	if *noPrompt {
		cfg.Flags &^= harm.FlagPrompt
	}
	if *noChars {
		cfg.Flags &^= harm.FlagChars
	}
	if *nonCommercial {
		cfg.SourceWeights = maps.Clone(cfg.SourceWeights)
		maps.Copy(cfg.SourceWeights, harm.NonCommercialWeights)
	}
	if *weights != "" {
		cfg.SourceWeights = map[string]float64{}
		for _, kv := range strings.Split(*weights, ",") {
			k, v, ok := strings.Cut(kv, "=")
			f, err := strconv.ParseFloat(v, 64)
			if !ok || err != nil {
				return fmt.Errorf("-weights: %q is not NAME=NUMBER", kv)
			}
			cfg.SourceWeights[k] = f
		}
	}
	dir := *data
	if dir == "" {
		var err error
		if dir, err = defaultDataDir(); err != nil {
			return err
		}
	}
	examples, drops, err := harm.TrainingSet(dir, harm.CorpusOptions{NonCommercial: *nonCommercial})
	if err != nil {
		return err
	}
	fmt.Fprint(stderr, drops)
	c, rep, err := harm.Train(examples, cfg)
	if err != nil {
		return err
	}
	fmt.Fprint(stderr, rep)
	b, err := c.MarshalBinary()
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%d bytes)\n", *out, len(b))
	return nil
}

// defaultDataDir returns $MORES_SHARED_DATASETS, or ../shared/datasets
// beside the module root found above the working directory.
func defaultDataDir() (string, error) {
	if env := os.Getenv("MORES_SHARED_DATASETS"); env != "" {
		return env, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "datasets"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; pass -data")
		}
		dir = parent
	}
}
