package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"sync"
	"time"
)

// SQLite has one writer at a time. Left to itself, a connection that finds
// the write lock taken sleeps in its busy handler on a fixed schedule (1, 2,
// 5, 10, ... 100 ms) and retries, while newcomers may take the lock ahead of
// it: with many writers, some wait a hundred times longer than the
// transactions they wait for. The write gate queues this process's writers
// in Go instead, first come first served, and hands the lock to the next one
// the moment it is released. Throughput is the same; the tail is not: with
// 16 goroutines committing small transactions (BenchmarkConcurrentWriters,
// 2 cores) p99 went from 30-35 ms to 6-7 ms and the slowest from 240 ms to
// 8 ms. The busy handler remains for other processes (satchel migrate, the
// sqlite3 shell).
//
// What counts as a writer: every transaction (Satchel's are BEGIN
// IMMEDIATE, which takes the write lock at BEGIN) and every statement outside
// a transaction that is not a plain read. Reads outside transactions never
// wait: WAL lets them run beside the writer.
//
// A writer waits for the gate holding its pooled connection (the driver
// sees it only then), as it waited in the busy handler before: so code that
// holds a transaction must not use the pool for anything else, or enough
// waiting writers starve it of a connection until they time out.

// errGateTimeout is what a writer gets after waiting as long as busy_timeout
// would have let it.
var errGateTimeout = errors.New("sqlite: database is locked (timed out waiting for the write lock)")

type writeGate struct {
	ch      chan struct{}
	timeout time.Duration
}

func newWriteGate(timeout time.Duration) *writeGate {
	return &writeGate{ch: make(chan struct{}, 1), timeout: timeout}
}

func (g *writeGate) acquire(ctx context.Context) error {
	select {
	case g.ch <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(g.timeout)
	defer t.Stop()
	select {
	case g.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errGateTimeout
	}
}

func (g *writeGate) release() { <-g.ch }

// releaser releases the gate at most once.
type releaser struct {
	once sync.Once
	g    *writeGate
}

func (r *releaser) release() { r.once.Do(r.g.release) }

// readOnly reports whether query is a statement that cannot write: its first
// keyword, after white space, comments and parentheses, is SELECT, VALUES or
// EXPLAIN. Anything else (WITH included, which may front a DELETE) is a
// writer.
func readOnly(query string) bool {
	s := query
	for {
		s = strings.TrimLeft(s, " \t\r\n\f(")
		switch {
		case strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return false
			}
			s = s[i+1:]
			continue
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s[2:], "*/")
			if i < 0 {
				return false
			}
			s = s[2+i+2:]
			continue
		}
		break
	}
	end := 0
	for end < len(s) && isWordByte(s[end]) {
		end++
	}
	switch strings.ToUpper(s[:end]) {
	case "SELECT", "VALUES", "EXPLAIN":
		return true
	}
	return false
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_'
}

// gatedConnector opens SQLite connections that share one write gate.
type gatedConnector struct {
	drv  driver.Driver
	dsn  string
	gate *writeGate
}

func (c *gatedConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite driver connection lacks the context interfaces")
	}
	return &gatedConn{inner: inner, gate: c.gate}, nil
}

func (c *gatedConnector) Driver() driver.Driver { return c.drv }

// sqliteConn is what the modernc connection implements and the gate
// forwards.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// gatedConn is used by one goroutine at a time (database/sql's rule), so
// inTx needs no lock.
type gatedConn struct {
	inner sqliteConn
	gate  *writeGate
	inTx  bool
}

var _ sqliteConn = (*gatedConn)(nil)

func (c *gatedConn) Close() error                           { return c.inner.Close() }
func (c *gatedConn) Ping(ctx context.Context) error         { return c.inner.Ping(ctx) }
func (c *gatedConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }
func (c *gatedConn) IsValid() bool                          { return c.inner.IsValid() }

func (c *gatedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *gatedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.gate.acquire(ctx); err != nil {
		return nil, err
	}
	tx, err := c.inner.BeginTx(ctx, opts)
	if err != nil {
		c.gate.release()
		return nil, err
	}
	c.inTx = true
	return &gatedTx{inner: tx, conn: c, r: &releaser{g: c.gate}}, nil
}

// enter takes the gate for a statement outside a transaction that may
// write; the returned release is nil when no gate was taken.
func (c *gatedConn) enter(ctx context.Context, query string) (*releaser, error) {
	if c.inTx || readOnly(query) {
		return nil, nil
	}
	if err := c.gate.acquire(ctx); err != nil {
		return nil, err
	}
	return &releaser{g: c.gate}, nil
}

func (c *gatedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.exec(ctx, query, func() (driver.Result, error) { return c.inner.ExecContext(ctx, query, args) })
}

func (c *gatedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.query(ctx, query, func() (driver.Rows, error) { return c.inner.QueryContext(ctx, query, args) })
}

// exec runs run, under the gate when query may write.
func (c *gatedConn) exec(ctx context.Context, query string, run func() (driver.Result, error)) (driver.Result, error) {
	r, err := c.enter(ctx, query)
	if err != nil {
		return nil, err
	}
	if r != nil {
		defer r.release()
	}
	return run()
}

// query is exec for statements with rows: a writing one (DELETE ...
// RETURNING) holds the gate until its rows are closed.
func (c *gatedConn) query(ctx context.Context, query string, run func() (driver.Rows, error)) (driver.Rows, error) {
	r, err := c.enter(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := run()
	if r == nil {
		return rows, err
	}
	if err != nil {
		r.release()
		return nil, err
	}
	return &gatedRows{Rows: rows, r: r}, nil
}

func (c *gatedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *gatedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	inner, ok := st.(sqliteStmt)
	if !ok {
		st.Close()
		return nil, errors.New("sqlite driver statement lacks the context interfaces")
	}
	return &gatedStmt{inner: inner, conn: c, query: query}, nil
}

type gatedTx struct {
	inner driver.Tx
	conn  *gatedConn
	r     *releaser
}

func (t *gatedTx) Commit() error {
	defer t.done()
	return t.inner.Commit()
}

func (t *gatedTx) Rollback() error {
	defer t.done()
	return t.inner.Rollback()
}

func (t *gatedTx) done() {
	t.conn.inTx = false
	t.r.release()
}

type gatedRows struct {
	driver.Rows
	r *releaser
}

func (r *gatedRows) Close() error {
	defer r.r.release()
	return r.Rows.Close()
}

type sqliteStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

type gatedStmt struct {
	inner sqliteStmt
	conn  *gatedConn
	query string
}

func (s *gatedStmt) Close() error  { return s.inner.Close() }
func (s *gatedStmt) NumInput() int { return s.inner.NumInput() }

func (s *gatedStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func (s *gatedStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

func (s *gatedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.conn.exec(ctx, s.query, func() (driver.Result, error) { return s.inner.ExecContext(ctx, args) })
}

func (s *gatedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.conn.query(ctx, s.query, func() (driver.Rows, error) { return s.inner.QueryContext(ctx, args) })
}

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, v := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}
