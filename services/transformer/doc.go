// Package transformer is the middle stage of the pipeline: it reads raw Braze
// users from raw.braze.users, applies the field mapping and type coercion,
// and publishes a contact upsert on ops.brevo.contacts.upsert for each. It
// reads no state: whether an upsert changes the contact is the loader's to
// decide, from what it recorded as applied, and the extractor already held
// back the export lines unchanged since the last run. What the mapping left
// off a contact (an invalid email) travels in its upsert, and the loader
// records it as this stage's side letter when it writes the contact.
//
// A raw message is acknowledged only after its upsert is stored in the OPS
// stream; an unmappable record is dead-lettered with the reason. Several
// replicas share one durable consumer.
package transformer
