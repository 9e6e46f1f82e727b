-- Indexes for keyset listing (files(...) in GraphQL, uploads.Service.List).
--
-- Tag listings: one index in (name, uploaded_at, file_id) order, every column
-- the same direction, serves both tag orderings in both directions: an exact
-- tag (name = ?, then uploaded_at, file_id) and a tag prefix (name, then
-- uploaded_at, then file_id, all descending). The index it replaces had
-- uploaded_at and file_id descending under an ascending name, so a prefix
-- listing (name DESC, uploaded_at DESC, ...) had to sort every row of each tag
-- it met, and a row-value keyset bound could not seek in it.
CREATE INDEX file_tags_keyset ON file_tags (account_id, name, uploaded_at, file_id);

--bun:split

DROP INDEX file_tags_lookup;

--bun:split

-- A page's files are loaded by account_id = ? AND id IN (...). Without
-- statistics SQLite prefers files_account_time (account_id = ?) to 50 primary
-- key lookups and reads every index entry of the account; with this index it
-- seeks (account_id, id) once per file.
CREATE INDEX files_account_id ON files (account_id, id);
