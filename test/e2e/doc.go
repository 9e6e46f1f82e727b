// Package e2e holds Satchel's end-to-end tests (its files are all tests):
// Satchel started in-process through app.New on SQLite and on PostgreSQL,
// driven over HTTP by tus and GraphQL clients, and the real binary, built
// with its crash-test faults, for the tests that kill it.
package e2e
