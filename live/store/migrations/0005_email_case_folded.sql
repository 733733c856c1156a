-- E-mail addresses compare case-folded, as on Redis: SQLite's NOCASE folds only ASCII
-- letters, so ÆRLIG@… and ærlig@… were two accounts. `casefold()` is Python's
-- str.casefold, registered on the connection that migrates.

ALTER TABLE users ADD COLUMN email_key TEXT;
UPDATE users SET email_key = casefold(email);
-- Two accounts made before this that fold to one address: the first keeps the address,
-- the later one stays reachable only by id (its key gets a suffix no address has).
UPDATE users SET email_key = email_key || ' #' || id
    WHERE id > (SELECT MIN(other.id) FROM users other WHERE other.email_key = users.email_key);
CREATE UNIQUE INDEX users_by_email_key ON users (email_key);
