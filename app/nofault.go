//go:build !satchelfault

package app

import "satchel/internal/uploads"

// installFaults does nothing: the crash tests' faults are built only with
// the tag satchelfault (see fault.go).
func installFaults(*uploads.Service) {}
