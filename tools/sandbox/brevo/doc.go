// Package brevo is an in-memory simulator of the Brevo API v3 contact endpoints,
// written from Brevo's own published specifications (shared/specs/brevo) and the
// project's API notes, never from the connector's client code, so that a client's
// misreading of the API is caught instead of mirrored.
//
// The simulator is a product: the demo, every test, benchmark and chaos run hits it
// over real HTTP. It serves, under /v3:
//
//	GET  /contacts/attributes
//	POST /contacts/attributes/{category}/{name}     (categories normal and category)
//	GET  /contacts, POST /contacts
//	GET  /contacts/{identifier}, PUT /contacts/{identifier}
//	POST /contacts/import                           (jsonBody or fileBody)
//	GET  /contacts/folders, POST /contacts/folders
//	GET  /contacts/folders/{folderId}, GET /contacts/folders/{folderId}/lists
//	GET  /contacts/lists, POST /contacts/lists, GET /contacts/lists/{listId}
//	GET  /contacts/lists/{listId}/contacts
//	POST /contacts/lists/{listId}/contacts/add      (emails, ids or extIds, 1-150)
//	POST /contacts/lists/{listId}/contacts/remove   (the same, or all: a process)
//	GET  /processes, GET /processes/{processId}
//	GET  /account
//	POST /events, POST /events/batch                (204; a batch with invalid events 207)
//
// and, without authentication, GET /_admin/state, GET /_admin/contacts (NDJSON),
// GET /_admin/contacts/{id}/events and POST /_admin/reset for tests and
// operators.
//
// With Config.RateLimit the General-plan limits apply in fixed windows (whole
// seconds, clock hours): /contacts* 10/s and 36,000/h, /events* 10/s, everything
// else 100/h. The last means GET /processes/{id} can be polled about once every
// 36 s.
//
// Where the 2024 specs are older than Brevo's current SDK (@getbrevo/brevo 6) and
// reference, the simulator answers what those require: whatsappBlacklisted on
// contacts; organization_id, user_id and enterprise on the account; ids (at most
// 20) on GET /contacts; forceMerge and getId on POST /contacts; the events API.
//
// Decisions where the specs are silent or contradict each other:
//
//   - ext_id is a contact identifier. The account has a text attribute EXT_ID that
//     holds it: POST/PUT take the top-level ext_id field (or attributes.EXT_ID), the
//     import takes attributes.EXT_ID (its jsonBody item has only email and
//     attributes), and reads return it as attributes.EXT_ID.
//   - SMS is an identifier too: validated as a phone number with a country code
//     ("+33...", "0033..." or "33...") and stored in E.164 ("+33...").
//   - Unknown attributes are silently ignored (the import spec says so; the
//     create/update spec only says they "must be present"); each ignored name is
//     counted in the admin state so tests can prove the connector created its
//     attributes first. Unknown top-level body fields are ignored and counted the
//     same way.
//   - A value of the wrong JSON type for its attribute is ignored (the old value is
//     kept), except a string in a date attribute that is not YYYY-MM-DD, which is a
//     400 invalid_parameter (API notes, newer than the spec). An empty string
//     erases the attribute in create/update; in an import only with
//     emptyContactsAttributes.
//   - modifiedSince is inclusive (modifiedAt >= modifiedSince); times are kept to
//     the millisecond, the precision Brevo prints.
//   - Imports run strictly one at a time, FIFO. Once at the head of the queue a
//     process takes Config.ImportDelay (200 ms by default) plus one second per
//     Config.ImportRowsPerSecond rows when that is set (by default rows cost
//     nothing, so tests stay fast; RealisticImportDelay and
//     RealisticImportRowsPerSecond, 5 s and 500 rows/s, are the sandbox's guess
//     at Brevo, not a measurement). It is "queued" for the first quarter of that
//     time, "in_process" for the rest, then "completed", and its rows are applied
//     at that instant. Progress is evaluated lazily against Config.Now on every
//     request (a timer nudges it with the real clock), so tests with a fake clock
//     are deterministic. On completion the import's notifyUrl (http or https) is
//     POSTed {"processId", "name", "status":"completed"} from its own goroutine,
//     never under the state lock; its failure changes nothing but the admin
//     counters, and Close waits for calls in flight. fileUrl is refused (the
//     sandbox fetches nothing).
//   - A fresh account has folder 1 "Your first folder" holding list 2 "Your first
//     list", as new Brevo accounts do; later folders and lists count on from there.
//     Names need not be unique. listIds (and unlinkListIds, and newList.folderId)
//     naming nothing are a 400 invalid_parameter on POST/PUT /contacts and the
//     import, the only error status the spec declares there; likewise an unknown
//     folderId on POST /contacts/lists.
//   - List counts: uniqueSubscribers is every member, totalBlacklisted the members
//     with emailBlacklisted, totalSubscribers the rest; a folder counts a contact
//     once however many of its lists hold it.
//   - Adding a contact already in the list, removing one not in it, or naming one
//     that does not exist puts it in failure (ids as integers, emails and ext ids
//     as sent); when nothing succeeds the call is a 400 "Contact already in list
//     and/or does not exist", as Brevo answers. Membership changes set modifiedAt.
//     Every add and remove call is logged (ListCalls, GET /_admin/lists/calls):
//     its list, kind, size, status and per-contact success and failure.
//   - remove {all:true} queues a process (behind any import) that empties the
//     list when it completes; it is not an import in the admin import counters.
//     Brevo's process names (IMPORTUSER, SEARCH_EXPORT_USERS, ...) have none for
//     it, so GET /processes calls it IMPORTUSER, the one contact-writing name.
//   - forceMerge: every existing contact the request's identifiers name is merged
//     into the most recently modified of them (lowest id on a tie), the others are
//     deleted (their ids then name nothing), and the request is applied to the
//     survivor: 204, or 201 {id} when nothing matched. getId makes an update answer
//     201 {id} as well (the only status Brevo declares with a body there).
//   - Events must name an existing contact: contact_id first, then ext_id,
//     email_id, phone_id (the highest given decides). An unknown contact, a bad
//     event_name ([A-Za-z0-9_-], at most 255), a bad event_date or event_properties
//     over 50 KB is a 400 on POST /events and a per-event error on the batch (at
//     most 200 events, 512 KB), whose 207 body is the SDK's BatchEventsResponse
//     (status partial_success or failed, errors grouped by message with their
//     0-based eventIndex). All valid is a 204, as the API notes say (the current
//     reference shows a {message, count} body instead). contact_properties update
//     the contact's attributes as an update would (identifiers excepted). Events
//     are kept per contact, never deduplicated.
//
// A Server is safe for concurrent use; one mutex guards all state.
package brevo
