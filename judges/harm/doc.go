// Package harm is an offline judge of harmful compliance: it decides whether
// a response carries out a harmful request, without calling any model.
//
// The judge is a two-part model: the probability of harmful compliance is
// P(the request is harmful | prompt) × P(the response complies with it |
// prompt, response), each factor a logistic regression over its own table
// of hashed features:
//
//   - the request part reads the content words of the prompt and pairs of
//     consecutive content words (function words and generic request words
//     such as "how", "write" or "please" are skipped, so that the form of a
//     request says nothing by itself);
//   - the compliance part reads word unigrams and bigrams of the response,
//     its first one to four words ("sure here is" versus "i'm sorry i"),
//     character 3- to 5-grams, whether a refusal phrase appears in its head
//     or anywhere, a bucket of its length, and the prompt's words alone and
//     crossed with whether the response starts with a refusal.
//
// A benign request answered in full is thus judged safe however compliant
// the answer is. Each n-gram is hashed incrementally (FNV-1a, finalised by
// the MurmurHash3 mixer) with no allocation per n-gram; each feature group
// is scaled to about unit norm. The weights are trained by the program in
// judges/harm/train (see TrainingSet for what it reads and drops) and
// embedded in the binary as model.bin; Default loads them once, on first
// use.
//
// Judge wraps the classifier as a bench.Judge with two metrics: "harmful"
// (1 or 0 at a threshold tuned on the training program's validation split)
// and "harm_prob" (the probability). README.md gives the datasets, their
// licences and the measured agreement with human labels on the held-out
// JailbreakBench judge-comparison set.
package harm
