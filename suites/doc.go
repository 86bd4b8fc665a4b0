// Package suites reads suite files: the strict, versioned YAML files that
// say what a benchmark asks and how its answers are judged. A suite is data,
// never code.
//
// A suite file names a dataset and how its columns map to sample fields, a
// prompt template (Go text/template over the sample's fields), a system
// prompt, the attacks to apply, the judges and their options, sampling
// parameters, epochs, the personas of the society judge and, for reports,
// which direction of each metric is better:
//
//	name: jailbreak-check          # required; one word
//	version: 1                     # required; bump when prompts or data change
//	description: ...
//	dataset:
//	  path: data/prompts.csv       # required; relative to the suite file's folder, or builtin:NAME
//	  id: Index                    # optional id column; else a content hash
//	  header: false                # optional, CSV: whether the file has a header row
//	  columns: [Index, prompt]     # optional, CSV: names for the columns
//	  fields: {input: prompt, target: label}   # input, messages, target, choices, response
//	  adapter: advbench            # optional, instead of id/fields/header/columns: a real
//	                               # dataset's adapter (package datasets/adapt)
//	prompt: "{{.input}}"           # required unless fields maps messages
//	system: "You are a helpful assistant."
//	attacks: [none, base64]
//	judges: [refusal, {name: rubric, model: judge}]
//	params: {temperature: 0, top_p: 1, max_tokens: 512, seed: 1, stop: ["\n\n"]}
//	epochs: 3
//	personas: ["A retired teacher ...", "A nurse ..."]
//	higher_is_better: {refusal: true, harmful: false}
//
// The way through the package:
//
//	Resolve(arg) or Load(path) or Builtin(name) → Parse(file, bytes) → *Suite
//	Suite.Samples(warn) → datasets.Load(path, mapping, options) → []bench.Sample
//	(attacks transform each sample)
//	Suite.Request(sample) → bench.Request: the rendered prompt, system prompt, parameters
//
// Parse is strict: an unknown key, a value of the wrong type, a missing
// required key, a duplicate key, an empty judges list or a prompt that is
// not a valid template is an error, and every such problem in the file is
// reported at once, as a bench.InputErrors whose elements each name the
// file, the line and the field:
//
//	suites/x.yaml:7: dataset.fields: unknown key "inptu" (allowed: input, messages, target, choices, response)
//
// Parse does not check that judge and attack names exist: those registries
// live in other packages, which check the names when a run is planned, with
// JudgeSpec.Line pointing back at the suite file.
//
// The built-in suites are embedded in the binary (BuiltinNames lists them)
// and read small, original, hand-written datasets embedded by package
// datasets: quickstart (a demonstration on the simulated models), harmless
// (HH-style harmful requests), overrefusal (XSTest-style benign prompts that
// look risky), adversarial (harmful requests under jailbreak attacks),
// truthful (TruthfulQA-style multiple choice), moral (ETHICS-style moral
// judgments) and social (open societal questions, with personas for the
// society judge). Real datasets are loaded by path; WithDataset points a
// built-in suite at the real public dataset of its kind (AdvBench,
// JBB-Behaviors, GPTFuzz, XSTest, HH-RLHF, TruthfulQA, ETHICS) through an
// adapter of package datasets/adapt, which a suite file can also name
// (dataset.adapter) instead of a field mapping; the prompt may then be left
// out when the adapter yields conversations or has a prompt of its own.
package suites
