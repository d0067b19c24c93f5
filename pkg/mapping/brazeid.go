package mapping

// BrazeID reads the braze_id of one export line with the scanner and the
// rule Map uses, so that the extractor (which names each line's message by
// it) and the transformer (which maps the line) decide alike whether a line
// is a user: the line must be exactly one JSON object, validated in one
// pass without building it, and its top-level braze_id a non-empty string
// (or a number, read as its literal) of valid UTF-8. Otherwise it returns a
// *RecordError: malformed_json or no_braze_id.
func BrazeID(line []byte) (string, error) {
	id, _, err := Identity(line)
	return id, err
}

// Identity reads, as BrazeID does and in the same pass, the braze_id of one
// export line and the key Map gives its contact (ContactKey): the
// extractor orders a full export by it. A line whose external_id Map would
// refuse is keyed by its braze_id here; Map then says why it refuses it.
func Identity(line []byte) (brazeID, key string, err error) {
	var raw, ext []byte
	err = scanObject(line, func(key []byte, esc bool, val []byte) {
		var unesc string // only for an escaped key: string(key) in a comparison makes no copy
		if esc {
			unesc = unescapeKey(key)
		}
		switch { // the last one wins, as in Map and encoding/json
		case esc && unesc == "braze_id", !esc && string(key) == "braze_id":
			raw = val
		case esc && unesc == "external_id", !esc && string(key) == "external_id":
			ext = val
		}
	})
	if err != nil {
		return "", "", malformed(err)
	}
	if brazeID, err = brazeIDOf(raw); err != nil {
		return "", "", err
	}
	extID, _ := identifier(ext) // nil: none
	return brazeID, ContactKey(extID, brazeID), nil
}

// ContactKey is the key of a contact across runs: its external_id, else
// "braze:" and its braze_id (not its email: two Braze users may share one,
// and they are two users, of whom Brevo can hold one by that email; the
// loader's claims decide which).
func ContactKey(extID, brazeID string) string {
	if extID != "" {
		return extID
	}
	return "braze:" + brazeID
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
