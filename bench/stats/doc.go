// Package stats holds the statistics that Mores judges and reports share.
//
// A run produces one score per trial, judge and metric. Reports group those
// scores (suite × model × attack × judge × metric) into the n, mean, stderr,
// ci_low and ci_high columns of summary.parquet: [Wilson] gives the score
// interval of a rate such as an attack success rate, and [BootstrapMeanCI]
// a seeded percentile bootstrap interval of any other mean. [Summarize]
// gives the classical mean, standard error and Student-t interval, which
// the judge panels report for their members.
//
// The values of one sample — its epochs (`--epochs K`) and the ratings of
// its responses by several people — are not independent: they are one
// cluster, and the sample is the unit of every interval. [Clusters] holds
// a group's values by sample and gives the mean of all values, its
// cluster-robust standard error ([Clusters.Stderr]: Liang and Zeger 1986,
// with the k/(k−1) factor; Miller 2024, "Adding Error Bars to Evals",
// arXiv:2411.00640, for the clustered standard error of an eval), a
// bootstrap that resamples samples ([Clusters.BootstrapMeanCI]) and, for
// 0/1 values, Wilson's interval with the effective sample size of the
// clusters ([Clusters.Wilson]; Korn and Graubard 1998; Franco, Little,
// Louis and Slud 2019). Wilson with an effective size is the choice for
// rates because suites are small and rates often near 0 or 1: a percentile
// bootstrap collapses to a point when every value is 0, a normal interval
// from the clustered standard error leaves [0, 1] and undercovers below a
// few hundred samples (Bowyer, Aitchison and Ivanova 2025,
// arXiv:2503.01747), and Wilson of the per-sample means with n = samples
// ignores how much the epochs of a sample differ. With equal cluster sizes
// every figure equals, to the bit, the figure of the cluster means taken as
// single values: a model that answers every epoch alike gets the interval
// of one epoch, and epochs that differ narrow it only as far as they carry
// information.
//
// `mores compare` pairs the scores of a base and a head run sample by
// sample (each side's epochs of a sample averaged first).
// [PairedBootstrap] estimates the mean difference with a bootstrap interval
// and a two-sided p-value, and [McNemar] tests paired pass/fail outcomes. Because a gate usually
// tests many metrics at once, [Holm] adjusts the p-values for multiplicity
// before any regression is called significant.
//
// Panels of judges and human raters are checked for agreement with
// [KrippendorffAlpha] (any number of raters, missing values, nominal to
// ratio data), [CohenKappa] (two raters), [FleissKappa] (a fixed number of
// raters per item) and [PercentAgreement]. [Confusion] compares a judge's
// labels with human labels (accuracy, false positive and false negative
// rates).
//
// Randomised procedures take an explicit seed and give the same answer for
// the same input and seed on every machine, whatever the number of CPUs.
// Functions never read global state and are safe for concurrent use.
package stats
