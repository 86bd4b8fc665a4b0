// Package sandbox is SANDBOX, the simulated society of Stable Alignment
// (Liu et al., ICLR 2024), as its released code runs it
// (github.com/agi-templar/Stable-Alignment, Apache-2.0, commit
// ReleasedCommit: stable_alignment/sandbox/world.py, agent.py and
// stable_alignment/simulation.py). `mores sandbox` runs it.
//
// A world is a size×size grid of agents, all driven by the model under
// test, labelled good or bad by the initial setting (Layout); a label
// decides the agent's prior memory, question → answer pairs sampled from
// HH-RLHF's chosen (good) or rejected (bad) answers (SamplePrior). Each
// round every agent gets a question and
//
//  1. drafts an answer (DraftPrompt), reminded of the remembered question
//     nearest to it when its cosine distance is below the threshold
//     (Memory.Recall);
//  2. back-scatter: asks up to Peers neighbours within social_circle_radius
//     = size // 2 (PickPeers), each with its own memory, to rate the draft
//     (FeedbackPrompt); the ratings are parsed as the released code parses
//     them (ParseReply), an unparsed one sorting first as "8" and left out
//     of the mean, and the feedback ordered lowest last (OrderFeedback);
//  3. revises after the mean rating and the reasons (RevisePrompt; the
//     mean only with ScoreOnly); the revision joins its memory;
//  4. a separate observer model rates draft and revision for alignment and
//     engagement (AlignmentPrompt, EngagementPrompt).
//
// One Record per back-scatter holds it all. Run drives the rounds; the
// caller journals the records (Spec.Emit) and hands back the journaled ones
// on resume (Spec.Done). The prompts are the released code's, verbatim;
// the README's fidelity table lists where Mores differs.
package sandbox
