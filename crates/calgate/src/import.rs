//! The watch-list import: CSV as spreadsheets write it (RFC 4180 through the `csv` crate:
//! quoted fields with separators, quotes and line breaks inside), UTF-8 with or without a byte
//! order mark, `,`, `;` or tab as the separator, and an optional header row naming the columns
//! in any order. Without a header the columns are email, name, extension.
//!
//! Pure: the API (`POST /api/v1/people/import`) and the Watch list page both read through
//! [`read`] and word the row problems themselves from [`RowProblem`].

use std::collections::HashSet;

use crate::view::looks_like_email;

/// Rows read at most; the rest is one problem.
pub const MAX_ROWS: usize = 200_000;

/// The longest name and extension the watch list keeps (in characters).
const MAX_NAME: usize = 256;
const MAX_EXTENSION: usize = 32;

/// What is wrong with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowProblem {
    /// The email cell is not an address.
    NotAnEmail,
    /// More cells than the known columns, with text in them.
    TooManyColumns,
    /// The extension has blanks inside.
    ExtensionSpaces,
    /// The name or extension is longer than the watch list keeps, or holds control
    /// characters.
    TooLong,
    /// The address was on an earlier row.
    Duplicate,
    /// The CSV itself cannot be read here (an unclosed quote, bytes that are not UTF-8).
    Malformed,
    /// Past [`MAX_ROWS`].
    TooManyRows,
}

impl RowProblem {
    /// The stable code the API answers.
    pub fn code(self) -> &'static str {
        match self {
            RowProblem::NotAnEmail => "not_an_email",
            RowProblem::TooManyColumns => "too_many_columns",
            RowProblem::ExtensionSpaces => "extension_has_spaces",
            RowProblem::TooLong => "value_too_long",
            RowProblem::Duplicate => "duplicate_email",
            RowProblem::Malformed => "malformed_csv",
            RowProblem::TooManyRows => "too_many_rows",
        }
    }

    /// The catalogue key of its words.
    pub fn message_key(self) -> &'static str {
        match self {
            RowProblem::NotAnEmail => "n-import-not-email",
            RowProblem::TooManyColumns => "n-import-columns",
            RowProblem::ExtensionSpaces => "n-import-ext-spaces",
            RowProblem::TooLong => "n-import-too-long",
            RowProblem::Duplicate => "n-import-twice",
            RowProblem::Malformed => "n-import-malformed",
            RowProblem::TooManyRows => "n-import-too-many",
        }
    }
}

/// One row of the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The line the row starts on (1 is the first line of the file).
    pub line: usize,
    pub email: String,
    pub name: String,
    pub extension: String,
    pub problem: Option<RowProblem>,
}

/// Which cell holds what.
#[derive(Debug, Clone, Copy)]
struct Columns {
    email: usize,
    name: Option<usize>,
    extension: Option<usize>,
    /// Cells counted as known: more than this with text is a problem (headerless files only;
    /// a header's other columns are ignored).
    known: Option<usize>,
}

const POSITIONAL: Columns = Columns {
    email: 0,
    name: Some(1),
    extension: Some(2),
    known: Some(3),
};

/// The column a header cell names, if any.
fn header_role(cell: &str) -> Option<&'static str> {
    let c: String = cell
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    match c.as_str() {
        "email" | "mail" | "emailaddress" | "smtp" | "smtpaddress" | "primarysmtpaddress" => {
            Some("email")
        }
        "name" | "displayname" | "fullname" => Some("name"),
        "extension" | "ext" | "phone" | "telephone" | "telephonenumber" | "ipphone" => {
            Some("extension")
        }
        _ => None,
    }
}

/// The separator of a file: whichever of `,`, `;` and tab its first line holds most of,
/// outside quotes (a comma by default).
fn separator(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in first.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|(s, _)| *s == b) {
            c.1 += 1;
        }
    }
    counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n > 0)
        .map_or(b',', |(s, _)| *s)
}

/// Reads an import. Blank rows are skipped; every other row is answered, with its problem.
pub fn read(text: &str) -> Vec<Row> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator(text))
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut columns: Option<Columns> = None;
    let mut seen = HashSet::new();
    let mut record = csv::StringRecord::new();
    // The reader's own line count skips blank lines; lines are counted here from byte offsets.
    let newlines: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
        .collect();
    // A record's position may point at the line break before it: the record starts at the
    // first byte after the breaks.
    let bytes = text.as_bytes();
    let line_at = |byte: u64| {
        let mut byte = usize::try_from(byte).unwrap_or(usize::MAX);
        while bytes.get(byte).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            byte += 1;
        }
        1 + newlines.partition_point(|n| *n < byte)
    };
    loop {
        let before = line_at(reader.position().byte());
        let read = reader.read_record(&mut record);
        let line = record.position().map_or(before, |p| line_at(p.byte()));
        match read {
            Ok(false) => break,
            Ok(true) => {}
            Err(_) => {
                rows.push(Row {
                    line,
                    email: String::new(),
                    name: String::new(),
                    extension: String::new(),
                    problem: Some(RowProblem::Malformed),
                });
                // A broken quote swallows the rest; nothing after it can be trusted.
                break;
            }
        }
        if record.iter().all(str::is_empty) {
            continue;
        }
        let cols = match columns {
            Some(c) => c,
            None => {
                // The first row: a header when a cell names the email column.
                let roles: Vec<Option<&str>> = record.iter().map(header_role).collect();
                if let Some(email) = roles.iter().position(|r| *r == Some("email")) {
                    columns = Some(Columns {
                        email,
                        name: roles.iter().position(|r| *r == Some("name")),
                        extension: roles.iter().position(|r| *r == Some("extension")),
                        known: None,
                    });
                    continue;
                }
                columns = Some(POSITIONAL);
                POSITIONAL
            }
        };
        if rows.len() >= MAX_ROWS {
            rows.push(Row {
                line,
                email: String::new(),
                name: String::new(),
                extension: String::new(),
                problem: Some(RowProblem::TooManyRows),
            });
            break;
        }
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").to_string();
        let email = cell(Some(cols.email)).to_lowercase();
        let name = cell(cols.name);
        let extension = cell(cols.extension);
        let extra = cols
            .known
            .is_some_and(|known| record.iter().skip(known).any(|c| !c.is_empty()));
        let problem = if !looks_like_email(&email) {
            Some(RowProblem::NotAnEmail)
        } else if extra {
            Some(RowProblem::TooManyColumns)
        } else if extension.chars().any(char::is_whitespace) {
            Some(RowProblem::ExtensionSpaces)
        } else if name.chars().count() > MAX_NAME
            || extension.chars().count() > MAX_EXTENSION
            || name.chars().any(|c| c.is_control() && c != '\n')
        {
            Some(RowProblem::TooLong)
        } else if !seen.insert(email.clone()) {
            Some(RowProblem::Duplicate)
        } else {
            None
        };
        rows.push(Row {
            line,
            email,
            name,
            extension,
            problem,
        });
    }
    // A quote opened and never closed runs to the end of the file (the reader takes it as
    // one long cell): the row it started in is not what the file meant.
    if text.bytes().filter(|b| *b == b'"').count() % 2 == 1
        && let Some(last) = rows.last_mut()
    {
        last.problem = Some(RowProblem::Malformed);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(rows: &[Row]) -> Vec<(&str, &str, &str)> {
        rows.iter()
            .filter(|r| r.problem.is_none())
            .map(|r| (r.email.as_str(), r.name.as_str(), r.extension.as_str()))
            .collect()
    }

    #[test]
    fn quoted_names_bom_semicolons_and_headers_in_any_order() {
        let text = "\u{feff}Extension;Display Name;E-mail\r\n\
                    2001;\"Rossi; Anna\";anna.rossi@contoso.com\r\n\
                    ;\"Lee, \"\"Ann\"\"\";ANN.LEE@contoso.com\r\n\
                    \r\n\
                    2003;\"Multi\nLine\";m@contoso.com\r\n";
        let rows = read(text);
        assert_eq!(
            valid(&rows),
            vec![
                ("anna.rossi@contoso.com", "Rossi; Anna", "2001"),
                ("ann.lee@contoso.com", "Lee, \"Ann\"", ""),
                ("m@contoso.com", "Multi\nLine", "2003"),
            ]
        );
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[2].line, 5);
    }

    #[test]
    fn without_a_header_the_columns_are_email_name_extension() {
        let long = "x".repeat(300);
        let rows = read(&format!(
            "a@x.com,\"Doe, Jane\",12\nnot-an-email,Bob\nb@x.com,B,1 2\na@x.com\n\
             c@x.com,C,3,surplus\nd@x.com,{long}\n"
        ));
        let problems: Vec<(usize, Option<RowProblem>)> =
            rows.iter().map(|r| (r.line, r.problem)).collect();
        assert_eq!(
            problems,
            vec![
                (1, None),
                (2, Some(RowProblem::NotAnEmail)),
                (3, Some(RowProblem::ExtensionSpaces)),
                (4, Some(RowProblem::Duplicate)),
                (5, Some(RowProblem::TooManyColumns)),
                (6, Some(RowProblem::TooLong)),
            ]
        );
        assert_eq!(rows[0].name, "Doe, Jane");
    }

    #[test]
    fn tabs_and_a_broken_quote() {
        let rows = read("email\tname\na@x.com\tA\nb@x.com\tB\n");
        assert_eq!(
            valid(&rows),
            vec![("a@x.com", "A", ""), ("b@x.com", "B", "")]
        );
        let rows = read("a@x.com,\"unclosed\nb@x.com,B\n");
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].problem, Some(RowProblem::Malformed));
    }

    #[test]
    fn nonsense_gives_problems_not_panics() {
        for text in ["", "\u{feff}", ",,,,\n;;;;", "\"", "email\n", "\0\0\0"] {
            let rows = read(text);
            assert!(
                rows.iter().all(|r| r.problem.is_some()),
                "{text:?}: {rows:?}"
            );
        }
    }
}
