package mapping

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Layouts of the dates Braze writes. Braze's own samples mix them:
// created_at as "2020-07-10 15:00:00.000 UTC", other timestamps as RFC 3339
// with or without fraction and offset, dob as a bare date. Layouts without a
// zone are read as UTC. time.Parse accepts a fraction after the seconds even
// when the layout has none. The layouts are grouped by the character after
// the date so that the usual shape parses on the first try: a failed
// time.Parse allocates its error, and Map runs a million times a sync.
var (
	dateLayoutsT = []string{
		time.RFC3339,               // 2020-01-26T22:45:53.953Z, 2021-07-07T20:45:24.000+00:00
		"2006-01-02T15:04:05Z0700", // offset without colon
		"2006-01-02T15:04:05",      // no zone
	}
	dateLayoutsSpace = []string{
		"2006-01-02 15:04:05 MST", // 2020-07-10 15:00:00.000 UTC
		"2006-01-02 15:04:05 -0700",
		"2006-01-02 15:04:05 -07:00",
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05",
	}
	dateLayoutsDay = []string{time.DateOnly}
)

// unixMillisFrom is the smallest number read as milliseconds rather than
// seconds: 1e11 seconds is in the year 5138, so no real date is confused.
const unixMillisFrom = 1e11

// maxUnixSeconds is 9999-12-31T23:59:59Z, the last day a YYYY-MM-DD can hold.
const maxUnixSeconds = 253402300799

// toDate returns the UTC calendar day of v as "YYYY-MM-DD", the only date
// format Brevo accepts. Numbers (and numeric strings) are unix seconds, or
// milliseconds when too large to be seconds.
func toDate(v value) (string, error) {
	var s string
	switch v.kind {
	case kindString:
		s = strings.TrimSpace(v.str)
		if s == "" {
			return "", errEmpty
		}
	case kindNumber:
		s = v.str
	default:
		return "", fmt.Errorf("cannot read %s as a date", v.kind)
	}
	if isDecimal(s) {
		return unixDate(s)
	}
	layouts := dateLayoutsDay
	if len(s) > 10 {
		switch s[10] {
		case 'T':
			layouts = dateLayoutsT
		case ' ':
			layouts = dateLayoutsSpace
		default:
			return "", fmt.Errorf("not a date in a known format")
		}
	}
	for _, layout := range layouts {
		if t, err := time.Parse(layout, s); err == nil {
			if strings.HasSuffix(layout, "MST") && t.Location() != time.UTC && !isUTCName(s) {
				// time.Parse accepts any zone abbreviation but cannot know its
				// offset; only UTC/GMT are safe to read.
				continue
			}
			return t.UTC().Format(time.DateOnly), nil
		}
	}
	return "", fmt.Errorf("not a date in a known format")
}

func isUTCName(s string) bool {
	return strings.HasSuffix(s, " UTC") || strings.HasSuffix(s, " GMT")
}

func unixDate(s string) (string, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f < 0 {
		return "", fmt.Errorf("not a unix time")
	}
	if f >= unixMillisFrom {
		f /= 1000
	}
	if f > maxUnixSeconds {
		return "", fmt.Errorf("unix time out of range")
	}
	t := time.Unix(int64(f), 0)
	return t.UTC().Format(time.DateOnly), nil
}
