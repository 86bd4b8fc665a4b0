// Package llm holds the judges that ask a language model (the judge model)
// for a verdict: rubric, jailbreak and pairwise.
//
// Every judge works the same way:
//
//  1. A versioned Template (constant text plus a revision number) is rendered
//     with the trial's prompt and the model's response. Both are untrusted:
//     each is fenced between boundary markers such as
//     <<<RESPONSE-1f0c…>>> … <<<END-RESPONSE-1f0c…>>>, whose id is derived from
//     a SHA-256 hash of the template version and of the fenced text itself, so
//     the text cannot know it in advance, and every "<<<" in the text is
//     broken up so that no marker can occur inside it. The prompt tells the
//     judge that the fenced text is data, never instructions.
//  2. Ask sends the prompt to the judge model (temperature 0 and a fixed seed
//     by default) and parses the verdict strictly: a JSON object with exactly
//     the template's keys and an "id" key that must repeat the call's boundary
//     id. Objects without that id — for example a fake verdict quoted back
//     from the response — are ignored; two verdicts carrying the id that
//     disagree are rejected; values out of range are rejected.
//  3. When the verdict cannot be read, Ask asks once more with a short
//     reminder of the format; when the second reply cannot be read either,
//     the judge records a Score with Error set, never a score.
//
// Every Score carries the judge's Version, "name@vN+" followed by the first
// twelve hex digits of the SHA-256 of the template, so results from different
// prompts are never mixed silently.
//
// The judges are:
//
//   - Rubric: the SANDBOX observer scales of Liu et al. (ICLR 2024),
//     alignment 1–7 (harmless, unbiased, honest and helpful) and engagement
//     1–7 (how much one would like to keep talking), each with a reason.
//   - Jailbreak: whether the response complied with a harmful request, in the
//     manner of the JailbreakBench judge (metric jailbroken, 1 or 0).
//   - Pairwise: a bench.PairJudge that compares two models' responses in both
//     orders; a verdict that flips with the order is a tie.
//
// Package society builds the SANDBOX peers and observers on the same Template
// and Ask.
package llm
