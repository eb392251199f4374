//! Automatic-reply text as a person reads it. Exchange and Graph hand out the reply as HTML
//! (`<p>Back on Monday &amp; …</p>`); operators must see words, not markup.
//!
//! Written by hand rather than with an HTML-to-text crate: an automatic reply is a few
//! paragraphs, and what is needed (drop tags, keep paragraph and line breaks, decode entities)
//! is a short bounded scan; the crates that do more pull a whole HTML parser in.

/// The longest reply kept, in characters (a reply is a few lines; the rest is cut with "…").
pub const MAX_REPLY_CHARS: usize = 4_000;

/// `html` as plain text: tags dropped (and what `<style>`, `<script>`, `<head>` and comments
/// hold), paragraphs apart by an empty line, `<br>` as a line break, entities decoded, runs of blanks collapsed as a
/// browser would, at most one empty line in a row. Text without markup keeps its own line breaks.
pub fn plain_text(html: &str) -> String {
    let text = if looks_like_html(html) {
        strip(html)
    } else {
        decode_entities(html)
    };
    tidy(&text)
}

fn looks_like_html(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
}

/// Tags whose content is not text.
const HIDDEN: [&str; 4] = ["style", "script", "head", "title"];

/// Tags that end a line.
const BREAKS: [&str; 14] = [
    "br",
    "p",
    "div",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "ul",
    "table",
];

fn strip(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut text = String::new();
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let Some(gt) = rest.find('>') else {
            // A `<` that opens no tag is text.
            text.push_str(rest);
            rest = "";
            break;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if !closing && HIDDEN.contains(&name.as_str()) {
            let end = format!("</{name}");
            let lower = rest.to_ascii_lowercase();
            rest = match lower.find(&end) {
                Some(at) => rest[at..].find('>').map_or("", |gt| &rest[at + gt + 1..]),
                None => "",
            };
            continue;
        }
        if BREAKS.contains(&name.as_str()) {
            out.push_str(&collapse(&decode_entities(&text)));
            text.clear();
            out.push('\n');
        }
    }
    text.push_str(rest);
    out.push_str(&collapse(&decode_entities(&text)));
    out
}

/// Runs of blanks (spaces, tabs, line breaks of the source) become one space, as a browser
/// shows them; non-breaking spaces stay.
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = false;
    for c in s.chars() {
        if c.is_whitespace() && c != '\u{a0}' {
            blank = true;
        } else {
            if blank {
                out.push(' ');
            }
            blank = false;
            out.push(c);
        }
    }
    if blank {
        out.push(' ');
    }
    out
}

/// Lines trimmed, non-breaking spaces as spaces, at most one empty line in a row, no empty
/// lines at the ends, cut at [`MAX_REPLY_CHARS`].
fn tidy(s: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in s.lines() {
        let line = line.replace('\u{a0}', " ");
        let line = line.trim();
        if line.is_empty() && lines.last().is_none_or(String::is_empty) {
            continue;
        }
        lines.push(line.to_string());
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    let text = lines.join("\n");
    if text.chars().count() > MAX_REPLY_CHARS {
        let mut cut: String = text.chars().take(MAX_REPLY_CHARS).collect();
        cut.push('…');
        cut
    } else {
        text
    }
}

/// `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&nbsp;`, numeric references and the named
/// letters Western European replies use; anything else is left as written.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest
            .char_indices()
            .take(12)
            .find(|&(_, c)| c == ';')
            .map(|(i, _)| i);
        let decoded = end.and_then(|end| entity(&rest[1..end]).map(|c| (c, end)));
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| !c.is_control() || *c == '\n' || *c == '\t');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        "laquo" => '«',
        "raquo" => '»',
        "euro" => '€',
        "szlig" => 'ß',
        _ => return accented(name),
    })
}

/// `&eacute;`, `&Uuml;`, `&ccedil;`, `&ntilde;`…: a base letter and an accent name.
fn accented(name: &str) -> Option<char> {
    let mut chars = name.chars();
    let base = chars.next()?;
    let accent = chars.as_str();
    let table: &[(char, [char; 5])] = &[
        // base: grave, acute, circ, uml, tilde
        ('a', ['à', 'á', 'â', 'ä', 'ã']),
        ('e', ['è', 'é', 'ê', 'ë', 'e']),
        ('i', ['ì', 'í', 'î', 'ï', 'i']),
        ('o', ['ò', 'ó', 'ô', 'ö', 'õ']),
        ('u', ['ù', 'ú', 'û', 'ü', 'u']),
        ('n', ['n', 'n', 'n', 'n', 'ñ']),
        ('A', ['À', 'Á', 'Â', 'Ä', 'Ã']),
        ('E', ['È', 'É', 'Ê', 'Ë', 'E']),
        ('I', ['Ì', 'Í', 'Î', 'Ï', 'I']),
        ('O', ['Ò', 'Ó', 'Ô', 'Ö', 'Õ']),
        ('U', ['Ù', 'Ú', 'Û', 'Ü', 'U']),
        ('N', ['N', 'N', 'N', 'N', 'Ñ']),
    ];
    match accent {
        "cedil" => match base {
            'c' => Some('ç'),
            'C' => Some('Ç'),
            _ => None,
        },
        "grave" | "acute" | "circ" | "uml" | "tilde" => {
            let at = ["grave", "acute", "circ", "uml", "tilde"]
                .iter()
                .position(|a| *a == accent)?;
            let letters = table.iter().find(|(b, _)| *b == base)?.1;
            let c = letters[at];
            (c != base).then_some(c)
        }
        _ => None,
    }
}

/// The shape every watched address must have: one `@`, something on both sides, a dot in the
/// domain, at most 320 bytes, no spaces or control characters. The API, the import and the
/// directory readers all check addresses with it.
pub fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && s.len() <= 320
        && s.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_reply_reads_as_paragraphs_of_text() {
        let html = "<html><head><style>p{margin:0}</style></head><body>\
            <p>I&#39;m attending a conference &amp; will reply\n   on my return.</p>\
            <p>For urgent matters call Anna&nbsp;Rossi (ext.&nbsp;2041).<br>Grazie &ndash; \
            M&uuml;ller</p><!-- a comment <p>hidden</p> --><div></div></body></html>";
        assert_eq!(
            plain_text(html),
            "I'm attending a conference & will reply on my return.\n\n\
             For urgent matters call Anna Rossi (ext. 2041).\n\
             Grazie – Müller"
        );
    }

    #[test]
    fn plain_text_keeps_its_lines_and_odd_input_stays_text() {
        assert_eq!(
            plain_text("Back Monday.\nCall 2041 & ask"),
            "Back Monday.\nCall 2041 & ask"
        );
        assert_eq!(plain_text("a < b and c > d"), "a < b and c > d");
        assert_eq!(plain_text("<p>unclosed <b"), "unclosed <b");
        assert_eq!(
            plain_text("&bogus; &#xZZ; &#1114112; &#7; &"),
            "&bogus; &#xZZ; &#1114112; &#7; &"
        );
        assert_eq!(plain_text("<script>alert(1)</script>hi"), "hi");
        assert_eq!(plain_text("<SCRIPT>x"), "");
        assert_eq!(plain_text(""), "");
        assert_eq!(
            plain_text("&Eacute;t&eacute; &ccedil;a &ntilde; &Auml;"),
            "Été ça ñ Ä"
        );
    }

    #[test]
    fn a_huge_reply_is_cut() {
        let long = "<p>".to_string() + &"word ".repeat(5_000) + "</p>";
        let text = plain_text(&long);
        assert_eq!(text.chars().count(), MAX_REPLY_CHARS + 1);
        assert!(text.ends_with('…'));
    }
}
