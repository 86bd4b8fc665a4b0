// Package plot draws the figures of a run with gonum.org/v1/plot.
//
// Every figure starts from the summary of a run (summary.parquet: one row
// per suite × model × attack × judge × metric with its mean and 95%
// confidence interval) and the model order of its manifest, so that a model
// has the same colour in every figure:
//
//   - MetricBars: one metric of one suite and judge, a bar per model with
//     its 95% CI, grouped by attack when the suite has several;
//   - AttackSuccess: the attack success rate of a suite by attack × model,
//     from the jailbreak judge's "jailbroken" metric where present, else the
//     harm judge's "harmful", else 1 − refusal (the title names the source);
//   - AlignmentEngagement: models on the SANDBOX plane, engagement on x and
//     alignment on y (both 1–7), with CIs in both directions, from a rubric
//     or society judge;
//   - WinRates: a model × model heatmap of pairwise win rates (row over
//     column) from the pair judges ("NAME:vs=OTHER", metric "win").
//
// Figures lists every figure a run has data for; WriteAll renders them as
// PNG and SVG files; Render renders one plot into memory (the HTML report
// inlines them). Colours come from the Okabe–Ito palette, which stays
// distinguishable under the common colour-vision deficiencies, and markers
// differ in shape as well as colour.
package plot
