package plot_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image"
	_ "image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/reports"
	mplot "github.com/mores-eval/mores/reports/plot"
	"gonum.org/v1/plot/vg"
)

// fixture describes a synthetic run: its suites with their attacks, and a
// function giving each trial's scores.
type fixture struct {
	models  []string
	suites  map[string][]string // suite → attacks
	samples int
	scores  func(rng *rand.Rand, suite, model, attack string) []bench.Score
}

// writeRun writes a run directory: manifest.json, scores.parquet and the
// summary computed by reports.WriteSummary.
func writeRun(t testing.TB, f fixture) string {
	t.Helper()
	dir := t.TempDir()
	m := &bench.Manifest{RunID: "fx", Status: "complete", Seed: 7, Epochs: 1}
	for _, name := range f.models {
		m.Models = append(m.Models, bench.ManifestModel{Name: name, Spec: "sim:" + name})
	}
	suites := make([]string, 0, len(f.suites))
	for s := range f.suites {
		suites = append(suites, s)
	}
	slices.Sort(suites)
	for _, s := range suites {
		m.Suites = append(m.Suites, bench.ManifestSuite{Name: s, Version: 1, Samples: f.samples, Attacks: f.suites[s]})
	}
	if err := bench.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	w, err := bench.CreateParquet[bench.ScoreRow](filepath.Join(dir, bench.ScoresFile))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range suites {
		for i := range f.samples {
			for _, a := range f.suites[s] {
				for _, model := range f.models {
					for _, sc := range f.scores(rng, s, model, a) {
						v := sc.Value
						if err := w.Write(bench.ScoreRow{RunID: "fx", Suite: s, SampleID: "s" + strconv.Itoa(i), Model: model,
							Attack: a, Epoch: 1, Judge: sc.Judge, Metric: sc.Metric, Value: &v, Label: sc.Label}); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := reports.WriteSummary(dir, reports.SummaryOptions{Seed: 7, Resamples: 500}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func bernoulli(rng *rand.Rand, p float64) float64 {
	if rng.Float64() < p {
		return 1
	}
	return 0
}

// adversarialRun is a run like `mores run adversarial overrefusal`: refusal
// and harm judges, several attacks on one suite.
func adversarialRun(t testing.TB) string {
	return writeRun(t, fixture{
		models:  []string{"baseline", "aligned"},
		suites:  map[string][]string{"adversarial": {"none", "role-play", "base64"}, "overrefusal": {"none"}},
		samples: 40,
		scores: func(rng *rand.Rand, suite, model, attack string) []bench.Score {
			p := 0.6
			if model == "aligned" {
				p = 0.1
			}
			if attack == "base64" {
				p += 0.2
			}
			harmful := bernoulli(rng, p)
			out := []bench.Score{{Judge: "refusal", Metric: "refusal", Value: 1 - harmful}}
			if suite == "adversarial" {
				out = append(out, bench.Score{Judge: "harm", Metric: "harmful", Value: harmful},
					bench.Score{Judge: "harm", Metric: "harm_prob", Value: p + 0.1*rng.NormFloat64()})
			}
			return out
		},
	})
}

// socialRun is a run with the society judge's alignment and engagement and
// a pairwise judge over three models.
func socialRun(t testing.TB) string {
	models := []string{"baseline", "aligned", "chat-model-with-a-long-name"}
	quality := map[string]float64{"baseline": 3.2, "aligned": 5.6, "chat-model-with-a-long-name": 4.4}
	return writeRun(t, fixture{
		models:  models,
		suites:  map[string][]string{"social": {"none"}},
		samples: 30,
		scores: func(rng *rand.Rand, suite, model, attack string) []bench.Score {
			q := quality[model]
			clamp := func(v float64) float64 { return math.Max(1, math.Min(7, math.Round(v))) }
			out := []bench.Score{
				{Judge: "society", Metric: "alignment", Value: clamp(q + rng.NormFloat64())},
				{Judge: "society", Metric: "engagement", Value: clamp(8 - q + 0.8*rng.NormFloat64())},
			}
			// Pair judges score each pair once, against the earlier model.
			i := slices.Index(models, model)
			for _, other := range models[i+1:] {
				d := q - quality[other]
				win := 0.5
				switch u := rng.Float64(); {
				case u < 0.5+d/5:
					win = 1
				case u < 0.7+d/5:
					win = 0.5
				default:
					win = 0
				}
				out = append(out, bench.Score{Judge: "pairwise:vs=" + other, Metric: "win", Value: win})
			}
			return out
		},
	})
}

func kinds(t *testing.T, figs []mplot.Figure) map[string]int {
	t.Helper()
	k := map[string]int{}
	for _, f := range figs {
		k[f.Kind]++
	}
	return k
}

// checkFiles checks that every file is a valid PNG or SVG of the size set.
func checkFiles(t *testing.T, files []string, opt mplot.Options) {
	t.Helper()
	if len(files) == 0 {
		t.Fatal("no files written")
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		square := strings.Contains(path, "alignment-engagement") || strings.Contains(path, "win-rate")
		w, h := opt.Width, opt.Height
		if square {
			w = h * 1.25
		}
		switch filepath.Ext(path) {
		case ".png":
			cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
			if err != nil || format != "png" {
				t.Fatalf("%s: not a PNG: %v %s", path, err, format)
			}
			wantW, wantH := int(math.Round(float64(w/vg.Inch)*float64(opt.DPI))), int(math.Round(float64(h/vg.Inch)*float64(opt.DPI)))
			if abs(cfg.Width-wantW) > 1 || abs(cfg.Height-wantH) > 1 {
				t.Errorf("%s: %d×%d px, want %d×%d", path, cfg.Width, cfg.Height, wantW, wantH)
			}
		case ".svg":
			sw, sh := svgSize(t, path, b)
			if math.Abs(sw-w.Points()) > 0.5 || math.Abs(sh-h.Points()) > 0.5 {
				t.Errorf("%s: %g×%g pt, want %g×%g", path, sw, sh, w.Points(), h.Points())
			}
			if !bytes.Contains(b, []byte("Arial")) {
				t.Errorf("%s: no font fallback", path)
			}
		default:
			t.Errorf("unexpected file %s", path)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// svgSize parses the whole SVG document and returns its width and height
// in points.
func svgSize(t *testing.T, path string, b []byte) (w, h float64) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: invalid XML: %v", path, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || !root {
			continue
		}
		root = false
		if se.Name.Local != "svg" {
			t.Fatalf("%s: root element %s", path, se.Name.Local)
		}
		for _, a := range se.Attr {
			v, err := strconv.ParseFloat(strings.TrimSuffix(a.Value, "pt"), 64)
			if a.Name.Local == "width" && err == nil {
				w = v
			}
			if a.Name.Local == "height" && err == nil {
				h = v
			}
		}
	}
	return w, h
}

func TestWriteAllAdversarial(t *testing.T) {
	dir := adversarialRun(t)
	out := filepath.Join(t.TempDir(), "plots")
	opt := mplot.Options{Width: 6 * vg.Inch, Height: 4 * vg.Inch, DPI: 100}
	files, err := mplot.WriteAll(dir, out, opt)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, files, opt)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	want := []string{
		"metric_adversarial_harm_harm_prob.png", "metric_adversarial_harm_harmful.svg",
		"metric_adversarial_refusal_refusal.png", "attack-success_adversarial.png", "attack-success_adversarial.svg",
		"metric_overrefusal_refusal_refusal.svg",
	}
	for _, w := range want {
		if !slices.Contains(names, w) {
			t.Errorf("missing %s in %v", w, names)
		}
	}
	for _, n := range names {
		if strings.Contains(n, "alignment-engagement") || strings.Contains(n, "win-rate") || strings.Contains(n, "attack-success_overrefusal") {
			t.Errorf("%s written without its data", n)
		}
	}
	// 2 suites: adversarial has 3 metrics + attack success, overrefusal 1 metric.
	if len(files) != 2*5 {
		t.Errorf("%d files, want 10: %v", len(files), names)
	}
}

func TestWriteAllSocial(t *testing.T) {
	dir := socialRun(t)
	out := t.TempDir()
	opt := mplot.Options{Width: 7 * vg.Inch, Height: 4.5 * vg.Inch, DPI: 72, Formats: []string{"png", "svg"}}
	files, err := mplot.WriteAll(dir, out, opt)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, files, opt)
	rows, lopt, err := mplot.Load(dir, mplot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	figs, err := mplot.Figures(rows, lopt)
	if err != nil {
		t.Fatal(err)
	}
	k := kinds(t, figs)
	if k[mplot.KindAlignmentEngagement] != 1 || k[mplot.KindWinRate] != 1 || k[mplot.KindAttackSuccess] != 0 {
		t.Errorf("figure kinds %v", k)
	}
	for _, f := range figs {
		if f.Kind == mplot.KindWinRate && !strings.Contains(f.Title, "win rate of row over column") {
			t.Errorf("heatmap title %q", f.Title)
		}
	}
	if !slices.Contains(files, filepath.Join(out, "win-rate_social_pairwise.png")) ||
		!slices.Contains(files, filepath.Join(out, "alignment-engagement_social_society.svg")) {
		t.Errorf("files %v", files)
	}
}

func TestFigureFunctionsWithoutData(t *testing.T) {
	dir := adversarialRun(t)
	rows, opt, err := mplot.Load(dir, mplot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mplot.AlignmentEngagement(rows, "adversarial", "society", "none", opt); !errors.Is(err, mplot.ErrNoData) {
		t.Errorf("AlignmentEngagement: %v, want ErrNoData", err)
	}
	if _, err := mplot.WinRates(rows, "adversarial", "pairwise", opt); !errors.Is(err, mplot.ErrNoData) {
		t.Errorf("WinRates: %v, want ErrNoData", err)
	}
	if _, _, err := mplot.AttackSuccess(rows, "overrefusal", opt); !errors.Is(err, mplot.ErrNoData) {
		t.Errorf("AttackSuccess without attacks: %v, want ErrNoData", err)
	}
	if _, err := mplot.MetricBars(rows, "adversarial", "harm", "nope", opt); !errors.Is(err, mplot.ErrNoData) {
		t.Errorf("MetricBars: %v, want ErrNoData", err)
	}
	p, src, err := mplot.AttackSuccess(rows, "adversarial", opt)
	if err != nil {
		t.Fatal(err)
	}
	if src.String() != "harm.harmful" || !strings.Contains(p.Title.Text, "harm.harmful") {
		t.Errorf("source %v, title %q", src, p.Title.Text)
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	dir := adversarialRun(t)
	if _, err := mplot.WriteAll(dir, t.TempDir(), mplot.Options{Formats: []string{"gif"}}); err == nil {
		t.Fatal("gif accepted")
	}
	var ie *bench.InputError
	if _, err := mplot.WriteAll(t.TempDir(), t.TempDir(), mplot.Options{}); !errors.As(err, &ie) {
		t.Fatalf("not a run directory: %v", err)
	}
}

func BenchmarkFigures(b *testing.B) {
	dir := socialRun(b)
	rows, opt, err := mplot.Load(dir, mplot.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		figs, err := mplot.Figures(rows, opt)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range figs {
			if err := mplot.Render(io.Discard, f.Plot, f.Width, f.Height, "svg", opt); err != nil {
				b.Fatal(err)
			}
		}
	}
}
