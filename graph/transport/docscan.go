package transport

import (
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

// docCounts are what a GraphQL document will cost to parse and validate,
// counted from its tokens alone: one linear pass, before gqlparser builds
// its AST and runs the validation rules, some of which walk a fragment
// once per spread and one of which (OverlappingFieldsCanBeMerged) compares
// every two fields that share a response name.
type docCounts struct {
	Bytes  int
	Tokens int // comments included
	// Fields counts the fields validation walks: those of each operation
	// with its fragments expanded (a fragment spread twice counts twice,
	// and so on down a chain of fragments), plus those of each fragment
	// with its own fragments expanded, as gqlparser validates every
	// fragment on its own too.
	Fields int
	// Aliases counts aliased fields the same way.
	Aliases int
	// FieldPairs counts the pairs of fields validation compares: those
	// with the same response name at the same place in a response, once
	// same-named fields are merged and fragments spread (per operation, and
	// once more for each fragment on its own, as gqlparser walks them).
	FieldPairs int
	// Cycle is a fragment that spreads itself, if any ("" otherwise). The
	// other counts do not follow the cycle, and FieldPairs is not counted.
	Cycle string
}

// docLimits are the largest counts a document may have; 0 means no limit.
type docLimits struct {
	Bytes, Tokens, Fields, Aliases, FieldPairs int
}

// exceeded names the first count over its limit, or "".
func (c docCounts) exceeded(l docLimits) string {
	over := func(n, limit int) bool { return limit > 0 && n > limit }
	switch {
	case over(c.Bytes, l.Bytes):
		return "bytes"
	case over(c.Tokens, l.Tokens):
		return "tokens"
	case over(c.Fields, l.Fields):
		return "fields"
	case over(c.Aliases, l.Aliases):
		return "aliases"
	case over(c.FieldPairs, l.FieldPairs):
		return "field pairs"
	}
	return ""
}

// countDocument counts src. It stops at the first count past its limit
// (the counts are then the limit plus one, or more: the rest is not read),
// and at the first lexical error, past which gqlparser reads nothing
// either. It never fails: a document it cannot follow is one the parser
// refuses.
func countDocument(src string, limits docLimits) docCounts {
	c := docCounts{Bytes: len(src)}
	if c.exceeded(limits) != "" {
		return c
	}
	s := newScanner()
	lx := lexer.New(&ast.Source{Input: src})
	for {
		tok, err := lx.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			break
		}
		c.Tokens++
		if limits.Tokens > 0 && c.Tokens > limits.Tokens {
			c.Fields, c.Aliases = len(s.fields), s.aliases
			return c
		}
		if tok.Kind == lexer.Comment {
			continue
		}
		s.token(tok)
		if limits.Fields > 0 && len(s.fields) > limits.Fields || limits.Aliases > 0 && s.aliases > limits.Aliases {
			c.Fields, c.Aliases = len(s.fields), s.aliases
			return c
		}
	}
	t := tally{s: s, limits: limits}
	c.Fields, c.Aliases, c.Cycle = t.expanded()
	if c.Cycle == "" && c.exceeded(limits) == "" {
		// Only a document of bounded size gets here: merging is linear in
		// its expanded fields.
		c.FieldPairs = t.pairs()
	}
	return c
}

// scanner follows just enough of the grammar to tell a field from an
// argument, a directive, a fragment name or a type, and records the
// selection sets: which fields each holds, with the set below each field,
// and which fragments it spreads. An inline fragment's fields belong to
// the set it is written in, as validation sees them.
type scanner struct {
	fields  []scanField
	sets    []scanSet
	ops     []int            // the selection set of each operation
	frags   map[string][]int // the selection set(s) of each fragment, by name
	names   []string         // the fragments' names in the order they come
	aliases int

	stack []scanFrame // open brackets
	top   scanFrame   // the definition level, outside any bracket
	open  bool        // a definition has begun and its selection set not closed
	frag  bool        // that definition is a fragment
	name  string      // the fragment's name
}

type scanField struct {
	name  string // the response name: the alias, or the field name
	alias bool
	sub   int // index in sets of the field's selection set, -1 for none
}

type scanSet struct {
	fields  []int
	spreads []string // with repeats
}

type scanState uint8

const (
	stateNone     scanState = iota
	stateAlias              // after "name :": the field name follows
	stateAt                 // after "@": a directive name follows
	stateSpread             // after "...": a fragment name or "on" follows
	stateOn                 // after "... on": a type name follows
	stateFragment           // after "fragment" at the top: the fragment's name follows
)

type scanFrame struct {
	selection bool // a selection set, not a value, arguments or a list
	set       int  // the set the frame's fields go to
	state     scanState
	last      int  // the frame's latest field, -1 before its first
	inline    bool // "..." was read and no fragment name after it: a "{" opens an inline fragment
}

func newScanner() *scanner {
	return &scanner{frags: map[string][]int{}, top: scanFrame{last: -1}}
}

func (s *scanner) token(tok lexer.Token) {
	if len(s.stack) == 0 && !s.open {
		// A definition begins: an operation, or "fragment Name on Type".
		s.open, s.frag, s.name = true, tok.Kind == lexer.Name && tok.Value == "fragment", ""
		if s.frag {
			s.top.state = stateFragment
			return
		}
	}
	f := &s.top
	if n := len(s.stack); n > 0 {
		f = &s.stack[n-1]
	}
	prev := f.state
	f.state = stateNone
	switch tok.Kind {
	case lexer.BraceL:
		switch {
		case len(s.stack) == 0:
			set := s.newSet()
			if s.frag {
				if _, ok := s.frags[s.name]; !ok {
					s.names = append(s.names, s.name)
				}
				s.frags[s.name] = append(s.frags[s.name], set)
			} else {
				s.ops = append(s.ops, set)
			}
			s.stack = append(s.stack, scanFrame{selection: true, set: set, last: -1})
		case f.selection && f.inline:
			f.inline = false
			s.stack = append(s.stack, scanFrame{selection: true, set: f.set, last: -1})
		case f.selection:
			set := s.newSet()
			if f.last >= 0 && s.fields[f.last].sub < 0 {
				s.fields[f.last].sub = set
			}
			s.stack = append(s.stack, scanFrame{selection: true, set: set, last: -1})
		default:
			s.stack = append(s.stack, scanFrame{last: -1})
		}
	case lexer.ParenL, lexer.BracketL:
		s.stack = append(s.stack, scanFrame{last: -1})
	case lexer.BraceR, lexer.ParenR, lexer.BracketR:
		if len(s.stack) > 0 {
			s.stack = s.stack[:len(s.stack)-1]
			if len(s.stack) == 0 && tok.Kind == lexer.BraceR {
				s.open = false
			}
		}
	case lexer.At:
		f.state = stateAt
	case lexer.Spread:
		if f.selection {
			f.state, f.inline = stateSpread, true
		}
	case lexer.Colon:
		if f.selection && f.last >= 0 && prev == stateNone {
			f.state = stateAlias
			s.fields[f.last].alias = true
			s.aliases++
		}
	case lexer.Name:
		switch {
		case prev == stateFragment:
			s.name = tok.Value
		case !f.selection, prev == stateAt, prev == stateAlias, prev == stateOn:
		case prev == stateSpread && tok.Value == "on":
			f.state = stateOn
		case prev == stateSpread:
			f.inline = false
			s.sets[f.set].spreads = append(s.sets[f.set].spreads, tok.Value)
		default:
			f.inline = false
			f.last = len(s.fields)
			s.fields = append(s.fields, scanField{name: tok.Value, sub: -1})
			s.sets[f.set].fields = append(s.sets[f.set].fields, f.last)
		}
	}
}

func (s *scanner) newSet() int {
	s.sets = append(s.sets, scanSet{})
	return len(s.sets) - 1
}
