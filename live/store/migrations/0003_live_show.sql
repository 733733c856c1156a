-- The live show: a countdown to a closing time the store enforces on every vote, and the
-- organiser's choice to show the full result once every winning place is revealed.

ALTER TABLE polls ADD COLUMN closes_at_ms INTEGER;
ALTER TABLE polls ADD COLUMN show_results INTEGER NOT NULL DEFAULT 0;
