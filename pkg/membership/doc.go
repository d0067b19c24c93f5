// Package membership keeps the members of a Braze segment compactly and
// compares two memberships without holding either in memory.
//
// A membership is a file of lines "<braze_id>\t<identifier>\n" sorted by
// braze_id, each braze_id once: ids, not profiles (about 50 bytes a
// member). A Sorter builds one from members in any order (an export's) by
// an external merge sort: it keeps at most RunBytes of members in memory,
// spills sorted runs to temporary files and merges them. Diff reads the
// last membership and the new one side by side, in one pass, and reports
// who joined and who left. Memory is flat in the number of members.
//
// The identifier is what names the member's contact in Brevo ("x:<ext_id>"
// or "e:<email>"); a member who left is removed under the identifier it
// had when it was added, which the old membership holds.
//
// Store keeps memberships in a JetStream object store, compressed, so the
// last one survives restarts and any extractor replica can read it.
//
// A Sorter is not safe for concurrent use; a Store is.
package membership
