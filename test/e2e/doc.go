// Package e2e holds Satchel's end-to-end tests (its files are all tests):
// Satchel started in-process through app.New on SQLite and on PostgreSQL
// (internal/testdb), over the filestore and over S3 (a bucket on the test
// S3 server, internal/s3test), driven over HTTP by the harness's tus and
// GraphQL clients, a real tus client (tusgo) and whole-API scenario
// tables; and the real binary, built once per run with its crash-test
// faults (the build tag satchelfault), for the tests that kill it. The harness is in the
// harness_*_test.go files; the other files hold the tests, one concept
// each. The command's own tests (subcommands, flags, output) are beside it,
// in the module root's cli_test.go.
package e2e
