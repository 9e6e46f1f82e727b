package transforms

import "fmt"

// Kind says why transforms refused a preset or an input.
type Kind int

// The kinds of Error.
const (
	// KindInternal: libvips failed on an input that passed the checks, or
	// recovered from a panic; the input is not known to be at fault.
	KindInternal Kind = iota
	// KindBadPreset: the preset is invalid (Preset.Validate), or asks for an
	// output format this libvips cannot write.
	KindBadPreset
	// KindNotAnImage: the input is not an image in an accepted format, or it
	// is corrupt or truncated.
	KindNotAnImage
	// KindTooLarge: the input is over Limits.MaxBytes, or its header claims
	// more than Limits.MaxPixels.
	KindTooLarge
)

var kindNames = [...]string{
	KindInternal:   "internal error",
	KindBadPreset:  "bad preset",
	KindNotAnImage: "not an image",
	KindTooLarge:   "too large",
}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is an error of this package. Message names what is wrong with the
// preset or the input, in terms fit for whoever sent them; libvips' own
// reasons, which are for logs only, are in the text of the errors that wrap
// an Error, never in its Message.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Kind.String()
	}
	return e.Kind.String() + ": " + e.Message
}

// Is matches an Error of the same kind (and the same message, when target
// has one), so that errors.Is(err, ErrTooLarge) asks for the kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && (t.Message == "" || t.Message == e.Message)
}

// Sentinels of each kind, for errors.Is.
var (
	ErrInternal   = &Error{Kind: KindInternal}
	ErrBadPreset  = &Error{Kind: KindBadPreset}
	ErrNotAnImage = &Error{Kind: KindNotAnImage}
	ErrTooLarge   = &Error{Kind: KindTooLarge}
)

func newError(kind Kind, message string) *Error { return &Error{Kind: kind, Message: message} }

func errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}
