package userpilot

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"time"
)

// encodeMetadata checks that every value is a primitive Userpilot accepts
// and converts it to its JSON form: strings, booleans and numbers as they
// are, time.Time as an ISO 8601 UTC string, nil (or a nil pointer) as
// clear (JSON null, or "" under ClearEmptyString: see WithClearValue).
// Nested maps, slices, arrays and structs are refused with a
// *ValidationError naming the key (metadata values are primitives only:
// https://docs.userpilot.com/api-references/real-time/identify-user). where prefixes the field path.
func encodeMetadata(where string, md map[string]any, clear any) (map[string]any, error) {
	if len(md) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(md))
	for k, v := range md {
		field := fmt.Sprintf("%smetadata[%q]", where, k)
		if k == "" {
			return nil, &ValidationError{Field: where + "metadata", Reason: "empty property name"}
		}
		ev, err := encodeValue(v)
		if err != nil {
			return nil, &ValidationError{Field: field, Reason: err.Error()}
		}
		if ev == nil {
			ev = clear
		}
		out[k] = ev
	}
	return out, nil
}

var timeType = reflect.TypeFor[time.Time]()

func encodeValue(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string, bool:
		return x, nil
	case json.Number:
		if _, err := x.Float64(); err != nil {
			return nil, fmt.Errorf("invalid number %q", string(x))
		}
		return x, nil
	case time.Time:
		return formatTime(x), nil
	case float64:
		return checkFloat(x)
	case float32:
		return checkFloat(float64(x))
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return x, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return nil, nil
		}
		return encodeValue(rv.Elem().Interface())
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint(), nil
	case reflect.Float32, reflect.Float64:
		return checkFloat(rv.Float())
	case reflect.Struct:
		if rv.Type().ConvertibleTo(timeType) {
			return formatTime(rv.Convert(timeType).Interface().(time.Time)), nil
		}
	case reflect.Map, reflect.Slice, reflect.Array:
		return nil, fmt.Errorf("nested %s values are not allowed (primitives only)", rv.Kind())
	}
	return nil, fmt.Errorf("unsupported value type %T (primitives only)", v)
}

func checkFloat(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %v cannot be sent as JSON", f)
	}
	return f, nil
}

// formatTime renders t as ISO 8601 in UTC, e.g. 2026-03-01T10:20:30Z
// (fractional seconds only when present).
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}
