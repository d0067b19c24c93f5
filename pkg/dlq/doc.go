// Package dlq reads and operates on the dead letters the stages leave on
// the DLQ stream (proto.DeadLetter on dlq.<stage>.<reason>): list them, get
// one, count them by stage and reason, replay them to the subject they came
// from, and purge them.
//
// A dead letter's ID is its sequence in the DLQ stream: stable for as long
// as the letter exists, and never reused.
//
// Contracts:
//   - List and Replay stream through an ordered consumer: nothing beyond
//     Filter.Limit letters is held in memory, whatever the DLQ holds.
//   - Counts reads per-subject counts from the stream's info; it reads no
//     message.
//   - Replay publishes a letter back to its original subject and waits for
//     the stream there to store it before it deletes the letter: a crash in
//     between duplicates the letter at worst, it never loses it. The replayed
//     message carries the original headers, Tajo-Replay-Attempt (one more
//     than the letter's own) and a new Nats-Msg-Id, so the target stream's
//     deduplication does not drop it as a copy of the original.
//   - Every function is safe for concurrent use; two concurrent replays of
//     the same letter can both publish it (the second delete then fails).
package dlq
