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
