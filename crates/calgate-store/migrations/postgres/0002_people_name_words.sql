-- Word-prefix search over the watch list without scanning it: every word of every display name,
-- so "ros" finds "Anna Rossi" through an index. Kept in step by Store::upsert_people; deleting a
-- person deletes their words. (The words are stored folded to lower case, so "C" serves.)
CREATE TABLE people_name_words (
    word  TEXT COLLATE "C" NOT NULL,
    email TEXT COLLATE "C" NOT NULL REFERENCES people (email) ON DELETE CASCADE,
    PRIMARY KEY (word, email)
);
CREATE INDEX people_name_words_by_email ON people_name_words (email);
