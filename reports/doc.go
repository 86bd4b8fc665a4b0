// Package reports turns run directories into results worth sharing.
//
// The path from a run to a report:
//
//   - Summaries (summary.go) read scores.parquet as a stream, group values by
//     suite × model × attack × judge × metric and compute, with bench/stats,
//     the mean, its standard error and a 95% confidence interval (Wilson for
//     0/1 metrics, a seeded percentile bootstrap otherwise), written to
//     summary.parquet. The epochs of a sample and the ratings of its
//     responses are one cluster: n counts samples, the standard error is
//     cluster-robust and the interval is over samples (stats.Clusters).
//   - Tables (table.go, papertable.go) render a summary as text (go-pretty),
//     CSV and JSON, and as paper tables in Markdown and booktabs LaTeX:
//     models as rows, suite/metric as columns, mean ± CI, the best of each
//     column in bold when the suite says which direction is better.
//   - Plots live in reports/plot and the self-contained HTML report in
//     reports/html.
//   - Compare (compare.go, thresholds.go) pairs the samples of two runs
//     (each side's epochs of a sample averaged first) and
//     tests each metric (McNemar for 0/1 metrics, Fisher's paired
//     permutation test otherwise, Holm's correction across metrics), and
//     gates absolute levels with a threshold file; it renders as text,
//     Markdown for pull requests and JUnit.
//   - Agreement (agreement.go, panelagreement.go, humanagreement.go):
//     inter-rater agreement of a ratings table, of a panel's members, and of
//     human raters with each other and with every automatic judge.
//   - Imported judgments (importjudgments.go) turn pairwise judgments made
//     elsewhere (AlpacaEval annotations) into a run directory.
package reports
