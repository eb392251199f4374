//! A hardened, namespace-aware pull cursor over a response body: the only place that touches
//! quick-xml when reading.
//!
//! Elements are identified by namespace URI and local name, never by prefix. The cursor refuses
//! a DOCTYPE (so no entity can be declared, let alone expanded), bodies over
//! [`MAX_BODY_BYTES`], nesting deeper than [`MAX_DEPTH`], and anything that is not well-formed
//! UTF-8 XML; it never panics on input. Unknown elements are skipped, text between elements
//! is ignored: leniency lives here so the readers stay short.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

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

const NAME_CAP: usize = 48;

/// An opened element: namespace plus local name (copied inline; longer names read as "").
#[derive(Clone, Copy)]
pub(crate) struct Elem {
    pub ns: Ns,
    name: [u8; NAME_CAP],
    len: u8,
}

impl Elem {
    pub fn local(&self) -> &str {
        std::str::from_utf8(&self.name[..usize::from(self.len)]).unwrap_or("")
    }

    pub fn is(&self, ns: Ns, local: &str) -> bool {
        self.ns == ns && self.local() == local
    }
}

impl std::fmt::Debug for Elem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}:{}", self.ns, self.local())
    }
}

pub(crate) struct Cursor<'a> {
    reader: NsReader<&'a [u8]>,
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
            reader: NsReader::from_str(text),
            depth: 0,
            empty_pending: false,
            last: None,
        })
    }

    fn next(&mut self) -> Result<(Ns, Event<'a>), EwsError> {
        let (res, ev) = self
            .reader
            .read_resolved_event()
            .map_err(|e| EwsError::malformed(format!("not well-formed XML: {e}")))?;
        let ns = match res {
            ResolveResult::Bound(n) => Ns::from_uri(n.0),
            ResolveResult::Unbound => Ns::None,
            ResolveResult::Unknown(_) => Ns::Other,
        };
        if matches!(ev, Event::DocType(_)) {
            return Err(EwsError::Doctype);
        }
        Ok((ns, ev))
    }

    fn open(&mut self, ns: Ns, start: BytesStart<'a>, empty: bool) -> Result<Elem, EwsError> {
        if self.depth >= MAX_DEPTH {
            return Err(EwsError::TooDeep { limit: MAX_DEPTH });
        }
        self.depth += 1;
        self.empty_pending = empty;
        let mut elem = Elem {
            ns,
            name: [0; NAME_CAP],
            len: 0,
        };
        {
            let local = start.local_name();
            let bytes = local.as_ref().as_bytes();
            if bytes.len() <= NAME_CAP {
                elem.name[..bytes.len()].copy_from_slice(bytes);
                elem.len = u8::try_from(bytes.len()).unwrap_or(0);
            }
        }
        self.last = Some(start);
        Ok(elem)
    }

    fn close(&mut self) -> Result<(), EwsError> {
        self.depth = self
            .depth
            .checked_sub(1)
            .ok_or_else(|| EwsError::malformed("unbalanced end tag"))?;
        Ok(())
    }

    /// The next child element of the current one, or `None` once the current element has ended
    /// (its end tag is consumed). At the top level, `None` means the document ended.
    pub fn child(&mut self) -> Result<Option<Elem>, EwsError> {
        if self.empty_pending {
            self.empty_pending = false;
            self.close()?;
            return Ok(None);
        }
        loop {
            let (ns, ev) = self.next()?;
            match ev {
                Event::Start(e) => return self.open(ns, e, false).map(Some),
                Event::Empty(e) => return self.open(ns, e, true).map(Some),
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
        let mut out = String::new();
        if self.empty_pending {
            self.empty_pending = false;
            self.close()?;
            return Ok(out);
        }
        loop {
            let (ns, ev) = self.next()?;
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
                    self.open(ns, e, false)?;
                    self.skip()?;
                }
                Event::Empty(_) => {}
                Event::End(_) => {
                    self.close()?;
                    return Ok(out);
                }
                Event::Eof => return Err(EwsError::malformed("body ends inside an element")),
                _ => {}
            }
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
            let (_, ev) = self.next()?;
            match ev {
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
