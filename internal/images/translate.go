package images

import (
	"errors"

	"satchel/internal/apperr"
	"satchel/transforms"
)

// clientError translates an error of transforms into the one clients see:
// its message, under the code its kind stands for (an invalid preset is
// BAD_USER_INPUT, a refused input NOT_AN_IMAGE or TOO_LARGE, anything else
// INTERNAL). The transforms error stays the cause, for the log. Other errors
// pass unchanged.
func clientError(err error) error {
	var te *transforms.Error
	if !errors.As(err, &te) {
		return err
	}
	return &apperr.Error{Code: codeOf(te.Kind), Message: te.Message, Cause: err}
}

func codeOf(k transforms.Kind) string {
	switch k {
	case transforms.KindBadPreset:
		return apperr.BadUserInput
	case transforms.KindNotAnImage:
		return apperr.NotAnImage
	case transforms.KindTooLarge:
		return apperr.TooLarge
	}
	return apperr.Internal
}
