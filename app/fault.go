//go:build satchelfault

package app

import (
	"os"
	"syscall"

	"satchel/internal/uploads"
)

// installFaults arms the crash tests' fault (built only with the tag
// satchelfault): SATCHEL_FAULT=finish-before-commit kills the process between
// an upload's last byte and the commit of its File.
func installFaults(svc *uploads.Service) {
	if os.Getenv("SATCHEL_FAULT") == "finish-before-commit" {
		svc.BeforeCommit = func(string) { syscall.Kill(os.Getpid(), syscall.SIGKILL); select {} }
	}
}
