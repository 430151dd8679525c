package activity

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"unicode/utf8"
)

var stringType = reflect.TypeFor[string]()

// errBadText is returned while decoding a string field that holds invalid
// UTF-8 or a lone UTF-16 surrogate escape. encoding/json would turn either
// into U+FFFD, so two different ids ("u\xff", "u\xfe") would become one and
// two events collapse into one; such ids are refused instead.
var errBadText = errors.New("not valid UTF-8 text (invalid bytes or a lone surrogate escape)")

// validText reports whether raw, a JSON string literal with its quotes,
// holds only valid UTF-8 and no unpaired \uD800-\uDFFF escape.
func validText(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if i >= len(raw) || raw[i] != 'u' {
			continue // \" \\ \n ...: the next byte is not an escape start
		}
		r, ok := hex4(raw, i+1)
		if !ok {
			return false
		}
		i += 4
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return false // a low surrogate without a high one before it
		case r >= 0xD800 && r <= 0xDBFF:
			if i+6 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return false
			}
			lo, ok := hex4(raw, i+3)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 6
		}
	}
	return true
}

// hex4 reads four hex digits at raw[i:].
func hex4(raw []byte, i int) (rune, bool) {
	if i+4 > len(raw) {
		return 0, false
	}
	var r rune
	for _, c := range raw[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}

// strictString is a JSON string (or null) that must be valid text.
type strictString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *strictString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == 'n' {
		*s = ""
		return nil
	}
	if len(b) == 0 || b[0] != '"' {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: stringType}
	}
	if !validText(b) {
		return errBadText
	}
	if !bytes.ContainsRune(b, '\\') { // no escapes: the text between the quotes
		*s = strictString(b[1 : len(b)-1])
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = strictString(v)
	return nil
}

// jsonKind names the JSON kind of a raw value, as UnmarshalTypeError does.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "value"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	case '"':
		return "string"
	}
	return "number"
}

// safeNamePattern is what a producer-supplied name (an identify property,
// an unknown event type, entity type or status) must look like to appear in
// logs, dead-letter reasons and run records: a letter or underscore, then
// letters, digits, "_", "-" or ".", at most 64 in all. Phone numbers
// ("+15551234567"), emails and markup ("<script>") do not match.
var safeNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$`)

// UnsafeName stands in for a producer-supplied name that does not match the
// safe pattern.
const UnsafeName = "(unsafe name)"

// SafeName returns s when it matches the safe pattern (a letter or "_",
// then letters, digits, "_", "-" or ".", at most 64 characters), else
// UnsafeName. Names that producers choose may be personal data or markup;
// every log line, DLQ reason and run record that names one goes through it.
func SafeName(s string) string {
	if safeNamePattern.MatchString(s) {
		return s
	}
	return UnsafeName
}
