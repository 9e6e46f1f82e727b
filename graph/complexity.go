package graph

import (
	"math"

	"satchel/graph/model"
	"satchel/internal/uploads"
)

// complexityFuncs are the costs of the fields whose work is not one
// object: a connection resolves a page of nodes, so its selection counts
// once per node it may return. The transport's complexity limit adds them
// up (transport.OperationCost).
func complexityFuncs() ComplexityRoot {
	var c ComplexityRoot
	c.Query.Files = func(child int, first *int, _ *string, last *int, _ *string, _ *model.FileFilter) int {
		return satAdd(1, satMul(pageSize(first, last), child))
	}
	c.Mutation.DeleteFiles = func(child int, ids []string) int {
		return satAdd(1+len(ids), child)
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

// satAdd and satMul saturate at math.MaxInt: a cost never wraps around.
func satAdd(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

func satMul(a, b int) int {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}
