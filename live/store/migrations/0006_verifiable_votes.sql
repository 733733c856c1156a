-- One person, one vote, and a count anyone can check: approval voting, who may vote,
-- the announced tie rule, badges, receipts, flagged ballots and exclusion decisions.

-- `polls` is rebuilt to widen its method CHECK (SQLite cannot alter a CHECK); the
-- migration runs with foreign keys off and checks them before it commits.
CREATE TABLE polls_v6 (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    method          TEXT NOT NULL CHECK (method IN ('single', 'ranked', 'approval')),
    winners         INTEGER NOT NULL CHECK (winners >= 1),
    status          TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed')),
    hide_counts     INTEGER NOT NULL DEFAULT 0,
    revealed        INTEGER NOT NULL DEFAULT 0,
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    opened_at       TEXT,
    closed_at       TEXT,
    closes_at_ms    INTEGER,
    show_results    INTEGER NOT NULL DEFAULT 0,
    eligibility     TEXT NOT NULL DEFAULT 'open' CHECK (eligibility IN ('open', 'badge')),
    max_choices     INTEGER,
    tie_rule        TEXT NOT NULL DEFAULT 'lots' CHECK (tie_rule IN ('lots', 'decision')),
    expected_voters INTEGER
);
INSERT INTO polls_v6 (id, code, title, method, winners, status, hide_counts, revealed, version,
                      created_at, opened_at, closed_at, closes_at_ms, show_results)
    SELECT id, code, title, method, winners, status, hide_counts, revealed, version,
           created_at, opened_at, closed_at, closes_at_ms, show_results FROM polls;
DROP TABLE polls;
ALTER TABLE polls_v6 RENAME TO polls;

-- A ballot keeps whether its voter token was flagged (issued while its address took
-- tokens faster than a hall does) and the exclusion decision that took it out, if any.
ALTER TABLE ballots ADD COLUMN flagged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ballots ADD COLUMN excluded_by INTEGER;
CREATE UNIQUE INDEX ballots_by_receipt ON ballots (poll_id, receipt) WHERE receipt IS NOT NULL;

-- One-time badges: a code is unique across every poll, so a badge for another poll is
-- recognised as such.
CREATE TABLE badges (
    code       TEXT PRIMARY KEY,
    poll_id    INTEGER NOT NULL REFERENCES polls (id),
    position   INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX badges_by_poll ON badges (poll_id, position);

CREATE TABLE exclusions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    poll_id    INTEGER NOT NULL REFERENCES polls (id),
    note       TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    ballots    INTEGER NOT NULL
);

CREATE TRIGGER exclusions_are_kept BEFORE UPDATE ON exclusions
BEGIN
    SELECT RAISE(ABORT, 'exclusion decisions never change');
END;
