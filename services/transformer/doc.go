// Package transformer is the middle stage of the pipeline: it reads raw Braze
// users from raw.braze.users, applies the field mapping and type coercion,
// and publishes a contact upsert on ops.brevo.contacts.upsert for each record
// whose mapped content changed since the connector last wrote it.
//
// A raw message is acknowledged only after its upsert is stored in the OPS
// stream (or it was found unchanged); an unmappable record is dead-lettered
// with the reason. Several replicas share one durable consumer.
package transformer
