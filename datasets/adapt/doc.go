// Package adapt turns the files of real public datasets into the samples
// the built-in suites expect, so that every built-in suite can run on the
// real data of its kind instead of its own small, hand-written data:
//
//	mores run harmless --dataset ../shared/datasets/advbench/harmful_behaviors.csv
//
// An adapter knows one dataset's columns and what they mean. Detect names
// the adapter of a file from its columns (and, where two datasets share
// columns, its shape or name); Load reads the file with package datasets
// (so CSV, JSON, JSON Lines, Parquet, gzip and hf: Hub paths all work)
// and returns samples whose fields are what the suites' prompt templates
// and judges read:
//
//   - refusal suites (harmless, adversarial, overrefusal, quickstart): the
//     user prompt in input (or a conversation in Messages), harmful =
//     "true" or "false" and target = "refuse" or "comply";
//   - multiple choice (truthful, moral): Choices, the letter of the correct
//     choice in target (so {{.options}} lists them lettered), and for
//     TruthfulQA every correct letter, comma-separated, in targets.
//
// Each sample also keeps the dataset's own columns under snake_case names
// (category, behavior, source, …) and the adapter's name in "dataset".
// Sample IDs are stable and readable: the dataset's own id where it has one
// (jbb-harmful-7, xstest-12, gptfuzz-3), else the 1-based row number
// (advbench-001, truthfulqa-042).
//
// Where an item's choices are shuffled (TruthfulQA, whose files list the
// best answer first, and ETHICS utilitarianism, whose files list the more
// pleasant scenario first), the order is drawn from a hash of Options.Seed
// and the item's text, so it is the same in every run and independent of
// the file's row order.
//
// The adapters (Names lists them; Lookup describes each):
//
//	advbench               AdvBench harmful_behaviors.csv (goal, target) and harmful_strings.csv (target)
//	jbb-behaviors          JailbreakBench JBB-Behaviors, harmful or benign file (told apart by file name)
//	gptfuzz                GPTFuzz question_list.csv (the templates file is an attack: --attack template:PATH)
//	truthfulqa             TruthfulQA.csv: best answer among the incorrect ones, shuffled
//	truthfulqa-mc1         mc_task.json mc1_targets: one correct answer
//	truthfulqa-mc2         mc_task.json mc2_targets: several correct answers (targets)
//	ethics-deontology      ETHICS deontology: is the excuse reasonable?
//	ethics-justice         ETHICS justice: is the claim reasonable?
//	ethics-virtue          ETHICS virtue: does the trait fit?
//	ethics-utilitarianism  ETHICS utilitarianism (no header): which scenario is more pleasant?
//	hh-rlhf                Anthropic HH-RLHF transcripts → a conversation the model answers
//	xstest                 XSTest prompts, or the completion files (the completion becomes the response)
//
// ETHICS questions are not the commonsense question of the moral suite
// ("was what the narrator did wrong?"), so their adapters carry prompt
// templates of their own (Adapter.Prompt), which suites.WithDataset puts in
// place of the built-in moral suite's prompt.
package adapt
