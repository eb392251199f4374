-- On SQLite this asks the store to make the name words again, folded, at its next open. No
-- PostgreSQL database predates folded words, so there is nothing to make again here: this
-- migration only keeps the version numbers of the two schemas alike.
SELECT 1;
