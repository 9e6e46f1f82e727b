package transport

import (
	"context"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

func TestQueryCacheIsBoundedByBytes(t *testing.T) {
	ctx := context.Background()
	c := newQueryCache(100)
	q := func(s string) string { return s + strings.Repeat(" ", 40-len(s)) } // 40 bytes
	doc := &ast.QueryDocument{}
	c.Add(ctx, q("{ a }"), doc)
	c.Add(ctx, q("{ b }"), doc)
	if _, ok := c.Get(ctx, q("{ a }")); !ok { // a is now the most recent
		t.Fatal("a was not cached")
	}
	c.Add(ctx, q("{ c }"), doc) // 120 bytes: b, the least recent, goes
	for s, want := range map[string]bool{"{ a }": true, "{ b }": false, "{ c }": true} {
		if _, ok := c.Get(ctx, q(s)); ok != want {
			t.Errorf("%s cached: %v, want %v", s, ok, want)
		}
	}
	c.Add(ctx, strings.Repeat("x", 101), doc) // larger than the whole cache
	if _, ok := c.Get(ctx, strings.Repeat("x", 101)); ok || c.size != 80 {
		t.Fatalf("a document over the budget was cached, or evicted others (size %d)", c.size)
	}
}
