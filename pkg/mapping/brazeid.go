package mapping

// BrazeID reads the braze_id of one export line with the scanner and the
// rule Map uses, so that the extractor (which names each line's message by
// it) and the transformer (which maps the line) decide alike whether a line
// is a user: the line must be exactly one JSON object, validated in one
// pass without building it, and its top-level braze_id a non-empty string
// (or a number, read as its literal) of valid UTF-8. Otherwise it returns a
// *RecordError: malformed_json or no_braze_id.
func BrazeID(line []byte) (string, error) {
	var raw []byte
	err := scanObject(line, func(key []byte, esc bool, val []byte) {
		if esc && unescapeKey(key) == "braze_id" || !esc && string(key) == "braze_id" {
			raw = val // the last one wins, as in Map and encoding/json
		}
	})
	if err != nil {
		return "", malformed(err)
	}
	return brazeIDOf(raw)
}

// malformed is the RecordError of a line the scanner refused.
func malformed(err error) *RecordError {
	return recordErr(ReasonMalformedJSON, "reading the export line: %v", err)
}

// brazeIDOf reads the raw braze_id value of a line.
func brazeIDOf(raw []byte) (string, error) {
	id, err := identifier(raw)
	if err != nil || id == "" {
		return "", recordErr(ReasonNoBrazeID, "the record has no braze_id string")
	}
	return id, nil
}
