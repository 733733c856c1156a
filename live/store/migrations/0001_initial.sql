-- The finale vote: accounts, polls, finalists, ballots and locked results.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT NOT NULL,
    password_hash TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    token_digest TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    expires_at   REAL NOT NULL
);

CREATE TABLE api_tokens (
    token_digest TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL
);

CREATE TABLE polls (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    method      TEXT NOT NULL CHECK (method IN ('single', 'ranked')),
    winners     INTEGER NOT NULL CHECK (winners >= 1),
    status      TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed')),
    hide_counts INTEGER NOT NULL DEFAULT 0,
    revealed    INTEGER NOT NULL DEFAULT 0,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    opened_at   TEXT,
    closed_at   TEXT
);

CREATE TABLE finalists (
    id       INTEGER PRIMARY KEY,
    poll_id  INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    pitch    TEXT NOT NULL DEFAULT '',
    owner    TEXT NOT NULL DEFAULT '',
    UNIQUE (poll_id, position)
);

-- One row per (poll, voter): the primary key is the one-ballot-per-token rule.
-- `choices` is the ordered finalist ids joined by commas; `token_kind` and `receipt`
-- leave room for badge tokens and public receipts.
CREATE TABLE ballots (
    poll_id    INTEGER NOT NULL REFERENCES polls (id),
    voter_id   TEXT NOT NULL,
    token_kind TEXT NOT NULL DEFAULT 'device',
    choices    TEXT NOT NULL,
    receipt    TEXT,
    sent_at    INTEGER,
    revision   INTEGER NOT NULL DEFAULT 1,
    cast_at    TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (poll_id, voter_id)
) WITHOUT ROWID;

CREATE INDEX ballots_by_choices ON ballots (poll_id, choices);

-- Frozen at close; the triggers make the lock hold even against a stray UPDATE.
CREATE TABLE results (
    poll_id   INTEGER PRIMARY KEY REFERENCES polls (id),
    counts    TEXT NOT NULL,
    locked_at TEXT NOT NULL
);

CREATE TRIGGER results_are_locked BEFORE UPDATE ON results
BEGIN
    SELECT RAISE(ABORT, 'locked results never change');
END;

CREATE TRIGGER results_are_kept BEFORE DELETE ON results
BEGIN
    SELECT RAISE(ABORT, 'locked results never change');
END;

CREATE TABLE tie_resolutions (
    poll_id    INTEGER NOT NULL REFERENCES polls (id),
    tie_key    TEXT NOT NULL,
    finalists  TEXT NOT NULL,
    rule       TEXT NOT NULL CHECK (rule IN ('lots', 'decision')),
    seed       TEXT,
    note       TEXT NOT NULL DEFAULT '',
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    PRIMARY KEY (poll_id, tie_key)
);

CREATE TRIGGER tie_resolutions_are_kept BEFORE UPDATE ON tie_resolutions
BEGIN
    SELECT RAISE(ABORT, 'tie resolutions never change');
END;
