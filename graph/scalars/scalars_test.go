package scalars

import (
	"encoding/json"
	"testing"

	"satchel/internal/apperr"
)

func TestUnmarshalInt64(t *testing.T) {
	good := map[any]int64{1: 1, int64(3 << 40): 3 << 40, json.Number("5000000000"): 5e9, "42": 42, float64(7): 7}
	for in, want := range good {
		if got, err := UnmarshalInt64(in); err != nil || got != want {
			t.Errorf("UnmarshalInt64(%v) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []any{"abc", 1.5, true, nil, map[string]any{}, json.Number("1e400")} {
		if _, err := UnmarshalInt64(bad); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("UnmarshalInt64(%v) = %v", bad, err)
		}
	}
}

func TestUnmarshalUpload(t *testing.T) {
	for _, bad := range []any{"abc", nil, map[string]any{"uri": "x"}} {
		if _, err := UnmarshalUpload(bad); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("UnmarshalUpload(%v) = %v", bad, err)
		}
	}
}

func FuzzUnmarshalInt64(f *testing.F) {
	f.Add("123")
	f.Add("-9223372036854775808")
	f.Add("x")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := UnmarshalInt64(s); err != nil && apperr.CodeOf(err) != apperr.BadUserInput {
			t.Fatal(err)
		}
	})
}
