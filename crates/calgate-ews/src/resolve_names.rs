//! ResolveNames: one name per request (the schema allows exactly one `UnresolvedEntry`), used
//! when an operator types a colleague's name instead of an address.

use quick_xml::escape::escape;

use crate::envelope::{EwsRequest, ResponseStatus, ServerVersionInfo, SoapHeader, open_response};
use crate::error::EwsError;
use crate::xml::{Cursor, Ns};

/// One ResolveNames call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveNamesRequest {
    entry: String,
}

impl ResolveNamesRequest {
    pub fn new(entry: impl Into<String>) -> Result<ResolveNamesRequest, EwsError> {
        let entry = entry.into();
        let e = entry.trim();
        if e.is_empty() || e.len() > 256 || e.chars().any(char::is_control) {
            return Err(EwsError::InvalidRequest {
                reason: "a name to resolve must be 1-256 printable characters".into(),
            });
        }
        Ok(ResolveNamesRequest {
            entry: e.to_string(),
        })
    }

    pub fn to_request(&self, header: &SoapHeader) -> EwsRequest {
        let body = format!(
            r#"<m:ResolveNames ReturnFullContactData="false"><m:UnresolvedEntry>{}</m:UnresolvedEntry></m:ResolveNames>"#,
            escape(self.entry.as_str())
        );
        EwsRequest::new("ResolveNames", header, &body)
    }
}

/// A candidate mailbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedMailbox {
    pub name: Option<String>,
    pub email_address: Option<String>,
    pub routing_type: Option<String>,
    pub mailbox_type: Option<String>,
}

/// The answer: no candidates (`ErrorNameResolutionNoResults`), one, or several (`ambiguous`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveNamesResponse {
    pub server_version: Option<ServerVersionInfo>,
    pub candidates: Vec<ResolvedMailbox>,
    pub ambiguous: bool,
}

/// Reads a ResolveNames response body.
pub fn read_resolve_names_response(body: &[u8]) -> Result<ResolveNamesResponse, EwsError> {
    let opened = open_response(body)?;
    let mut cur = opened.cursor;
    if !opened.root.is(Ns::Messages, "ResolveNamesResponse") {
        return Err(EwsError::malformed(format!(
            "expected ResolveNamesResponse, got {:?}",
            opened.root
        )));
    }
    let mut out = ResolveNamesResponse {
        server_version: opened.server_version,
        candidates: Vec::new(),
        ambiguous: false,
    };
    let mut seen = false;
    while let Some(el) = cur.child()? {
        if !el.is(Ns::Messages, "ResponseMessages") {
            cur.skip()?;
            continue;
        }
        while let Some(m) = cur.child()? {
            if !m.is(Ns::Messages, "ResolveNamesResponseMessage") || seen {
                cur.skip()?;
                continue;
            }
            seen = true;
            let mut status = ResponseStatus::start(&cur);
            while let Some(c) = cur.child()? {
                if status.take(&mut cur, &c)? {
                    continue;
                }
                if c.is(Ns::Messages, "ResolutionSet") {
                    read_resolution_set(&mut cur, &mut out.candidates)?;
                } else {
                    cur.skip()?;
                }
            }
            match status.code.as_deref() {
                Some("ErrorNameResolutionNoResults") => out.candidates.clear(),
                Some("ErrorNameResolutionMultipleResults") => out.ambiguous = true,
                _ if status.is_error() => return Err(status.error(false)),
                _ => {}
            }
        }
    }
    if !seen {
        return Err(EwsError::malformed("no ResolveNamesResponseMessage"));
    }
    Ok(out)
}

fn read_resolution_set(
    cur: &mut Cursor<'_>,
    out: &mut Vec<ResolvedMailbox>,
) -> Result<(), EwsError> {
    while let Some(r) = cur.child()? {
        if !r.is(Ns::Types, "Resolution") {
            cur.skip()?;
            continue;
        }
        while let Some(m) = cur.child()? {
            if !m.is(Ns::Types, "Mailbox") {
                cur.skip()?;
                continue;
            }
            let mut mb = ResolvedMailbox::default();
            while let Some(f) = cur.child()? {
                let slot = match (f.ns, f.local()) {
                    (Ns::Types, "Name") => &mut mb.name,
                    (Ns::Types, "EmailAddress") => &mut mb.email_address,
                    (Ns::Types, "RoutingType") => &mut mb.routing_type,
                    (Ns::Types, "MailboxType") => &mut mb.mailbox_type,
                    _ => {
                        cur.skip()?;
                        continue;
                    }
                };
                let t = cur.text()?;
                let t = t.trim();
                *slot = (!t.is_empty()).then(|| t.to_string());
            }
            // Exchange returns at most 100 candidates.
            if out.len() < 100 {
                out.push(mb);
            }
        }
    }
    Ok(())
}
