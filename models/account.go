package models

import (
	"github.com/uptrace/bun"
)

// Account owns files, uploads and keys.
type Account struct {
	bun.BaseModel `bun:"table:accounts"`

	ID        string `bun:"id,pk"`
	Name      string `bun:"name,notnull"`
	CreatedAt int64  `bun:"created_at,notnull"`
	// BytesUsed is the total size of the account's files, kept in step by
	// the transactions that commit and delete them.
	BytesUsed int64 `bun:"bytes_used,notnull"`
	// StorageQuota bounds BytesUsed: nil means the server's default, 0 none.
	StorageQuota *int64 `bun:"storage_quota"`
}

// InsertAccount inserts a.
func InsertAccount(c ctx, db bun.IDB, a *Account) error {
	_, err := db.NewInsert().Model(a).Exec(c)
	return err
}

// GetAccount loads one account.
func GetAccount(c ctx, db bun.IDB, id string) (*Account, error) {
	a := new(Account)
	err := db.NewSelect().Model(a).Where("id = ?", id).Scan(c)
	return a, notFound(err)
}

// CountAccounts counts all accounts (used to detect an empty database).
func CountAccounts(c ctx, db bun.IDB) (int64, error) {
	return db.NewSelect().Model((*Account)(nil)).Count(c)
}

// SetStorageQuota sets the account's quota (nil: the server's default).
func SetStorageQuota(c ctx, db bun.IDB, id string, quota *int64) error {
	res, err := db.NewUpdate().Model((*Account)(nil)).Set("storage_quota = ?", quota).Where("id = ?", id).Exec(c)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	return nil
}

// ChargeStorage adds bytes to the account's usage if the result stays within
// its quota (defaultQuota when the account has none of its own; 0 means no
// quota). It reports false, changing nothing, when it would not.
func ChargeStorage(c ctx, db bun.IDB, id string, bytes, defaultQuota int64) (bool, error) {
	res, err := db.NewUpdate().Model((*Account)(nil)).
		Set("bytes_used = bytes_used + ?", bytes).
		Where("id = ?", id).
		Where("(COALESCE(storage_quota, ?) = 0 OR bytes_used + ? <= COALESCE(storage_quota, ?))", defaultQuota, bytes, defaultQuota).
		Exec(c)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseStorage takes bytes off the account's usage.
func ReleaseStorage(c ctx, db bun.IDB, id string, bytes int64) error {
	_, err := db.NewUpdate().Model((*Account)(nil)).Set("bytes_used = bytes_used - ?", bytes).Where("id = ?", id).Exec(c)
	return err
}
