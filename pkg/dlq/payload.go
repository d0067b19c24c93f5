package dlq

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"unicode"
	"unicode/utf8"

	"github.com/tajo-sync/tajo/proto"
)

// Payload formats, as Render reports them.
const (
	FormatJSON = "json" // the data is JSON (an export line): shown as is
	FormatText = "text" // printable UTF-8
	FormatHex  = "hex"  // anything else: a hex dump
	// A msgpack payload of a known subject is "msgpack <Go type>", e.g.
	// "msgpack proto.RawUser", and shown as indented JSON.
)

// payloadTypes names the proto type carried on each subject whose payload
// is msgpack. A subject missing here is shown as JSON, text or hex.
var payloadTypes = map[string]func() proto.Versioned{
	proto.SubjectRawBrazeUsers:          func() proto.Versioned { return &proto.RawUser{} },
	proto.SubjectOpsBrevoContactsUpsert: func() proto.Versioned { return &proto.ContactUpsert{} },
}

// Render makes the payload of a message on subject readable: msgpack of a
// known subject decoded through its proto type and shown as JSON (byte
// fields holding JSON or text shown as such), JSON and text as they are,
// anything else as a hex dump. It reports which it did.
func Render(subject string, data []byte) (format, text string) {
	if newT, ok := payloadTypes[subject]; ok {
		v := newT()
		if err := proto.Decode(data, v); err == nil {
			if out, err := structJSON(v); err == nil {
				return "msgpack " + reflect.TypeOf(v).Elem().String(), out
			}
		}
	}
	switch {
	case json.Valid(data):
		return FormatJSON, string(data)
	case printable(data):
		return FormatText, string(data)
	}
	return FormatHex, hex.Dump(data)
}

// structJSON renders the exported fields of the struct v points to as an
// indented JSON object, in declaration order, under their Go names.
func structJSON(v any) (string, error) {
	rv := reflect.ValueOf(v).Elem()
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		val, err := json.Marshal(fieldValue(rv.Field(i)))
		if err != nil {
			return "", fmt.Errorf("rendering %s.%s: %w", rv.Type(), f.Name, err)
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(f.Name)
		b.Write(name)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return "", err
	}
	return out.String(), nil
}

// fieldValue shows a []byte field as the JSON or text it holds (base64,
// json's default, would hide an export line), else as hex.
func fieldValue(v reflect.Value) any {
	if v.Kind() != reflect.Slice || v.Type().Elem().Kind() != reflect.Uint8 {
		return v.Interface()
	}
	data := v.Bytes()
	switch {
	case len(data) > 0 && json.Valid(data):
		return json.RawMessage(data)
	case printable(data):
		return string(data)
	}
	return hex.EncodeToString(data)
}

// printable reports whether data is UTF-8 text without control characters
// other than whitespace.
func printable(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	for _, r := range string(data) {
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}
