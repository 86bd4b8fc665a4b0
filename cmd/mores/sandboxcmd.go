package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/provider/openai"
	"github.com/mores-eval/mores/judges/sandbox"
	"github.com/mores-eval/mores/reports/sandboxreport"
)

// sandboxOptions is the resolved configuration of `mores sandbox`, stored
// in the manifest so that --resume runs exactly the same simulation.
type sandboxOptions struct {
	Models       []string `json:"models"`
	Observer     string   `json:"observer"`
	Config       string   `json:"config,omitempty"`
	Size         int      `json:"size"`
	Rounds       int      `json:"rounds"`
	Setting      string   `json:"setting"`
	Peers        int      `json:"peers"`
	Global       bool     `json:"global"`
	Dropout      float64  `json:"dropout"`
	ScoreOnly    bool     `json:"score_only"`
	Questions    string   `json:"questions"`
	Prior        string   `json:"prior"`
	Embedding    string   `json:"embedding"`
	Seed         int64    `json:"seed"`
	Concurrency  int      `json:"concurrency"`
	NoCache      bool     `json:"no_cache,omitempty"`
	MaxErrorRate float64  `json:"max_error_rate"`
	NoReport     bool     `json:"no_report,omitempty"`
	Out          string   `json:"-"`
	RunID        string   `json:"run_id"`
}

func newSandboxCmd(e *env) *cobra.Command {
	var o sandboxOptions
	var resume, cacheDir string
	c := &cobra.Command{
		Use:   "sandbox",
		Short: "Run SANDBOX, the simulated society of Stable Alignment, as its released code runs it",
		Long: `Run SANDBOX: a size×size grid of agents with memories, all driven by the model
under test (one world per --model), answers questions in rounds; each agent drafts,
asks up to --peers neighbours for ratings and feedback (back-scatter), revises, and a
separate observer model rates draft and revision for alignment and engagement. The
prompts and the protocol are those of github.com/agi-templar/Stable-Alignment.

With no --model, the simulated models play the agents (sim:baseline and sim:aligned)
and sim:judge the observer, offline. The observer defaults to the judge_model of
--config; give --observer for real models.`,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("sandbox takes no argument (got %q)", args[0])
			}
			if resume != "" {
				m, err := sandbox.ReadManifest(resume)
				if err != nil {
					return err
				}
				concurrency := o.Concurrency
				o = sandboxOptions{}
				if err := json.Unmarshal(m.Config, &o); err != nil {
					return &bench.InputError{File: filepath.Join(resume, sandbox.ManifestFile), Field: "config", Msg: err.Error()}
				}
				if c.Flags().Changed("concurrency") {
					o.Concurrency = concurrency
				}
				o.Out, o.RunID = filepath.Dir(filepath.Clean(resume)), filepath.Base(filepath.Clean(resume))
			}
			return doSandbox(c.Context(), e, o, cacheDir)
		},
	}
	f := c.Flags()
	f.StringArrayVar(&o.Models, "model", nil, "a model under test, NAME=SPEC (repeatable; one world each); none: sim:baseline and sim:aligned")
	f.StringVar(&o.Observer, "observer", "", "the observer model (default: judge_model of --config; sim:judge for simulated worlds)")
	f.StringVar(&o.Config, "config", "", "a mores.yaml with named models and the judge model")
	f.IntVar(&o.Size, "size", 3, "the grid size: size×size agents")
	f.IntVar(&o.Rounds, "rounds", 1, "rounds of interaction")
	f.StringVar(&o.Setting, "setting", "all_good", "initial setting: all_good, all_bad, half_half or mixed_half_half")
	f.IntVar(&o.Peers, "peers", 4, "tgt_agent_count: peers asked for feedback in a back-scatter")
	f.BoolVar(&o.Global, "global", false, "global interaction: drop --dropout of the neighbours and fill the quota from the whole world")
	f.Float64Var(&o.Dropout, "dropout", 0.5, "the dropout rate of global interaction")
	f.BoolVar(&o.ScoreOnly, "score-only", false, "revise after the mean rating only, without the reasons")
	f.StringVar(&o.Questions, "questions", "builtin", "the questions: builtin (the social suite) or a dataset file")
	f.StringVar(&o.Prior, "prior", "builtin", "prior memory: builtin (an HH-RLHF sample), a file with question, answer and label columns, or none")
	f.StringVar(&o.Embedding, "embedding", "lexical", "the memory embedding: lexical (offline) or openai:MODEL[@BASE_URL]")
	f.Int64Var(&o.Seed, "seed", 1, "the seed of the world, the peers, the priors and the simulated models")
	f.IntVar(&o.Concurrency, "concurrency", 10, "back-scatters in flight at once")
	f.StringVar(&o.Out, "out", "runs", "the folder that holds run directories")
	f.StringVar(&o.RunID, "run-id", "", "the run id (default: a timestamp and a random suffix)")
	f.BoolVar(&o.NoCache, "no-cache", false, "neither read nor write the response cache")
	f.StringVar(&cacheDir, "cache-dir", "", "the response cache folder (default $MORES_CACHE_DIR, else the user cache folder)")
	f.Float64Var(&o.MaxErrorRate, "max-error-rate", 0.05, "the share of failed back-scatters above which the run fails (exit 3)")
	f.BoolVar(&o.NoReport, "no-report", false, "skip report.html and plots/")
	f.StringVar(&resume, "resume", "", "finish the sandbox run in RUN_DIR, asking nothing again for a back-scatter already done")
	return c
}

// isSandboxRun reports whether dir holds a `mores sandbox` run.
func isSandboxRun(dir string) bool {
	_, err := sandbox.ReadManifest(dir)
	return err == nil
}

// reportSandbox is `mores report` of a sandbox run: it writes plots/ and
// report.html again, then prints the summary table (text or markdown) or
// the page (html).
func reportSandbox(e *env, dir, format, out string) error {
	if err := sandboxreport.WriteSandboxReport(dir); err != nil {
		return err
	}
	w, done, err := e.output(out)
	if err != nil {
		return err
	}
	switch format {
	case "html":
		b, err := os.ReadFile(filepath.Join(dir, "report.html"))
		if err != nil {
			return done(err)
		}
		_, err = w.Write(b)
		return done(err)
	case "markdown":
		rows, err := sandboxreport.ReadSandboxSummary(dir)
		if err != nil {
			return done(err)
		}
		fmt.Fprintln(w, "| model | round | alignment draft | alignment revision | engagement draft | engagement revision | mean peer rating |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
		for _, line := range sandboxreport.SandboxTable(rows) {
			fmt.Fprintln(w, "| "+strings.Join(line, " | ")+" |")
		}
		return done(nil)
	case "", "text":
		rows, err := sandboxreport.ReadSandboxSummary(dir)
		if err != nil {
			return done(err)
		}
		printSandboxTable(w, rows)
		return done(nil)
	}
	return done(usagef("--format %s: a sandbox run is reported as text, markdown or html", format))
}

func printSandboxTable(w io.Writer, rows []sandbox.SummaryRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tround\talignment draft\talignment revision\tengagement draft\tengagement revision\tmean peer rating")
	for _, line := range sandboxreport.SandboxTable(rows) {
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	tw.Flush()
}

func doSandbox(ctx context.Context, e *env, o sandboxOptions, cacheFlag string) error {
	for _, f := range []struct {
		name string
		v    int
	}{{"--size", o.Size}, {"--rounds", o.Rounds}, {"--peers", o.Peers}, {"--concurrency", o.Concurrency}} {
		if f.v < 1 {
			return usagef("%s %d: want at least 1", f.name, f.v)
		}
	}
	cfg, err := loadConfig(o.Config)
	if err != nil {
		return err
	}
	res := &modelResolver{cfg: cfg, getenv: e.getenv, warn: e.warnf}
	if len(o.Models) == 0 {
		o.Models = []string{"baseline=sim:baseline", "aligned=sim:aligned"}
	}
	if o.Observer == "" {
		o.Observer = cfg.JudgeModel
	}
	if o.Observer == "" {
		allSim := true
		for _, m := range o.Models {
			_, spec, _ := strings.Cut(m, "=")
			allSim = allSim && strings.HasPrefix(spec, "sim:")
		}
		if !allSim {
			return usagef("--observer: pass the observer model (a spec or a config name), or set judge_model in --config")
		}
		o.Observer = "sim:judge"
	}
	spec := sandbox.Spec{Size: o.Size, Rounds: o.Rounds, Setting: o.Setting, ScoreOnly: o.ScoreOnly, Seed: o.Seed,
		Concurrency: o.Concurrency, Interaction: sandbox.Interaction{Peers: o.Peers, Global: o.Global, Dropout: o.Dropout}}
	var cache *bench.Cache
	if !o.NoCache {
		if cache, err = bench.OpenCache(e.cacheDir(cacheFlag)); err != nil {
			return err
		}
		defer cache.Close()
		spec.Cache = cache
	}
	var described []string
	seen := map[string]bool{}
	for _, m := range o.Models {
		name, ms, ok := strings.Cut(m, "=")
		if !ok || name == "" || ms == "" {
			return usagef("--model %q: want NAME=SPEC", m)
		}
		if seen[name] {
			return usagef("--model %s: the name is given twice", name)
		}
		seen[name] = true
		model, desc, err := res.resolve(ms)
		if err != nil {
			return err
		}
		described = append(described, name+"="+desc)
		w := sandbox.World{Name: name, Model: bench.WithCache(model, cache)}
		if om, ok := model.(*openai.Model); ok {
			w.Completions = om.Config().Completions
		}
		spec.Worlds = append(spec.Worlds, w)
	}
	obs, obsDesc, err := res.resolve(o.Observer)
	if err != nil {
		return err
	}
	spec.Observer = bench.WithCache(obs, cache)
	switch {
	case o.Embedding == "lexical" || o.Embedding == "":
		spec.Embedder = sandbox.Lexical{}
	case strings.HasPrefix(o.Embedding, "openai:"):
		ec, err := openai.ParseSpec(o.Embedding, e.getenv)
		if err != nil {
			return usagef("--embedding %s: %v", o.Embedding, err)
		}
		em, err := openai.New(ec)
		if err != nil {
			return err
		}
		spec.Embedder = sandbox.Remote{Spec: bench.RedactURL(o.Embedding), Model: em}
	default:
		return usagef("--embedding %q: want lexical or openai:MODEL[@BASE_URL]", o.Embedding)
	}
	switch o.Questions {
	case "builtin", "":
		spec.Questions, err = sandbox.BuiltinQuestions()
	default:
		spec.Questions, err = sandbox.LoadQuestions(o.Questions)
	}
	if err != nil {
		return err
	}
	switch o.Prior {
	case "builtin", "":
		spec.Prior = sandbox.BuiltinPrior()
	case "none":
	default:
		if spec.Prior, err = sandbox.LoadPrior(o.Prior); err != nil {
			return err
		}
	}
	if errs := spec.Validate(); len(errs) > 0 {
		return usagef("%v", errors.Join(errs...))
	}
	if o.RunID == "" {
		o.RunID = newRunID()
	}
	dir := filepath.Join(o.Out, o.RunID)
	recorded := o
	recorded.Models = described
	recorded.Observer = obsDesc
	if o.Config != "" {
		// The config file resolves names; resuming reads it again.
		recorded.Models, recorded.Observer = o.Models, o.Observer
	}
	for i := range recorded.Models {
		recorded.Models[i] = bench.RedactURL(recorded.Models[i])
	}
	recorded.Observer = bench.RedactURL(recorded.Observer)
	recorded.Embedding = spec.Embedder.Name()
	fmt.Fprintf(e.stderr, "mores: sandbox %s: %d world(s) of %d×%d agents, %d round(s), setting %s, observer %s\n",
		dir, len(spec.Worlds), o.Size, o.Size, o.Rounds, o.Setting, recorded.Observer)
	// On a terminal, a progress bar of the back-scatters, as mores run
	// shows one of the trials.
	var bar *progressbar.ProgressBar
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(e.stderr), progressbar.OptionSetDescription("back-scatters"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("back-scatters"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		spec.Progress = func(done, total int) {
			if bar.GetMax() != total {
				bar.ChangeMax(total)
			}
			bar.Set(done)
		}
	}
	st, err := sandbox.Execute(ctx, dir, o.RunID, spec, recorded)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		if errors.Is(err, sandbox.ErrUnreachable) || ctx.Err() != nil {
			return fmt.Errorf("sandbox %s: %w (resume with --resume %s)", dir, err, dir)
		}
		return err
	}
	if !o.NoReport {
		if err := sandboxreport.WriteSandboxReport(dir); err != nil {
			return err
		}
	}
	rows, err := sandboxreport.ReadSandboxSummary(dir)
	if err != nil {
		return err
	}
	printSandboxTable(e.stdout, rows)
	fmt.Fprintf(e.stdout, "run: %s (%d back-scatters, %d resumed, %d failed)\n", dir, st.Done+st.Resumed, st.Resumed, st.Errors)
	total := st.Done + st.Resumed
	if total > 0 && float64(st.Errors)/float64(total) > o.MaxErrorRate {
		return fmt.Errorf("sandbox %s: %d of %d back-scatters failed, above --max-error-rate %v", dir, st.Errors, total, o.MaxErrorRate)
	}
	return nil
}
