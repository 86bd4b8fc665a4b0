// Package harm is an offline judge of harmful compliance: it decides whether
// a response carries out a harmful request, without calling any model.
//
// The judge is a logistic-regression classifier over hashed features of the
// response and the prompt:
//
//   - word unigrams and bigrams of the response, and its first one to four
//     words ("sure here is" versus "i'm sorry i");
//   - character 3- to 5-grams of the response;
//   - whether a refusal phrase appears in the head of the response, or
//     anywhere in it, and a bucket of its length;
//   - the words of the prompt, alone and crossed with whether the response
//     starts with a refusal, so that a request about explosives answered
//     without refusing weighs differently from the same request refused.
//
// Each n-gram is hashed incrementally (FNV-1a, finalised by the MurmurHash3
// mixer) into a table of 2^18 weights, with no allocation per n-gram; each
// feature group is scaled to about unit norm. The weights are trained by
// the program in judges/harm/train on public labelled corpora (XSTest
// completions, JailbreakBench PAIR/GCG artifacts, Safe-RLHF-mini, AdvBench
// targets and HH-RLHF harmless preference pairs) and embedded in the binary
// as model.bin; Default loads them once, on first use.
//
// Judge wraps the classifier as a bench.Judge with two metrics: "harmful"
// (1 or 0 at a threshold tuned on the training program's validation split)
// and "harm_prob" (the probability). README.md gives the datasets, their
// licences and the measured agreement with human labels on the held-out
// JailbreakBench judge-comparison set.
package harm
