//! A hardened, namespace-aware pull cursor over a response body: the only place that touches
//! quick-xml when reading.
//!
//! Elements are identified by namespace URI and local name, never by prefix. Prefixes are
//! resolved here, on top of quick-xml's plain `Reader`: declarations are rare in EWS answers, so
//! attributes are only scanned when a tag contains `xmlns`, and each binding maps its URI to
//! [`Ns`] once. (quick-xml's `NsReader` resolves every tag in full and alone costs about 1.8×
//! the tokenizer; see the `parse` benchmark.) The cursor refuses
//! a DOCTYPE (so no entity can be declared, let alone expanded), bodies over
//! [`MAX_BODY_BYTES`], nesting deeper than [`MAX_DEPTH`], and anything that is not well-formed
//! UTF-8 XML; it never panics on input. Unknown elements are skipped, text between elements
//! is ignored: leniency lives here so the readers stay short.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::error::EwsError;
use crate::ns;

/// The largest body a reader accepts (a 100-mailbox Detailed answer over two days is well under
/// 2 MiB).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// The deepest element nesting accepted (EWS responses need about 12).
pub const MAX_DEPTH: usize = 64;

/// The namespaces the readers care about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ns {
    Soap,
    Messages,
    Types,
    Errors,
    /// No namespace (SOAP fault children such as `faultcode`).
    None,
    Other,
}

impl Ns {
    fn from_uri(uri: &str) -> Ns {
        match uri {
            "" => Ns::None,
            ns::MESSAGES => Ns::Messages,
            ns::TYPES => Ns::Types,
            ns::ERRORS => Ns::Errors,
            // SOAP 1.1, the `https` spelling copied from Microsoft's documentation pages, and
            // SOAP 1.2: all mean "the envelope".
            ns::SOAP_ENV
            | "https://schemas.xmlsoap.org/soap/envelope/"
            | "http://www.w3.org/2003/05/soap-envelope" => Ns::Soap,
            _ => Ns::Other,
        }
    }
}

/// An opened element: namespace plus local name (borrowed from the body).
#[derive(Clone, Copy)]
pub(crate) struct Elem<'a> {
    pub ns: Ns,
    local: &'a str,
}

impl<'a> Elem<'a> {
    pub fn local(&self) -> &'a str {
        self.local
    }

    pub fn is(&self, ns: Ns, local: &str) -> bool {
        self.ns == ns && self.local == local
    }
}

impl std::fmt::Debug for Elem<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}:{}", self.ns, self.local)
    }
}

/// One `xmlns`/`xmlns:p` declaration in scope.
struct Binding {
    prefix: Box<str>,
    ns: Ns,
    /// The depth of the element that declared it; it goes out of scope when that element ends.
    depth: usize,
}

pub(crate) struct Cursor<'a> {
    /// The whole body, to borrow element names from.
    text: &'a str,
    reader: Reader<&'a [u8]>,
    bindings: Vec<Binding>,
    /// Elements opened and not yet closed.
    depth: usize,
    /// The last opened element was `<x/>`: it closes on the next read.
    empty_pending: bool,
    /// The start tag of the last opened element, for attribute look-ups.
    last: Option<BytesStart<'a>>,
}

impl<'a> Cursor<'a> {
    pub fn new(body: &'a [u8]) -> Result<Cursor<'a>, EwsError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(EwsError::BodyTooLarge {
                limit: MAX_BODY_BYTES,
            });
        }
        let text = std::str::from_utf8(body)
            .map_err(|e| EwsError::malformed(format!("body is not UTF-8 ({e})")))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Err(EwsError::malformed("empty body"));
        }
        Ok(Cursor {
            text,
            reader: Reader::from_str(text),
            bindings: Vec::new(),
            depth: 0,
            empty_pending: false,
            last: None,
        })
    }

    #[inline]
    fn next(&mut self) -> Result<Event<'a>, EwsError> {
        let ev = self
            .reader
            .read_event()
            .map_err(|e| EwsError::malformed(format!("not well-formed XML: {e}")))?;
        if matches!(ev, Event::DocType(_)) {
            return Err(EwsError::Doctype);
        }
        Ok(ev)
    }

    /// Records the declarations of an element just opened at `self.depth`.
    #[inline]
    fn declare(&mut self, start: &BytesStart<'a>) -> Result<(), EwsError> {
        if !start.attributes_raw().contains("xmlns") {
            return Ok(());
        }
        for a in start.attributes().with_checks(false).flatten() {
            let key: &str = a.key.as_ref();
            let prefix = if key == "xmlns" {
                ""
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                p
            } else {
                continue;
            };
            let uri = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| EwsError::malformed(format!("bad namespace declaration: {e}")))?;
            if self.bindings.len() >= 4 * MAX_DEPTH {
                return Err(EwsError::malformed("too many namespace declarations"));
            }
            self.bindings.push(Binding {
                prefix: prefix.into(),
                ns: Ns::from_uri(uri.trim()),
                depth: self.depth,
            });
        }
        Ok(())
    }

    /// The namespace and local name of a qualified name under the bindings in scope.
    #[inline]
    fn resolve<'q>(&self, qname: &'q str) -> (Ns, &'q str) {
        let (prefix, local) = match qname.as_bytes().iter().position(|&b| b == b':') {
            Some(i) => (
                qname.get(..i).unwrap_or(""),
                qname.get(i + 1..).unwrap_or(""),
            ),
            None => ("", qname),
        };
        let found = self
            .bindings
            .iter()
            .rev()
            .find(|b| &*b.prefix == prefix)
            .map(|b| b.ns);
        let ns = match (found, prefix) {
            (Some(ns), _) => ns,
            (None, "") => Ns::None,
            (None, _) => Ns::Other,
        };
        (ns, local)
    }

    /// `part` (a slice of an event borrowed from the body) as a slice of the body itself, so it
    /// outlives the event. Computed from addresses, so no `unsafe`; "" if it is not in the body.
    #[inline]
    fn in_body(&self, part: &str) -> &'a str {
        let offset = (part.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        self.text
            .get(offset..offset.wrapping_add(part.len()))
            .unwrap_or("")
    }

    #[inline]
    fn open(&mut self, start: BytesStart<'a>, empty: bool) -> Result<Elem<'a>, EwsError> {
        if self.depth >= MAX_DEPTH {
            return Err(EwsError::TooDeep { limit: MAX_DEPTH });
        }
        self.depth += 1;
        self.empty_pending = empty;
        self.declare(&start)?;
        let elem = {
            let qname = start.name();
            let (ns, local) = self.resolve(qname.as_ref());
            Elem {
                ns,
                local: self.in_body(local),
            }
        };
        self.last = Some(start);
        Ok(elem)
    }

    #[inline]
    fn close(&mut self) -> Result<(), EwsError> {
        self.depth = self
            .depth
            .checked_sub(1)
            .ok_or_else(|| EwsError::malformed("unbalanced end tag"))?;
        while self.bindings.last().is_some_and(|b| b.depth > self.depth) {
            self.bindings.pop();
        }
        Ok(())
    }

    /// The next child element of the current one, or `None` once the current element has ended
    /// (its end tag is consumed). At the top level, `None` means the document ended.
    #[inline]
    pub fn child(&mut self) -> Result<Option<Elem<'a>>, EwsError> {
        if self.empty_pending {
            self.empty_pending = false;
            self.close()?;
            return Ok(None);
        }
        loop {
            match self.next()? {
                Event::Start(e) => return self.open(e, false).map(Some),
                Event::Empty(e) => return self.open(e, true).map(Some),
                Event::End(_) => {
                    self.close()?;
                    return Ok(None);
                }
                Event::Eof if self.depth == 0 => return Ok(None),
                Event::Eof => return Err(EwsError::malformed("body ends inside an element")),
                _ => {}
            }
        }
    }

    /// The text of the current element, entities resolved, with any child elements skipped;
    /// consumes its end tag.
    pub fn text(&mut self) -> Result<String, EwsError> {
        self.text_cow().map(Cow::into_owned)
    }

    /// Like [`Cursor::text`], but borrows from the body in the common case of one plain text
    /// node (no allocation for times, numbers and codes).
    #[inline]
    pub fn text_cow(&mut self) -> Result<Cow<'a, str>, EwsError> {
        if self.empty_pending {
            self.empty_pending = false;
            self.close()?;
            return Ok(Cow::Borrowed(""));
        }
        match self.next()? {
            Event::End(_) => {
                self.close()?;
                Ok(Cow::Borrowed(""))
            }
            Event::Text(t) => {
                let first = t.xml10_content();
                let ev2 = self.next()?;
                if let Event::End(_) = ev2 {
                    self.close()?;
                    return Ok(first);
                }
                let mut out = first.into_owned();
                self.text_rest(&mut out, ev2)?;
                Ok(Cow::Owned(out))
            }
            other => {
                let mut out = String::new();
                self.text_rest(&mut out, other)?;
                Ok(Cow::Owned(out))
            }
        }
    }

    /// Appends `ev` and everything up to the current element's end tag to `out`.
    fn text_rest(&mut self, out: &mut String, ev: Event<'a>) -> Result<(), EwsError> {
        let mut ev = ev;
        loop {
            match ev {
                Event::Text(t) => out.push_str(&t.xml10_content()),
                Event::CData(c) => out.push_str(&c.xml10_content()),
                Event::GeneralRef(r) => {
                    if let Some(ch) = r
                        .resolve_char_ref()
                        .map_err(|e| EwsError::malformed(format!("bad character reference: {e}")))?
                    {
                        out.push(ch);
                    } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&r) {
                        out.push_str(s);
                    } else {
                        return Err(EwsError::malformed("reference to an undeclared entity"));
                    }
                }
                Event::Start(e) => {
                    self.open(e, false)?;
                    self.skip()?;
                }
                Event::End(_) => return self.close(),
                Event::Eof => return Err(EwsError::malformed("body ends inside an element")),
                _ => {}
            }
            ev = self.next()?;
        }
    }

    /// Skips the rest of the current element, end tag included.
    pub fn skip(&mut self) -> Result<(), EwsError> {
        if self.empty_pending {
            self.empty_pending = false;
            return self.close();
        }
        let target = self
            .depth
            .checked_sub(1)
            .ok_or_else(|| EwsError::malformed("skip outside an element"))?;
        loop {
            match self.next()? {
                Event::Start(_) => {
                    if self.depth >= MAX_DEPTH {
                        return Err(EwsError::TooDeep { limit: MAX_DEPTH });
                    }
                    self.depth += 1;
                }
                Event::End(_) => {
                    self.close()?;
                    if self.depth == target {
                        return Ok(());
                    }
                }
                Event::Eof => return Err(EwsError::malformed("body ends inside an element")),
                _ => {}
            }
        }
    }

    /// An attribute (by local name) of the element [`Cursor::child`] returned last. Valid until
    /// the next read.
    pub fn attr(&self, local: &str) -> Option<String> {
        let start = self.last.as_ref()?;
        let mut attrs = start.attributes();
        attrs.with_checks(false);
        for a in attrs.flatten() {
            if a.key.local_name().as_ref() == local {
                return a
                    .normalized_value(XmlVersion::Implicit1_0)
                    .ok()
                    .map(|v| v.into_owned());
            }
        }
        None
    }

    /// The children of the current element collected as `(local name, trimmed text)` pairs,
    /// or, for `t:Value Name="x"` items, `(x, text)`. Used for `MessageXml`.
    pub fn message_values(&mut self) -> Result<Vec<(String, String)>, EwsError> {
        let mut out = Vec::new();
        while let Some(el) = self.child()? {
            let key = if el.local() == "Value" {
                self.attr("Name").unwrap_or_default()
            } else {
                el.local().to_string()
            };
            let text = self.text()?;
            // A fault detail has a handful of values; a flood is not a detail.
            if out.len() < 64 {
                out.push((key, text.trim().to_string()));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(xml: &str) -> Result<Vec<String>, EwsError> {
        fn rec(c: &mut Cursor<'_>, out: &mut Vec<String>) -> Result<(), EwsError> {
            while let Some(el) = c.child()? {
                if el.local() == "leaf" {
                    out.push(format!("{:?}={}", el, c.text()?));
                } else {
                    out.push(format!("{el:?}"));
                    rec(c, out)?;
                }
            }
            Ok(())
        }
        let mut c = Cursor::new(xml.as_bytes())?;
        let mut out = Vec::new();
        rec(&mut c, &mut out)?;
        Ok(out)
    }

    #[test]
    fn names_resolve_by_uri_not_prefix() {
        let xml = format!(
            r#"<x:a xmlns:x="{m}" xmlns:y="{t}"><y:leaf>1 &amp; &#50;</y:leaf><leaf xmlns="{t}"><![CDATA[<3>]]></leaf><q:leaf xmlns:q="urn:other">z</q:leaf><leaf/></x:a>"#,
            m = ns::MESSAGES,
            t = ns::TYPES
        );
        assert_eq!(
            walk(&xml).expect("parses"),
            vec![
                "Messages:a",
                "Types:leaf=1 & 2",
                "Types:leaf=<3>",
                "Other:leaf=z",
                "None:leaf="
            ]
        );
    }

    /// Every element of a document, depth first, as this cursor resolves it.
    fn elements_mine(xml: &[u8]) -> Result<Vec<(Ns, String)>, EwsError> {
        fn rec(c: &mut Cursor<'_>, out: &mut Vec<(Ns, String)>) -> Result<(), EwsError> {
            while let Some(el) = c.child()? {
                out.push((el.ns, el.local().to_string()));
                rec(c, out)?;
            }
            Ok(())
        }
        let mut c = Cursor::new(xml)?;
        let mut out = Vec::new();
        rec(&mut c, &mut out)?;
        Ok(out)
    }

    /// The same, as quick-xml's `NsReader` resolves it.
    fn elements_ns_reader(xml: &[u8]) -> Option<Vec<(Ns, String)>> {
        use quick_xml::name::ResolveResult;
        let text = std::str::from_utf8(xml).ok()?;
        let mut r = quick_xml::NsReader::from_str(text.strip_prefix('\u{feff}').unwrap_or(text));
        let mut out = Vec::new();
        loop {
            let (res, ev) = r.read_resolved_event().ok()?;
            let ns = match res {
                ResolveResult::Bound(n) => Ns::from_uri(n.0),
                ResolveResult::Unbound => Ns::None,
                ResolveResult::Unknown(_) => Ns::Other,
            };
            match ev {
                Event::Start(e) | Event::Empty(e) => {
                    out.push((ns, e.local_name().as_ref().to_string()))
                }
                Event::Eof => return Some(out),
                _ => {}
            }
        }
    }

    /// The cursor's own prefix resolution agrees with quick-xml's `NsReader` on every recorded
    /// document and on the awkward cases (shadowing, undeclaring, declarations on empty tags).
    #[test]
    fn namespace_resolution_agrees_with_ns_reader() {
        let shared = crate::fixture_tests::shared_dir();
        let mut docs: Vec<Vec<u8>> = Vec::new();
        for dir in ["ews-fixtures", "ews-validate", "captures/exchangelib"] {
            for entry in std::fs::read_dir(shared.join(dir)).expect("shared dir") {
                let path = entry.expect("entry").path();
                if path.extension().is_some_and(|e| e == "xml") {
                    docs.push(std::fs::read(&path).expect("read"));
                }
            }
        }
        let (m, t) = (ns::MESSAGES, ns::TYPES);
        for tricky in [
            format!(r#"<a xmlns="{m}"><b xmlns="{t}"><c/></b><d xmlns=""><e/></d><f/></a>"#),
            format!(r#"<p:a xmlns:p="{m}"><p:b xmlns:p="{t}"><p:c/></p:b><p:d/></p:a>"#),
            format!(r#"<a xmlns:p="{m}"><p:b xmlns:p="{t}"/><p:c/><q:d/></a>"#),
            format!(r#"<a><x:b xmlns:x="{t}" xmlns="{m}"><c/></x:b><c/></a>"#),
        ] {
            docs.push(tricky.into_bytes());
        }
        let mut compared = 0;
        for doc in &docs {
            let (Ok(mine), Some(theirs)) = (elements_mine(doc), elements_ns_reader(doc)) else {
                continue;
            };
            assert_eq!(mine, theirs, "{}", String::from_utf8_lossy(doc));
            compared += 1;
        }
        assert!(compared > 100, "only {compared} documents compared");
    }

    #[test]
    fn doctype_entities_depth_and_truncation_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]><a><leaf>&x;</leaf></a>"#;
        assert_eq!(walk(bomb), Err(EwsError::Doctype));
        let undeclared = "<a><leaf>&x;</leaf></a>";
        assert!(matches!(walk(undeclared), Err(EwsError::Malformed { .. })));
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(walk(&deep), Err(EwsError::TooDeep { limit: MAX_DEPTH }));
        assert!(matches!(walk("<a><b>"), Err(EwsError::Malformed { .. })));
        assert!(matches!(walk("<a></b>"), Err(EwsError::Malformed { .. })));
        assert!(matches!(
            Cursor::new(&[0xff, 0xfe, 0x3c]).err(),
            Some(EwsError::Malformed { .. })
        ));
        assert!(matches!(
            Cursor::new(b"   ").err(),
            Some(EwsError::Malformed { .. })
        ));
    }
}
