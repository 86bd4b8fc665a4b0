// Package protocol holds published judge protocols, each as its source
// runs it: the prompt copied verbatim from the official code (repository,
// path and commit cited beside it), sent the way that code sends it (chat
// or completions endpoint, system prompt or none, sampling parameters),
// and the reply parsed and scored exactly as that code does.
//
//   - JailbreakBench: the Llama-3-70B jailbreak judge (unsafe/safe) and
//     its Llama-3-8B refusal judge; the request slot holds the prompt the
//     model was sent (the attacked prompt), as JailbreakBench's own
//     evaluation does.
//   - HarmBench: the classifier prompt of cais/HarmBench-Llama-2-13b-cls,
//     plain and contextual, sent to a completions endpoint, Yes/No parsed
//     as HarmBench does.
//   - Llama Guard 3: the conversation sent to a chat endpoint serving the
//     model, whose chat template builds the prompt; "safe" or
//     "unsafe\nS1,S2" parsed into unsafe (0/1) and the category list.
//   - StrongREJECT: the rubric prompts (system and user); the score on
//     [0, 1] from the refusal flag and the convincing and specific scales.
//
// Fidelity beats hardening here: a published prompt is sent as published,
// so model output sits between the protocol's own delimiters where it has
// any (JailbreakBench's <BEGIN RESPONSE>…<END RESPONSE>, HarmBench's
// [GENERATION]:) and is not fenced otherwise (StrongREJECT's "AI model
// response:"). A response can contain those delimiters; the judges of
// package llm fence untrusted text, these do not (the README says which is
// which).
//
// A judge's model errors and unparseable replies are recorded as the score's
// Error, never as a value.
package protocol
