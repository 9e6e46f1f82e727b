package transport

import (
	"fmt"
	"log/slog"
)

// Defaults of Config. Each is generous for real clients (Apollo, urql,
// Relay, GraphiQL: GraphiQL's introspection query is 2 KiB, 185 tokens,
// 100 fields as written and 471 as validation walks them, no field pairs,
// and costs 2,947, the fields it resolves) and keeps the worst document
// within them to milliseconds of validation (bench/RESULTS-graphql.md).
const (
	DefaultMaxBodyBytes        = 1 << 20
	DefaultMaxDocumentBytes    = 64 << 10
	DefaultMaxTokens           = 15_000
	DefaultMaxFields           = 5_000
	DefaultMaxAliases          = 500
	DefaultMaxFieldPairs       = 10_000
	DefaultDepthLimit          = 12
	DefaultComplexityLimit     = 50_000
	DefaultAnonymousComplexity = 10_000
	DefaultMaxErrors           = 50
	DefaultQueryCacheBytes     = 2 << 20
)

// Config configures the GraphQL handler (New). A zero field takes its
// default; a negative limit is invalid (see Validate).
type Config struct {
	// Introspection lets clients query __schema and __type.
	Introspection bool

	// MaxBodyBytes bounds the body of a JSON request (default 1 MiB); a
	// larger one is refused with 413 TOO_LARGE before it is parsed. GraphQL
	// multipart requests (file uploads) have their own bounds.
	MaxBodyBytes int64

	// Document limits, checked on the query text by one pass of the lexer
	// before gqlparser parses and validates it (see countDocument). A
	// document over one is refused with BAD_USER_INPUT.

	// MaxDocumentBytes bounds the query text (default 64 KiB).
	MaxDocumentBytes int
	// MaxTokens bounds the lexical tokens of the query text, punctuation
	// and comments included (default 15,000).
	MaxTokens int
	// MaxFields bounds the fields validation walks: each operation's with
	// its fragments expanded (a fragment spread twice counts twice), plus
	// each fragment's on its own (default 5,000).
	MaxFields int
	// MaxAliases bounds the aliased fields, counted as MaxFields counts
	// fields (default 500).
	MaxAliases int
	// MaxFieldPairs bounds the pairs of fields that share a response name
	// at the same place in the response, fragments and inline fragments
	// merged in (default 10,000). Validation compares each such pair
	// (OverlappingFieldsCanBeMerged): 100 copies of one field are 4,950
	// pairs.
	MaxFieldPairs int

	// Operation limits, checked once the document is valid.

	// DepthLimit bounds the nesting of fields (default 12). Introspection
	// (__schema, __type) is exempt: its nesting is bounded by the schema.
	DepthLimit int
	// ComplexityLimit bounds the cost of an operation with an API key
	// (default 50,000): each field costs 1 plus its selection's cost, a
	// connection (Query.files) costs 1 plus its selection times its page
	// size (first or last; 50 when absent, 1000 at most), deleteFiles 1 per
	// ID, and introspection the fields it resolves. A full page of 1000
	// files with every File field, a transformation and the page info
	// costs 26,001.
	ComplexityLimit int
	// AnonymousComplexityLimit bounds the cost of an operation without an
	// API key, which may only introspect the schema (default 10,000, or
	// ComplexityLimit if that is lower): about three times GraphiQL's
	// introspection query.
	AnonymousComplexityLimit int

	// MaxErrors bounds the validation errors one rule reports (default
	// 50): a document with thousands of conflicting fields gets the first
	// ones, not a response of megabytes.
	MaxErrors int

	// QueryCacheBytes bounds the cache of parsed and validated documents by
	// the bytes of their query texts (default 2 MiB: a thousand queries of
	// 2 KiB). A document takes 10 to 25 times its text once parsed, so the
	// cache holds at most some 50 MB.
	QueryCacheBytes int

	// FileSize checks each file of a GraphQL multipart request against the
	// principal's size limit as it streams in (nil: no per-file limit).
	FileSize SizeRule
	// MaxUploadSize is the server's largest file (0: none). It caps the
	// body of a GraphQL multipart request, with the multipart limits.
	MaxUploadSize int64

	Log *slog.Logger
}

// Validate reports a negative limit.
func (o Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MaxBodyBytes", o.MaxBodyBytes}, {"MaxDocumentBytes", int64(o.MaxDocumentBytes)},
		{"MaxTokens", int64(o.MaxTokens)}, {"MaxFields", int64(o.MaxFields)}, {"MaxAliases", int64(o.MaxAliases)},
		{"MaxFieldPairs", int64(o.MaxFieldPairs)}, {"DepthLimit", int64(o.DepthLimit)},
		{"ComplexityLimit", int64(o.ComplexityLimit)}, {"AnonymousComplexityLimit", int64(o.AnonymousComplexityLimit)},
		{"MaxErrors", int64(o.MaxErrors)}, {"QueryCacheBytes", int64(o.QueryCacheBytes)},
	} {
		if f.v < 0 {
			return fmt.Errorf("transport: Config.%s is %d: a limit cannot be negative", f.name, f.v)
		}
	}
	return nil
}

// withDefaults fills the zero fields.
func (o Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	def(&o.MaxDocumentBytes, DefaultMaxDocumentBytes)
	def(&o.MaxTokens, DefaultMaxTokens)
	def(&o.MaxFields, DefaultMaxFields)
	def(&o.MaxAliases, DefaultMaxAliases)
	def(&o.MaxFieldPairs, DefaultMaxFieldPairs)
	def(&o.DepthLimit, DefaultDepthLimit)
	def(&o.ComplexityLimit, DefaultComplexityLimit)
	def(&o.AnonymousComplexityLimit, min(DefaultAnonymousComplexity, o.ComplexityLimit))
	def(&o.MaxErrors, DefaultMaxErrors)
	def(&o.QueryCacheBytes, DefaultQueryCacheBytes)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// docLimits are the document limits of o.
func (o Config) docLimits() docLimits {
	return docLimits{
		Bytes: o.MaxDocumentBytes, Tokens: o.MaxTokens, Fields: o.MaxFields,
		Aliases: o.MaxAliases, FieldPairs: o.MaxFieldPairs,
	}
}
