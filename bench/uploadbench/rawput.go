package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
)

// rawPutter sends PUTs of file ranges over one kept-alive connection with
// sendfile, as the PATCH client's whole file is sent: net/http cannot send
// a range of a file that way (it copies a SectionReader through user
// space, and reads past an *os.File's Content-Length to check that nothing
// is left), which cost the multipart client 4x the PATCH client's CPU on a
// machine whose cores the server needs. One per worker.
type rawPutter struct {
	conn *net.TCPConn
	br   *bufio.Reader
}

func (p *rawPutter) close() {
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
}

// put sends n bytes of f from offset to rawURL and returns the response,
// whose body it has read (at most 4 KiB kept).
func (p *rawPutter) put(ctx context.Context, rawURL string, f *os.File, offset, n int64) (*http.Response, []byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" {
		return nil, nil, fmt.Errorf("PUT %s: only http:// URLs", rawURL)
	}
	if p.conn == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", u.Host)
		if err != nil {
			return nil, nil, err
		}
		p.conn, p.br = c.(*net.TCPConn), bufio.NewReaderSize(c, 16<<10)
	}
	resp, body, err := p.send(u, f, offset, n)
	if err != nil {
		p.close()
		return nil, nil, err
	}
	if resp.Close {
		p.close()
	}
	return resp, body, nil
}

func (p *rawPutter) send(u *url.URL, f *os.File, offset, n int64) (*http.Response, []byte, error) {
	if _, err := fmt.Fprintf(p.conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n",
		u.RequestURI(), u.Host, n); err != nil {
		return nil, nil, err
	}
	// A descriptor of the range's own, at its start: *net.TCPConn's
	// ReadFrom sends an *io.LimitedReader of an *os.File with sendfile.
	src, err := os.Open(f.Name())
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	if _, err := src.Seek(offset, io.SeekStart); err != nil {
		return nil, nil, err
	}
	if m, err := p.conn.ReadFrom(&io.LimitedReader{R: src, N: n}); err != nil || m != n {
		return nil, nil, fmt.Errorf("sent %d of %d bytes: %v", m, n, err)
	}
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil {
		return nil, nil, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, body, err
}
