package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// TestMultipartStreamsWhileBodyArrives: the operation gets a reader over
// the file part and reads its first MiB while the client still holds the
// rest of the body back; a transport that read the body first would never
// run the operation, and the test would time out on `started`.
func TestMultipartStreamsWhileBodyArrives(t *testing.T) {
	const size, first = 4 << 20, 2 << 20
	want := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	started := make(chan struct{})
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		writeParts(mw, tOps(`{"file":null}`), tMap(`{"0":["variables.file"]}`))
		w, _ := mw.CreatePart(textproto.MIMEHeader{
			"Content-Disposition": {`form-data; name="0"; filename="f.bin"`}, "Content-Type": {"application/x-test"}})
		w.Write(want[:first])
		select {
		case <-started:
		case <-time.After(20 * time.Second):
			pw.CloseWithError(errors.New("the operation did not start reading while the body was held back"))
			return
		}
		w.Write(want[first:])
		pw.CloseWithError(mw.Close())
	}()
	var got []byte
	exec := stubExec{op: func(vars map[string]any) (any, error) {
		u := upload(t, vars["file"])
		if u.Filename != "f.bin" || u.ContentType != "application/x-test" || u.Size != -1 {
			return nil, fmt.Errorf("upload %q %q %d", u.Filename, u.ContentType, u.Size)
		}
		head := make([]byte, 1<<20)
		if _, err := io.ReadFull(u.File, head); err != nil {
			return nil, err
		}
		// Not seekable: only no-op seeks succeed.
		if off, err := u.File.Seek(0, io.SeekCurrent); err != nil || off != 1<<20 {
			return nil, fmt.Errorf("Seek(0, current) = %d, %v", off, err)
		}
		if off, err := u.File.Seek(1<<20, io.SeekStart); err != nil || off != 1<<20 {
			return nil, fmt.Errorf("Seek(to the offset) = %d, %v", off, err)
		}
		if _, err := u.File.Seek(0, io.SeekStart); err == nil {
			return nil, errors.New("Seek back to the start succeeded")
		}
		if _, err := u.File.Seek(0, io.SeekEnd); err == nil {
			return nil, errors.New("Seek to the end succeeded")
		}
		close(started)
		rest, err := io.ReadAll(u.File)
		got = append(head, rest...)
		return "ok", err
	}}
	w := serve(testForm(), exec, mw.FormDataContentType(), pr)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"data":"ok"`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, not the %d sent", len(got), len(want))
	}
}

// TestMultipartNestedPathsAndLaterHeaders: files may sit anywhere in the
// variables; a later file's name and type are filled in once its header
// arrives, which is when the file before it has been read.
func TestMultipartNestedPathsAndLaterHeaders(t *testing.T) {
	ctype, body := tBody(
		tOps(`{"input":{"files":[null,null],"n":1}}`),
		tMap(`{"a":["variables.input.files.0"],"b":["variables.input.files.1"]}`),
		tFile("a", "a.txt", []byte("first")), tFile("b", "b.txt", []byte("second")),
	)
	exec := stubExec{op: func(vars map[string]any) (any, error) {
		files := func() []any { return vars["input"].(map[string]any)["files"].([]any) }
		a := upload(t, files()[0])
		if a.Filename != "a.txt" || upload(t, files()[1]).Filename != "" {
			return nil, fmt.Errorf("before reading: %q %q", a.Filename, upload(t, files()[1]).Filename)
		}
		ab, err := io.ReadAll(a.File)
		if err != nil {
			return nil, err
		}
		b := upload(t, files()[1])
		if b.Filename != "b.txt" || b.ContentType != "application/x-test" {
			return nil, fmt.Errorf("after reading a: %q %q", b.Filename, b.ContentType)
		}
		bb, err := io.ReadAll(b.File)
		return string(ab) + "+" + string(bb), err
	}}
	w := serve(testForm(), exec, ctype, bytes.NewReader(body))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"data":"first+second"`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func TestMultipartReadOrder(t *testing.T) {
	two := []tPart{tOps(`{"a":null,"b":null}`), tMap(`{"0":["variables.a"],"1":["variables.b"]}`),
		tFile("0", "a", []byte("aaa")), tFile("1", "b", []byte("bbb"))}
	read := func(vars map[string]any, name string) (string, error) {
		f := upload(t, vars[name]).File
		b, err := io.ReadAll(f)
		if err != nil && UploadError(f) == nil {
			return "", fmt.Errorf("read failed without a reason: %w", err)
		}
		return string(b), err
	}
	cases := []struct {
		name   string
		parts  []tPart
		op     func(vars map[string]any) (any, error)
		status int
		want   string
	}{
		{"files read in order", two, func(v map[string]any) (any, error) {
			a, err := read(v, "a")
			if err != nil {
				return nil, err
			}
			b, err := read(v, "b")
			return a + b, err
		}, 200, `"data":"aaabbb"`},
		{"no file read: drained", two, func(map[string]any) (any, error) { return "none", nil }, 200, `"data":"none"`},
		{"a later file skips an earlier one", two, func(v map[string]any) (any, error) {
			if b, err := read(v, "b"); err != nil || b != "bbb" {
				return nil, fmt.Errorf("b: %q %v", b, err)
			}
			_, err := read(v, "a")
			return nil, err
		}, 200, "must read the files in the order"},
		{"one file at two paths is read once", []tPart{tOps(`{"a":null,"b":null}`), tMap(`{"0":["variables.a","variables.b"]}`), tFile("0", "a", []byte("aaa"))},
			func(v map[string]any) (any, error) {
				if a, err := read(v, "a"); err != nil || a != "aaa" {
					return nil, fmt.Errorf("a: %q %v", a, err)
				}
				_, err := read(v, "b")
				return nil, err
			}, 200, "more than one path"},
		{"reading again after the end", two, func(v map[string]any) (any, error) {
			f := upload(t, v["a"]).File
			io.ReadAll(f)
			if n, err := f.Read(make([]byte, 4)); n != 0 || err != io.EOF {
				return nil, fmt.Errorf("read after EOF: %d %v", n, err)
			}
			return "eof", nil
		}, 200, `"data":"eof"`},
		{"a duplicate part fails the read before its end", []tPart{tOps(`{"a":null}`), tMap(`{"0":["variables.a"]}`),
			tFile("0", "a", []byte("aaa")), tFile("0", "a", []byte("again"))},
			func(v map[string]any) (any, error) {
				if _, err := read(v, "a"); err == nil {
					return nil, errors.New("read to the end")
				}
				return nil, nil
			}, 400, "more than once"},
		{"over the size rule", []tPart{tOps(`{"a":null}`), tMap(`{"0":["variables.a"]}`), tFile("0", "a", []byte("0123456789x"))},
			func(v map[string]any) (any, error) { _, err := read(v, "a"); return nil, err }, 413, "TOO_LARGE"},
		{"unread file over the size rule", []tPart{tOps(`{"a":null}`), tMap(`{"0":["variables.a"]}`), tFile("0", "a", []byte("0123456789x"))},
			func(v map[string]any) (any, error) { return nil, nil }, 413, "TOO_LARGE"},
		{"validation error still checks the parts", []tPart{{name: "operations", body: []byte(`{"query":"","variables":{"a":null}}`)},
			tMap(`{"0":["variables.a"]}`), tFile("0", "a", []byte("aaa")), tFile("9", "b", nil)},
			nil, 400, "not a file the map names"},
		{"validation error", []tPart{{name: "operations", body: []byte(`{"query":"","variables":{"a":null}}`)},
			tMap(`{"0":["variables.a"]}`), tFile("0", "a", []byte("aaa"))},
			nil, 400, "GRAPHQL_VALIDATION_FAILED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := testForm()
			m.sizes = limitRule(10)
			ctype, body := tBody(c.parts...)
			w := serve(m, stubExec{op: c.op}, ctype, bytes.NewReader(body))
			if w.Code != c.status || !strings.Contains(w.Body.String(), c.want) {
				t.Fatalf("%d %s, want %d with %q", w.Code, w.Body, c.status, c.want)
			}
			if w.Code >= 400 && strings.Contains(w.Body.String(), `"data"`) {
				t.Fatalf("a refused request has data: %s", w.Body)
			}
		})
	}
}

func TestMultipartBodyCap(t *testing.T) {
	m := testForm()
	m.maxUpload = 10
	m.sizes = limitRule(10)
	ctype, body := tBody(tOps(`{"a":null}`), tMap(`{"0":["variables.a"]}`), tFile("0", "a", bytes.Repeat([]byte("x"), int(m.bodyCap()))))
	w := serve(m, stubExec{op: func(map[string]any) (any, error) { return nil, nil }}, ctype, bytes.NewReader(body))
	if w.Code != 413 || w.Header().Get("Connection") != "close" {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	if (multipartForm{maxUpload: 1 << 62, maxFiles: 10, maxJSON: 1 << 20}).bodyCap() != 0 {
		t.Fatal("an overflowing cap must mean no cap")
	}
}

func TestMultipartNeedsAuthorization(t *testing.T) {
	ctype, body := tBody(tOps(`{"a":null}`), tMap(`{"0":["variables.a"]}`), tFile("0", "a", []byte("aaa")))
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	w := httptest.NewRecorder()
	testForm().Do(w, req, stubExec{})
	if w.Code != 401 || !strings.Contains(w.Body.String(), "UNAUTHENTICATED") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

// FuzzMultipart feeds arbitrary bodies to the transport: it must answer
// (never panic or hang) with 200 or a 4xx, in JSON.
func FuzzMultipart(f *testing.F) {
	_, good := tBody(tOps(`{"a":null,"b":[null]}`), tMap(`{"0":["variables.a"],"1":["variables.b.0"]}`),
		tFile("0", "a", []byte("aaa")), tFile("1", "b", []byte("bbb")))
	f.Add(good)
	f.Add(good[:len(good)/2])
	_, dup := tBody(tOps(`{"a":null}`), tMap(`{"0":["variables.a"]}`), tFile("0", "a", []byte("a")), tFile("0", "a", nil))
	f.Add(dup)
	f.Add([]byte("--x\r\n\r\n--x--"))
	f.Fuzz(func(t *testing.T, body []byte) {
		// tBody's boundary is random: rewrite the fuzzed one to a fixed one.
		if i := bytes.Index(body, []byte("\r\n")); i > 2 && body[0] == '-' && body[1] == '-' {
			body = bytes.ReplaceAll(body, body[2:i], []byte("B"))
		}
		m := testForm()
		m.sizes = limitRule(100)
		exec := stubExec{op: func(vars map[string]any) (any, error) {
			var walk func(v any)
			walk = func(v any) {
				switch v := v.(type) {
				case graphql.Upload:
					io.Copy(io.Discard, v.File)
				case map[string]any:
					for _, x := range v {
						walk(x)
					}
				case []any:
					for _, x := range v {
						walk(x)
					}
				}
			}
			walk(vars)
			return nil, nil
		}}
		w := serve(m, exec, "multipart/form-data; boundary=B", bytes.NewReader(body))
		if w.Code != 200 && (w.Code < 400 || w.Code >= 500) {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("not JSON: %s", w.Body)
		}
	})
}
