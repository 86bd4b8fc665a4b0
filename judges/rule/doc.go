// Package rule holds the rule judges of Mores: judges that score a response
// with fixed string rules, without calling a model, so that they are fast,
// free and exactly reproducible.
//
//   - refusal: is the response a refusal? Mode "prefix" reproduces XSTest's
//     string-match classifier exactly; mode "contains" (the default)
//     searches the start of the response for a JailbreakBench/GCG-style list
//     of refusal phrases.
//   - exact: does the normalized response equal the sample's Target?
//   - includes: does the response contain the Target (or a given text)?
//   - regex: does a regular expression match the response?
//   - choice: which option letter did a multiple-choice response pick, and
//     is it the Target? (metric "accuracy").
//
// Each judge is built from the options of a suite file's judge entry
// (map[string]any as decoded from YAML or JSON) by New or its own
// constructor; an unknown or malformed option is a *bench.InputError whose
// Field names it ("judges.regex.pattern"). Judges are immutable once built
// and safe for concurrent use.
//
// Judges that need the sample (exact, choice, and includes without a text)
// read it from Trial.Sample. Replayed records may have none; the judge then
// returns a Score with Error set rather than failing the run. Every score
// carries a Version naming the rule revision and a hash of the judge's
// configuration, so that changed phrase lists are visible in the results.
//
// Rule judges are crude by design. Used as a jailbreak judge (a response
// it labels "compliance" counts as jailbroken) on the 300 human-labelled
// responses of the JailbreakBench judge-comparison set, refusal in contains
// mode agrees with the human majority on 55.7% of them (false-positive rate
// 68.4%, false-negative rate 2.7%), close to the 56.0% the JailbreakBench
// paper reports for its string-matching judge and far below LLM judges
// (about 90%): a response that does not refuse is not necessarily harmful.
// Use refusal for refusal rates and over-refusal, and an LLM judge for
// harmfulness.
package rule
