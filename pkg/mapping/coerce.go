package mapping

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// errEmpty marks a value that coerces to nothing (a blank string inside an
// array, say): the attribute is left out without a warning.
var errEmpty = errors.New("empty value")

// coerce converts v to the Go value Brevo expects for typ: string for text
// and date, float64 for float, bool for boolean.
func coerce(v value, typ string) (any, error) {
	switch typ {
	case TypeFloat:
		return toFloat(v)
	case TypeBoolean:
		return toBool(v)
	case TypeDate:
		return toDate(v)
	default:
		return toText(v)
	}
}

// toFloat accepts JSON numbers and decimal strings ("12", " 12.5 ", "-1e3").
// NaN, infinities, hexadecimal and out-of-range numbers are refused: Brevo
// stores them as garbage or not at all.
func toFloat(v value) (float64, error) {
	if v.kind != kindNumber && v.kind != kindString {
		return 0, fmt.Errorf("cannot read %s as a number", v.kind)
	}
	s := strings.TrimSpace(v.str)
	if s == "" {
		return 0, errEmpty
	}
	if !isDecimal(s) {
		return 0, fmt.Errorf("not a decimal number")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("number out of range")
	}
	return f, nil
}

// isDecimal accepts what JSON numbers and spreadsheets write: an optional
// sign, digits with at most one point, an optional exponent. It refuses what
// strconv would also take ("Inf", "NaN", "0x1p3", "1_000").
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits, point := 0, false
	for ; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			digits++
		} else if c == '.' && !point {
			point = true
		} else {
			break
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// toBool accepts JSON booleans, the numbers 1 and 0, and the strings
// true/false, yes/no, 1/0 in any case.
func toBool(v value) (bool, error) {
	switch v.kind {
	case kindBool:
		return v.b, nil
	case kindNumber, kindString:
		s := strings.TrimSpace(v.str)
		switch {
		case s == "":
			return false, errEmpty
		case s == "1" || strings.EqualFold(s, "true") || strings.EqualFold(s, "yes"):
			return true, nil
		case s == "0" || strings.EqualFold(s, "false") || strings.EqualFold(s, "no"):
			return false, nil
		}
		if v.kind == kindNumber {
			return false, fmt.Errorf("only the numbers 1 and 0 read as booleans")
		}
		return false, fmt.Errorf("not one of true/false, yes/no, 1/0")
	}
	return false, fmt.Errorf("cannot read %s as a boolean", v.kind)
}

// toText trims strings, formats numbers and booleans, and joins arrays of
// scalars with commas (Brevo text attributes have no list form).
func toText(v value) (string, error) {
	switch v.kind {
	case kindString:
		s := strings.TrimSpace(v.str)
		if s == "" {
			return "", errEmpty
		}
		return s, nil
	case kindNumber:
		return formatNumber(v.str)
	case kindBool:
		return strconv.FormatBool(v.b), nil
	case kindArray:
		parts := make([]string, 0, len(v.arr))
		for _, it := range v.arr {
			if it.kind == kindArray || it.kind == kindObject {
				return "", fmt.Errorf("cannot write a nested value (%s) as text", it.kind)
			}
			if it.empty() {
				continue
			}
			s, err := toText(it)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		if len(parts) == 0 {
			return "", errEmpty
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("cannot write %s as text", v.kind)
}

// formatNumber writes a JSON number literal the way a person expects to
// read it: 12 not 1.2e+01, 12.5 not 12.50. Integers beyond float64
// precision keep their literal rather than being rounded.
func formatNumber(lit string) (string, error) {
	if isInteger(lit) {
		return strings.TrimPrefix(lit, "+"), nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", fmt.Errorf("number out of range")
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

func isInteger(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
