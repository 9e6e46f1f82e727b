package graph

import (
	"satchel/graph/model"
	"satchel/graph/transport"
	"satchel/internal/uploads"
)

// complexityFuncs are the costs of the fields whose work is not one
// object: a connection resolves a page of nodes, so its selection counts
// once per node it may return. The transport's complexity limit adds them
// up (transport.OperationCost).
func complexityFuncs() ComplexityRoot {
	var c ComplexityRoot
	c.Query.Files = func(child int, first *int, _ *string, last *int, _ *string, _ *model.FileFilter) int {
		return transport.ConnectionCost(pageSize(first, last), child)
	}
	c.Mutation.DeleteFiles = func(child int, ids []string) int {
		return transport.ItemsCost(len(ids), child)
	}
	return c
}

// pageSize is the most nodes a connection may return: first or last,
// DefaultPageSize when neither is given, never more than MaxPageSize (the
// resolver refuses more).
func pageSize(first, last *int) int {
	if first == nil && last == nil {
		return uploads.DefaultPageSize
	}
	n := 0
	for _, v := range []*int{first, last} {
		if v != nil {
			n = max(n, *v)
		}
	}
	return min(n, uploads.MaxPageSize)
}
