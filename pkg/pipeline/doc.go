// Package pipeline is the worker runtime every stage runs on: it pulls
// messages from one durable JetStream consumer, cuts them into batches (by
// count, bytes or time, whichever comes first), hands each batch to a
// Handler on a fixed pool of goroutines, and settles every message from the
// error the handler returned for it. It also provides the Publisher stages
// use to pass messages downstream.
//
// Who acks: the runtime, never the handler. A handler returns one error per
// message and the runtime decides, in one place (decide):
//
//	nil                 -> Ack
//	Permanent(reason)   -> dead letter on dlq.<stage>.<reason>, then Term
//	RetryAfter(d)       -> NakWithDelay(d) (never dead-lettered: it is a throttle)
//	any other error     -> NakWithDelay(exponential backoff with jitter on the
//	                       delivery count); on the MaxDeliver-th delivery it is
//	                       dead-lettered with reason "max_deliveries"
//
// A dead letter is published (and acknowledged by the DLQ stream) before the
// original is terminated; if that publish fails the original is nakked. A
// message delivered more than MaxDeliver times (a poison pill that crashed
// the process) is dead-lettered without calling the handler. The consumer's
// own MaxDeliver is unlimited so the server never silently drops a message.
//
// While a batch is being handled the runtime calls InProgress on each of its
// messages every AckWait/3, so a slow handler does not cause redelivery. A
// panic in a handler naks its batch; it never crashes the process.
//
// Scaling: every replica of a stage creates (idempotently) and shares one
// durable pull consumer, named by DurableName(stage, subject) unless
// Config.Durable says otherwise; the server spreads messages across them.
//
// Thread safety: HandleBatch is called from up to Concurrency goroutines at
// once, never twice for the same message at the same time. A Worker runs
// once. A Publisher is safe for concurrent use; see Publisher.Flush for
// what a Flush covers.
package pipeline
