// Package models holds Satchel's bun models, one type per table, and the
// queries on them. Every query takes a bun.IDB so it composes inside RunInTx,
// and every query on account data takes the account ID: nothing here reads
// across accounts.
package models

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ErrNotFound is returned when a row does not exist (or is another account's).
var ErrNotFound = errors.New("not found")

// Micros converts a time to the stored integer form.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// Time converts a stored integer back to a UTC time.
func Time(us int64) time.Time { return time.UnixMicro(us).UTC() }

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

type ctx = context.Context
