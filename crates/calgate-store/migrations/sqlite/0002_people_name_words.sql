-- Word-prefix search over the watch list without scanning it: every word of every display name,
-- so "ros" finds "Anna Rossi" through an index. Kept in step by Store::upsert_people; deleting a
-- person deletes their words.
CREATE TABLE people_name_words (
    word  TEXT NOT NULL COLLATE NOCASE,
    email TEXT NOT NULL COLLATE NOCASE REFERENCES people (email) ON DELETE CASCADE,
    PRIMARY KEY (word, email)
) STRICT, WITHOUT ROWID;
CREATE INDEX people_name_words_by_email ON people_name_words (email);
