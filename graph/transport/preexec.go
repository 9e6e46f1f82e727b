package transport

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// preExecFix holds back the body of a pre-execution error response (status
// 400 or 422 from gqlgen) to drop its "data" entry. Other responses pass
// through untouched.
type preExecFix struct {
	http.ResponseWriter
	status int
	held   bool
	buf    bytes.Buffer
}

func (f *preExecFix) WriteHeader(code int) {
	if code == http.StatusUnprocessableEntity || code == http.StatusBadRequest {
		f.held = true
	}
	if code == http.StatusUnprocessableEntity {
		code = http.StatusOK
	}
	f.status = code
	if !f.held {
		f.ResponseWriter.WriteHeader(code)
	}
}

func (f *preExecFix) Write(b []byte) (int, error) {
	if f.held {
		return f.buf.Write(b)
	}
	return f.ResponseWriter.Write(b)
}

func (f *preExecFix) flush() {
	if !f.held {
		return
	}
	body := f.buf.Bytes()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err == nil {
		if d, ok := m["data"]; ok && string(d) == "null" {
			delete(m, "data")
			if out, err := json.Marshal(m); err == nil {
				body = append(out, '\n')
			}
		}
	}
	f.ResponseWriter.Header().Del("Content-Length")
	f.ResponseWriter.WriteHeader(f.status)
	f.ResponseWriter.Write(body)
}

func (f *preExecFix) Unwrap() http.ResponseWriter { return f.ResponseWriter }
