package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"satchel/internal/apperr"
	"satchel/internal/auth"
)

// stubExec stands in for gqlgen's executor: it copies the top level of the
// variables as gqlgen's coercion does, and runs op on them as the
// "operation". An empty query is a validation error.
type stubExec struct {
	op func(vars map[string]any) (any, error)
}

func (e stubExec) CreateOperationContext(ctx context.Context, p *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	if p.Query == "" {
		err := gqlerror.Errorf("no operation")
		errcode.Set(err, errcode.ValidationFailed)
		return nil, gqlerror.List{err}
	}
	return &graphql.OperationContext{RawQuery: p.Query, Variables: maps.Clone(p.Variables)}, nil
}

func (e stubExec) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	return func(ctx context.Context) *graphql.Response {
		data, err := e.op(rc.Variables)
		resp := &graphql.Response{}
		if err != nil {
			resp.Errors = gqlerror.List{{Message: err.Error(), Extensions: map[string]any{"code": apperr.CodeOf(err)}}}
		}
		resp.Data, _ = json.Marshal(data)
		return resp
	}, ctx
}

func (e stubExec) DispatchError(ctx context.Context, list gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: list}
}

// limitRule refuses files over a fixed size.
type limitRule int64

func (l limitRule) CheckSize(_ *auth.Principal, size int64) error {
	if size > int64(l) {
		return apperr.Newf(apperr.TooLarge, "the file is larger than the limit of %d bytes", int64(l))
	}
	return nil
}

type tPart struct {
	name, filename, ctype string
	body                  []byte
}

func tBody(parts ...tPart) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	writeParts(mw, parts...)
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func writeParts(mw *multipart.Writer, parts ...tPart) {
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := fmt.Sprintf("form-data; name=%q", p.name)
		if p.filename != "" {
			cd += fmt.Sprintf("; filename=%q", p.filename)
		}
		h.Set("Content-Disposition", cd)
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		w, _ := mw.CreatePart(h)
		w.Write(p.body)
	}
}

func tOps(vars string) tPart {
	return tPart{name: "operations", body: []byte(`{"query":"mutation { x }","variables":` + vars + `}`)}
}

func tMap(m string) tPart { return tPart{name: "map", body: []byte(m)} }

func tFile(name, filename string, body []byte) tPart {
	return tPart{name: name, filename: filename, ctype: "application/x-test", body: body}
}

// serve runs one request through the transport with a principal.
func serve(m multipartForm, exec graphql.GraphExecutor, ctype string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/graphql", body)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer public_test")
	req = req.WithContext(auth.WithPrincipal(req.Context(), &auth.Principal{AccountID: "acc"}))
	w := httptest.NewRecorder()
	m.Do(w, req, exec)
	return w
}

func testForm() multipartForm {
	return multipartForm{maxFiles: multipartMaxFiles, maxJSON: multipartMaxJSON}
}

func upload(t *testing.T, v any) graphql.Upload {
	t.Helper()
	u, ok := v.(graphql.Upload)
	if !ok {
		t.Fatalf("%T is not an Upload", v)
	}
	return u
}
