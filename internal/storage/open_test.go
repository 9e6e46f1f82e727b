package storage

import (
	"testing"

	"github.com/tus/tusd/v2/pkg/memorylocker"
)

func TestOpenChoosesTheStoreAndItsLocker(t *testing.T) {
	if _, err := Open(Config{Kind: "s3://bucket", Dir: t.TempDir()}); err == nil {
		t.Fatal("an unknown store was opened")
	}
	s, err := Open(Config{Kind: "file", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if s.Composer().Locker == nil {
		t.Fatal("no locker by default")
	}
	mine := memorylocker.New()
	s, err = Open(Config{Kind: "file", Dir: t.TempDir(), Locker: mine})
	if err != nil {
		t.Fatal(err)
	}
	if s.Composer().Locker != mine {
		t.Fatal("the configured locker is not the store's")
	}
}
