// Package scalars holds Satchel's custom GraphQL scalars. gqlgen's stock
// marshalers answer a malformed value with a plain error, which the error
// presenter cannot tell from a resolver's failure; these answer
// BAD_USER_INPUT.
package scalars

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"satchel/internal/apperr"
)

// MarshalInt64 writes an Int64 as a JSON number.
func MarshalInt64(v int64) graphql.Marshaler { return graphql.MarshalInt64(v) }

// UnmarshalInt64 reads an Int64 from a JSON number or a decimal string.
func UnmarshalInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
	case string:
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, apperr.New(apperr.BadUserInput, fmt.Sprintf("%s is not a 64-bit integer", describe(v)))
}

// MarshalUpload is never used: uploads only come in.
func MarshalUpload(u graphql.Upload) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { io.WriteString(w, "null") })
}

// UnmarshalUpload accepts only a file from a GraphQL multipart request.
func UnmarshalUpload(v any) (graphql.Upload, error) {
	if u, ok := v.(graphql.Upload); ok {
		return u, nil
	}
	if u, ok := v.(*graphql.Upload); ok && u != nil {
		return *u, nil
	}
	return graphql.Upload{}, apperr.New(apperr.BadUserInput, "an Upload must be a file part of a GraphQL multipart request (map it to this variable)")
}

func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 40 {
		return fmt.Sprintf("a %T", v)
	}
	return string(b)
}
