package transport

import (
	"container/list"
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// queryCache is gqlgen's cache of parsed and validated documents, bounded
// by the bytes of the query texts it holds rather than by their number: a
// document's AST takes 10 to 25 times its text, so a thousand documents of
// 64 KiB (gqlgen's lru of 1000) could hold 1.4 GB, where clients sending
// documents that differ by a space are enough to fill it.
type queryCache struct {
	mu    sync.Mutex
	max   int // bytes of query text
	size  int
	order *list.List // of *cached, most recently used first
	items map[string]*list.Element
}

type cached struct {
	query string
	doc   *ast.QueryDocument
}

var _ graphql.Cache[*ast.QueryDocument] = (*queryCache)(nil)

func newQueryCache(maxBytes int) *queryCache {
	return &queryCache{max: maxBytes, order: list.New(), items: map[string]*list.Element{}}
}

func (c *queryCache) Get(_ context.Context, query string) (*ast.QueryDocument, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[query]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cached).doc, true
}

func (c *queryCache) Add(_ context.Context, query string, doc *ast.QueryDocument) {
	if len(query) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[query]; ok {
		e.Value.(*cached).doc = doc
		c.order.MoveToFront(e)
		return
	}
	c.items[query] = c.order.PushFront(&cached{query: query, doc: doc})
	c.size += len(query)
	for c.size > c.max {
		old := c.order.Remove(c.order.Back()).(*cached)
		delete(c.items, old.query)
		c.size -= len(old.query)
	}
}
