-- The stages before the finale: coordinators bound to a network, contest records kept as
-- versioned JSON (compare-and-set), an append-only audit log and named sequences.

ALTER TABLE users ADD COLUMN network_id TEXT;

-- One row per record; `version` starts at 1 and rises by one on every write.
CREATE TABLE records (
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    data       TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;

-- `before` and `after` are JSON text, NULL for none. Entries are never changed.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    before  TEXT,
    after   TEXT
);

CREATE TRIGGER audit_is_kept BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit entries never change');
END;

CREATE TRIGGER audit_is_not_deleted BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit entries never change');
END;

CREATE TABLE sequences (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
