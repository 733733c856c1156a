-- Credentials that can be cut off, and abuse limits shared by every process.

-- Sessions slide: use moves `expires_at` on, never past `created_at` plus the cap.
-- A session from before this migration counts as created 12 hours before its end.
ALTER TABLE sessions ADD COLUMN created_at REAL;
UPDATE sessions SET created_at = expires_at - 43200 WHERE created_at IS NULL;
CREATE INDEX sessions_by_user ON sessions (user_id);

-- API tokens get an id to list and revoke them by, a name and an optional end.
-- An explicit key (VACUUM may renumber an implicit rowid), never reused (AUTOINCREMENT).
CREATE TABLE api_tokens_v2 (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_digest TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    expires_at   REAL
);
INSERT INTO api_tokens_v2 (token_digest, user_id, created_at)
    SELECT token_digest, user_id, created_at FROM api_tokens ORDER BY rowid;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_v2 RENAME TO api_tokens;
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

-- Fixed-window counters: `hits` against `key` until `window_ends` (epoch seconds).
CREATE TABLE rate_limits (
    key         TEXT PRIMARY KEY,
    hits        INTEGER NOT NULL,
    window_ends REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX rate_limits_by_end ON rate_limits (window_ends);
