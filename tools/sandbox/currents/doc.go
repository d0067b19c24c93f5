// Package currents emits Braze Currents batches to an HTTP endpoint as
// Braze's Custom HTTP connector does: {"events":[...]} of up to 100
// events, "Authorization: Bearer <token>", at least once. It re-sends a
// share of the batches it was already answered 2xx for (Braze's duplicates),
// includes events of types the connector cannot know (Braze adds types
// without notice) and unknown fields, and retries a batch on 5xx, 429 and
// transport failures with backoff until it is answered 2xx. 400 is not
// retried (Braze splits the batch and drops what fails alone; here it is
// counted as dropped), nor are 401, 403 and 404.
//
// Events are drawn for the users given, from a seed: the same seed and
// users give the same events.
package currents
