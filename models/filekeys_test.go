package models_test

import (
	"fmt"
	"slices"
	"testing"

	"satchel/internal/testdb"
	"satchel/models"
)

// ListFileKeys, on both backends: every ordering, both directions, with and
// without the position itself. (The statements' text is pinned by
// internal/uploads' TestListSQL.)
func TestListFileKeys(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := t.Context()
		bdb, _, acct := open(t, b)
		// Files 0..5, uploaded in that order; file 5 is another account's.
		other := "ModelsAccount000000002"
		if err := models.InsertAccount(ctx, bdb, &models.Account{ID: other, Name: "b", CreatedAt: 1}); err != nil {
			t.Fatal(err)
		}
		tags := [][]models.Tag{
			{{Name: "a", Searchable: true}},
			{{Name: "ab", Searchable: true}, {Name: "ax", Searchable: false}},
			{{Name: "a", Searchable: true}, {Name: "ab", Searchable: true}},
			{{Name: "b", Searchable: true}},
			{{Name: "ab", Searchable: true}, {Name: "abc", Searchable: true}},
			{{Name: "a", Searchable: true}},
		}
		id := func(i int) string { return fmt.Sprintf("ModelsFile%012d", i) }
		var files []*models.File
		for i, tg := range tags {
			a := acct
			if i == 5 {
				a = other
			}
			files = append(files, &models.File{ID: id(i), AccountID: a, Name: "f", Mime: "text/plain", Tags: tg, UploadedAt: int64(100 + i)})
		}
		if err := models.InsertFiles(ctx, bdb, files); err != nil {
			t.Fatal(err)
		}
		key := func(i int, tag string) *models.FileKey {
			return &models.FileKey{FileID: id(i), Tag: tag, UploadedAt: int64(100 + i)}
		}
		cases := []struct {
			name string
			q    models.FileKeysQuery
			want []models.FileKey
		}{
			{"all", models.FileKeysQuery{Order: models.ByUploadTime, Limit: 10},
				[]models.FileKey{*key(4, ""), *key(3, ""), *key(2, ""), *key(1, ""), *key(0, "")}},
			{"all, limited", models.FileKeysQuery{Order: models.ByUploadTime, Limit: 2},
				[]models.FileKey{*key(4, ""), *key(3, "")}},
			{"all after 3", models.FileKeysQuery{Order: models.ByUploadTime, From: key(3, ""), Limit: 10},
				[]models.FileKey{*key(2, ""), *key(1, ""), *key(0, "")}},
			{"all from 3, reversed, inclusive", models.FileKeysQuery{Order: models.ByUploadTime, From: key(3, ""), Reverse: true, Inclusive: true, Limit: 10},
				[]models.FileKey{*key(3, ""), *key(4, "")}},
			{"tag a", models.FileKeysQuery{Order: models.ByTag, Tag: "a", Limit: 10},
				[]models.FileKey{*key(2, "a"), *key(0, "a")}},
			{"tag ax is not searchable", models.FileKeysQuery{Order: models.ByTag, Tag: "ax", Limit: 10}, nil},
			{"tag ab, reversed", models.FileKeysQuery{Order: models.ByTag, Tag: "ab", Reverse: true, Limit: 10},
				[]models.FileKey{*key(1, "ab"), *key(2, "ab"), *key(4, "ab")}},
			{"prefix a: each file once, by its greatest tag", models.FileKeysQuery{Order: models.ByTagPrefix, Tag: "a", Limit: 10},
				[]models.FileKey{*key(4, "abc"), *key(2, "ab"), *key(1, "ab"), *key(0, "a")}},
			{"prefix a after 2", models.FileKeysQuery{Order: models.ByTagPrefix, Tag: "a", From: key(2, "ab"), Limit: 10},
				[]models.FileKey{*key(1, "ab"), *key(0, "a")}},
			{"prefix a from 1, reversed, inclusive", models.FileKeysQuery{Order: models.ByTagPrefix, Tag: "a", From: key(1, "ab"), Reverse: true, Inclusive: true, Limit: 10},
				[]models.FileKey{*key(1, "ab"), *key(2, "ab"), *key(4, "abc")}},
			{"prefix \"\": every tagged file", models.FileKeysQuery{Order: models.ByTagPrefix, Limit: 10},
				[]models.FileKey{*key(3, "b"), *key(4, "abc"), *key(2, "ab"), *key(1, "ab"), *key(0, "a")}},
		}
		for _, c := range cases {
			c.q.AccountID = acct
			got, err := models.ListFileKeys(ctx, bdb, c.q)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s:\n got %v\nwant %v", c.name, got, c.want)
			}
		}
	})
}
