//! The SOAP envelope: writing one around a request body (with `RequestServerVersion` and the
//! optional `ExchangeImpersonation` header), and opening a response one: reading
//! `ServerVersionInfo`, turning a `Fault` into a typed [`EwsError`], and handing the operation's
//! response element to its reader.

use std::fmt::Write as _;

use quick_xml::escape::escape;

use crate::error::EwsError;
use crate::xml::{Cursor, Elem, Ns};
use crate::{ExchangeVersion, ns};

/// Acting as another mailbox (app-only OAuth tokens must; delegated tokens must not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impersonation {
    smtp_address: String,
}

impl Impersonation {
    pub fn smtp_address(address: impl Into<String>) -> Result<Impersonation, EwsError> {
        Ok(Impersonation {
            smtp_address: crate::availability::checked_address(address.into())?,
        })
    }

    /// The value of the `X-AnchorMailbox` HTTP header that must go with it: Exchange routes the
    /// request to the impersonated mailbox's server instead of proxying it.
    pub fn anchor_mailbox(&self) -> &str {
        &self.smtp_address
    }
}

/// The SOAP headers every request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapHeader {
    pub version: ExchangeVersion,
    pub impersonation: Option<Impersonation>,
}

impl SoapHeader {
    pub fn new(version: ExchangeVersion) -> SoapHeader {
        SoapHeader {
            version,
            impersonation: None,
        }
    }

    pub fn impersonating(mut self, impersonation: Impersonation) -> SoapHeader {
        self.impersonation = Some(impersonation);
        self
    }

    /// The `X-AnchorMailbox` header value, when impersonating.
    pub fn anchor_mailbox(&self) -> Option<&str> {
        self.impersonation
            .as_ref()
            .map(Impersonation::anchor_mailbox)
    }

    /// Wraps an operation element (written with the `m:`/`t:` prefixes) in an envelope.
    pub(crate) fn wrap(&self, body: &str) -> String {
        let mut out = String::with_capacity(body.len() + 512);
        let _ = write!(
            out,
            r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{}" xmlns:m="{}" xmlns:t="{}"><soap:Header><t:RequestServerVersion Version="{}"/>"#,
            ns::SOAP_ENV,
            ns::MESSAGES,
            ns::TYPES,
            self.version.wire_name()
        );
        if let Some(imp) = &self.impersonation {
            let _ = write!(
                out,
                "<t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>{}</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>",
                escape(imp.smtp_address.as_str())
            );
        }
        out.push_str("</soap:Header><soap:Body>");
        out.push_str(body);
        out.push_str("</soap:Body></soap:Envelope>");
        out
    }
}

/// A request ready to send: the body and the headers that must go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EwsRequest {
    /// The operation name, for logs.
    pub operation: &'static str,
    pub body: String,
    /// `X-AnchorMailbox`, when impersonating.
    pub anchor_mailbox: Option<String>,
}

impl EwsRequest {
    pub(crate) fn new(operation: &'static str, header: &SoapHeader, body: &str) -> EwsRequest {
        EwsRequest {
            operation,
            body: header.wrap(body),
            anchor_mailbox: header.anchor_mailbox().map(str::to_string),
        }
    }
}

/// `ServerVersionInfo` from a response header. `version` is free text (`V2017_07_11`,
/// `Exchange2010`, absent on Exchange 2007).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerVersionInfo {
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub major_build: Option<u32>,
    pub minor_build: Option<u32>,
    pub version: Option<String>,
}

/// An opened response: the cursor sits inside the operation's response element.
pub(crate) struct OpenedResponse<'a> {
    pub cursor: Cursor<'a>,
    pub root: Elem<'a>,
    pub server_version: Option<ServerVersionInfo>,
}

/// Opens a SOAP response. A `Fault` in the body becomes its typed error.
pub(crate) fn open_response(body: &[u8]) -> Result<OpenedResponse<'_>, EwsError> {
    let mut cur = Cursor::new(body)?;
    let env = cur
        .child()?
        .ok_or_else(|| EwsError::malformed("no root element"))?;
    if !env.is(Ns::Soap, "Envelope") {
        return Err(EwsError::malformed(format!(
            "root element is {env:?}, not a SOAP Envelope"
        )));
    }
    let mut server_version = None;
    while let Some(part) = cur.child()? {
        if part.is(Ns::Soap, "Header") {
            while let Some(h) = cur.child()? {
                if h.is(Ns::Types, "ServerVersionInfo") {
                    let num =
                        |c: &Cursor<'_>, n: &str| c.attr(n).and_then(|v| v.trim().parse().ok());
                    server_version = Some(ServerVersionInfo {
                        major: num(&cur, "MajorVersion"),
                        minor: num(&cur, "MinorVersion"),
                        major_build: num(&cur, "MajorBuildNumber"),
                        minor_build: num(&cur, "MinorBuildNumber"),
                        version: cur.attr("Version"),
                    });
                }
                cur.skip()?;
            }
        } else if part.is(Ns::Soap, "Body") {
            let Some(root) = cur.child()? else {
                return Err(EwsError::malformed("empty SOAP Body"));
            };
            if root.is(Ns::Soap, "Fault") {
                return Err(read_fault(&mut cur)?);
            }
            return Ok(OpenedResponse {
                cursor: cur,
                root,
                server_version,
            });
        } else {
            cur.skip()?;
        }
    }
    Err(EwsError::malformed("no SOAP Body"))
}

/// The typed error of a body that is a SOAP fault; `None` when the body is anything else (an
/// HTML error page, an operation response, garbage).
pub fn read_soap_fault(body: &[u8]) -> Option<EwsError> {
    match open_response(body) {
        Err(EwsError::Malformed { .. }) | Ok(_) => None,
        Err(e) => Some(e),
    }
}

/// Reads a SOAP 1.1 fault (the cursor is inside `Fault`) into its typed error.
fn read_fault(cur: &mut Cursor<'_>) -> Result<EwsError, EwsError> {
    let mut faultcode = String::new();
    let mut faultstring = String::new();
    let mut response_code = None;
    let mut message = None;
    let mut values = Vec::new();
    while let Some(el) = cur.child()? {
        match el.local() {
            "faultcode" => faultcode = cur.text()?,
            "faultstring" => faultstring = cur.text()?,
            "detail" => {
                while let Some(d) = cur.child()? {
                    match (d.ns, d.local()) {
                        (Ns::Errors | Ns::Messages, "ResponseCode") => {
                            response_code = Some(cur.text()?)
                        }
                        (Ns::Errors | Ns::Messages, "Message") => message = Some(cur.text()?),
                        // Seen in the types namespace (Exchange) and the messages one.
                        (_, "MessageXml") => values = cur.message_values()?,
                        _ => cur.skip()?,
                    }
                }
            }
            _ => cur.skip()?,
        }
    }
    // The detail's ResponseCode is authoritative; the faultcode QName (`a:ErrorServerBusy`) is
    // the fallback.
    let code = response_code.unwrap_or_else(|| {
        let fc = faultcode.trim();
        fc.rsplit_once(':').map_or(fc, |(_, l)| l).to_string()
    });
    let message = message.unwrap_or(faultstring);
    if code.trim().is_empty() {
        return Err(EwsError::malformed("SOAP fault without a code"));
    }
    Ok(EwsError::from_response_code(
        &code, &message, &values, false,
    ))
}

/// `ResponseClass`, `ResponseCode`, `MessageText` and `MessageXml` values of a response message,
/// gathered while the reader walks its other children.
#[derive(Debug, Default)]
pub(crate) struct ResponseStatus {
    pub class: Option<String>,
    pub code: Option<String>,
    pub text: String,
    pub values: Vec<(String, String)>,
}

impl ResponseStatus {
    /// Takes the element's `ResponseClass` (call right after the cursor opened it).
    pub fn start(cur: &Cursor<'_>) -> ResponseStatus {
        ResponseStatus {
            class: cur.attr("ResponseClass"),
            ..ResponseStatus::default()
        }
    }

    /// Consumes `el` if it is one of the status children; returns false otherwise.
    pub fn take(&mut self, cur: &mut Cursor<'_>, el: &Elem<'_>) -> Result<bool, EwsError> {
        if el.ns != Ns::Messages {
            return Ok(false);
        }
        match el.local() {
            "ResponseCode" => self.code = Some(cur.text()?.trim().to_string()),
            "MessageText" => self.text = cur.text()?.trim().to_string(),
            "MessageXml" => self.values = cur.message_values()?,
            "DescriptiveLinkKey" => cur.skip()?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `Success` and `Warning` carry data; `Error` (or a code other than `NoError` without a
    /// class) does not.
    pub fn is_error(&self) -> bool {
        match self.class.as_deref().map(str::trim) {
            Some("Error") => true,
            Some(_) => false,
            None => self.code.as_deref().is_some_and(|c| c != "NoError"),
        }
    }

    pub fn error(&self, per_mailbox: bool) -> EwsError {
        EwsError::from_response_code(
            self.code.as_deref().unwrap_or("ErrorUnknown"),
            &self.text,
            &self.values,
            per_mailbox,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impersonation_goes_into_header_and_anchor() {
        let h = SoapHeader::new(ExchangeVersion::Exchange2013Sp1)
            .impersonating(Impersonation::smtp_address("svc@contoso.com").expect("valid"));
        let req = EwsRequest::new("GetUserAvailability", &h, "<m:X/>");
        assert!(req.body.contains(
            "<t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>svc@contoso.com</t:SmtpAddress>"
        ));
        assert!(
            req.body
                .contains(r#"<t:RequestServerVersion Version="Exchange2013_SP1"/>"#)
        );
        assert_eq!(req.anchor_mailbox.as_deref(), Some("svc@contoso.com"));
        let plain = EwsRequest::new(
            "X",
            &SoapHeader::new(ExchangeVersion::Exchange2010),
            "<m:X/>",
        );
        assert!(!plain.body.contains("Impersonation"));
        assert_eq!(plain.anchor_mailbox, None);
    }

    #[test]
    fn non_soap_bodies_are_malformed_not_panics() {
        for body in [
            &b"<html><body>Service Unavailable</body></html>"[..],
            b"",
            b"<?xml version=\"1.0\"?>",
            b"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>",
            b"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body/></s:Envelope>",
        ] {
            match open_response(body) {
                Err(EwsError::Malformed { .. }) => {}
                Err(other) => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
                Ok(_) => panic!("{:?} opened", String::from_utf8_lossy(body)),
            }
        }
    }
}
