// Package judges is the registry of Mores's judges: it turns the judge
// entries of a suite file or of `mores judge --judge SPEC` (a
// bench.JudgeSpec: a name and options) into bench.Judge and bench.PairJudge
// values.
//
// A judge scores a Completion of a Trial and returns Scores, each with a
// judge, a metric, a value, a label and an explanation (see bench.Score).
// A refusal is data: judges score it like any other answer. An error from
// Score means the judge could not run at all; a judge that could not score
// one trial (a replayed record without its sample, say) returns a Score
// with Error set instead.
//
// The kinds of judge, by how much they cost and what they can see:
//
//   - Rule judges (package judges/rule), registered here: refusal (XSTest's
//     prefix matcher or a JailbreakBench-style phrase search), exact,
//     includes, regex, and choice (multiple-choice answer extraction,
//     metric accuracy). They need no model and are exactly reproducible.
//   - LLM judges: rubric (1–7 alignment and engagement, as the observers of
//     the SANDBOX simulated society of Stable Alignment rate answers),
//     pairwise (two models' answers in both orders; a verdict that flips
//     with the order is a tie) and jailbreak (harmful compliance, for attack
//     success rate). They call the judge model that Env.Model resolves, and
//     treat the judged output as untrusted data that cannot steer the
//     verdict format. Each score records the hash of its prompt template as
//     its Version.
//   - Published protocols (package judges/protocol): jailbreakbench,
//     harmbench, llamaguard and strongreject send the prompts of
//     JailbreakBench, HarmBench, Llama Guard 3 and StrongREJECT as their
//     sources send them, verbatim, and parse the replies as those sources
//     do, so that attack success rates compare with the papers'. Fidelity
//     beats hardening there: model output sits between the protocol's own
//     delimiters, if any, not in the fences of the LLM judges.
//   - panel: several judges or judge models aggregated, with their
//     agreement.
//   - persona-panel (formerly society, still accepted with a warning): peer
//     prompts with distinct personas rate 1–7 with reasons; the consensus is
//     their mean with its spread; observers rate alignment and engagement;
//     optionally the model under test revises after the feedback. It is a
//     persona panel, not SANDBOX: `mores sandbox` (package judges/sandbox)
//     runs the protocol of the paper's released code.
//   - human: ratings collected by `mores serve`, blind to model identity.
//
// This package registers every built-in judge itself, in its init functions
// (registry.go, builtin.go, protocols.go), with a Factory that calls the
// implementing package (judges/rule, judges/llm, judges/harm, ...): those
// packages do not import this one. Register is exported for judges defined
// outside Mores, which call it from their own init function. New builds a
// judge from its spec and Known lists the names for help texts and
// error messages. An unknown judge name or a bad option is a
// *bench.InputError carrying the spec's line, so that the command can name
// file, line and field and exit with code 2.
package judges
