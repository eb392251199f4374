//! GetMailTips for colleagues' automatic replies (`OutOfOfficeMessage`), in chunks of a configured
//! size. The operation exists from Exchange 2010 on; asking an older server is refused before
//! anything is sent.
//!
//! Unlike availability answers, mail tips echo the recipient address, so answers are matched by
//! address (falling back to position only when an answer carries none).

use std::fmt::Write as _;

use calgate_core::OutOfOffice;
use quick_xml::escape::escape;

use crate::availability::checked_address;
use crate::envelope::{EwsRequest, ResponseStatus, ServerVersionInfo, SoapHeader, open_response};
use crate::error::EwsError;
use crate::time::read_instant;
use crate::xml::{Cursor, Ns};

/// A conservative recipient count per request when the server's
/// `MaxRecipientsPerGetMailTipsRequest` is unknown.
pub const DEFAULT_MAIL_TIPS_CHUNK: usize = 50;

/// One GetMailTips call: who is asking and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTipsRequest {
    sending_as: String,
    recipients: Vec<String>,
}

impl MailTipsRequest {
    /// Splits `recipients` into requests of at most `chunk` recipients each.
    pub fn chunked<I, S>(
        sending_as: impl Into<String>,
        recipients: I,
        chunk: usize,
    ) -> Result<Vec<MailTipsRequest>, EwsError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if chunk == 0 {
            return Err(EwsError::InvalidRequest {
                reason: "mail tips chunk size must be at least 1".into(),
            });
        }
        let sending_as = checked_address(sending_as.into())?;
        let mut out: Vec<MailTipsRequest> = Vec::new();
        for r in recipients {
            let r = checked_address(r.into())?;
            match out.last_mut() {
                Some(req) if req.recipients.len() < chunk => req.recipients.push(r),
                _ => out.push(MailTipsRequest {
                    sending_as: sending_as.clone(),
                    recipients: vec![r],
                }),
            }
        }
        Ok(out)
    }

    pub fn recipients(&self) -> &[String] {
        &self.recipients
    }

    /// The request, ready to send; refused for Exchange 2007.
    pub fn to_request(&self, header: &SoapHeader) -> Result<EwsRequest, EwsError> {
        if !header.version.supports_mail_tips() {
            return Err(EwsError::UnsupportedByVersion {
                operation: "GetMailTips",
                version: header.version,
            });
        }
        if self.recipients.is_empty() {
            return Err(EwsError::InvalidRequest {
                reason: "no recipients".into(),
            });
        }
        let mut body = String::with_capacity(512 + self.recipients.len() * 128);
        let _ = write!(
            body,
            "<m:GetMailTips><m:SendingAs><t:EmailAddress>{}</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType></m:SendingAs><m:Recipients>",
            escape(self.sending_as.as_str())
        );
        for r in &self.recipients {
            let _ = write!(
                body,
                "<t:Mailbox><t:EmailAddress>{}</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType></t:Mailbox>",
                escape(r.as_str())
            );
        }
        body.push_str(
            "</m:Recipients><m:MailTipsRequested>OutOfOfficeMessage</m:MailTipsRequested></m:GetMailTips>",
        );
        Ok(EwsRequest::new("GetMailTips", header, &body))
    }
}

/// One recipient's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTip {
    /// The echoed `RecipientAddress/EmailAddress`, when present.
    pub recipient: Option<String>,
    /// The automatic reply: `None` when the server gave no `OutOfOffice` element; a `message`
    /// of `None` inside means no automatic reply is set.
    pub out_of_office: Option<OutOfOffice>,
    /// Tips the server could not evaluate in time (`PendingMailTips`): ask again later.
    pub pending: Vec<String>,
    /// This recipient's own error (`ResponseClass="Error"`).
    pub error: Option<EwsError>,
}

/// A GetMailTips response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTipsResponse {
    pub server_version: Option<ServerVersionInfo>,
    pub tips: Vec<MailTip>,
}

impl MailTipsResponse {
    /// The answer for each requested recipient, in request order. Answers are matched by echoed
    /// address (case-insensitively), else by position.
    pub fn for_request(
        &self,
        request: &MailTipsRequest,
    ) -> Result<Vec<(String, MailTip)>, EwsError> {
        if self.tips.len() != request.recipients.len() {
            return Err(EwsError::CountMismatch {
                sent: request.recipients.len(),
                received: self.tips.len(),
            });
        }
        Ok(request
            .recipients
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let by_address = self.tips.iter().find(|t| {
                    t.recipient
                        .as_deref()
                        .is_some_and(|a| a.trim().eq_ignore_ascii_case(r))
                });
                let tip = by_address.or_else(|| self.tips.get(i).filter(|t| t.recipient.is_none()));
                let tip = tip.cloned().unwrap_or(MailTip {
                    recipient: None,
                    out_of_office: None,
                    pending: Vec::new(),
                    error: Some(EwsError::malformed("no answer for this recipient")),
                });
                (r.clone(), tip)
            })
            .collect())
    }
}

/// Reads a GetMailTips response body.
pub fn read_mail_tips_response(body: &[u8]) -> Result<MailTipsResponse, EwsError> {
    let opened = open_response(body)?;
    let mut cur = opened.cursor;
    if !opened.root.is(Ns::Messages, "GetMailTipsResponse") {
        return Err(EwsError::malformed(format!(
            "expected GetMailTipsResponse, got {:?}",
            opened.root
        )));
    }
    let mut status = ResponseStatus::start(&cur);
    let mut tips = Vec::new();
    while let Some(el) = cur.child()? {
        if status.take(&mut cur, &el)? {
            continue;
        }
        if el.is(Ns::Messages, "ResponseMessages") {
            while let Some(m) = cur.child()? {
                // The per-recipient element is literally named `MailTipsResponseMessageType`.
                if m.ns == Ns::Messages && m.local().starts_with("MailTipsResponseMessage") {
                    if tips.len() >= 1000 {
                        return Err(EwsError::malformed("too many mail tips"));
                    }
                    tips.push(read_tip(&mut cur)?);
                } else {
                    cur.skip()?;
                }
            }
        } else {
            cur.skip()?;
        }
    }
    if status.is_error() {
        return Err(status.error(false));
    }
    Ok(MailTipsResponse {
        server_version: opened.server_version,
        tips,
    })
}

fn read_tip(cur: &mut Cursor<'_>) -> Result<MailTip, EwsError> {
    let mut status = ResponseStatus::start(cur);
    let mut tip = MailTip {
        recipient: None,
        out_of_office: None,
        pending: Vec::new(),
        error: None,
    };
    while let Some(el) = cur.child()? {
        if status.take(cur, &el)? {
            continue;
        }
        if !el.is(Ns::Messages, "MailTips") {
            cur.skip()?;
            continue;
        }
        while let Some(t) = cur.child()? {
            if t.ns != Ns::Types {
                cur.skip()?;
                continue;
            }
            match t.local() {
                "RecipientAddress" => {
                    while let Some(a) = cur.child()? {
                        if a.is(Ns::Types, "EmailAddress") {
                            tip.recipient = Some(cur.text()?.trim().to_string());
                        } else {
                            cur.skip()?;
                        }
                    }
                }
                "PendingMailTips" => {
                    tip.pending = cur.text()?.split_whitespace().map(str::to_string).collect();
                }
                "OutOfOffice" => tip.out_of_office = Some(read_out_of_office(cur)?),
                _ => cur.skip()?,
            }
        }
    }
    if status.is_error() {
        tip.error = Some(status.error(true));
    }
    Ok(tip)
}

fn read_out_of_office(cur: &mut Cursor<'_>) -> Result<OutOfOffice, EwsError> {
    let mut oof = OutOfOffice::default();
    while let Some(el) = cur.child()? {
        match (el.ns, el.local()) {
            (Ns::Types, "ReplyBody") => {
                while let Some(m) = cur.child()? {
                    if m.is(Ns::Types, "Message") {
                        let text = cur.text()?;
                        let text = text.trim();
                        oof.message = (!text.is_empty()).then(|| text.to_string());
                    } else {
                        cur.skip()?;
                    }
                }
            }
            (Ns::Types, "Duration") => {
                while let Some(d) = cur.child()? {
                    match (d.ns, d.local()) {
                        (Ns::Types, "StartTime") => oof.start = read_instant(&cur.text_cow()?),
                        (Ns::Types, "EndTime") => oof.end = read_instant(&cur.text_cow()?),
                        _ => cur.skip()?,
                    }
                }
            }
            _ => cur.skip()?,
        }
    }
    Ok(oof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExchangeVersion;

    #[test]
    fn chunks_respect_the_configured_size() {
        let rs: Vec<String> = (0..7).map(|i| format!("r{i}@contoso.com")).collect();
        let reqs =
            MailTipsRequest::chunked("me@contoso.com", rs.iter().cloned(), 3).expect("chunks");
        assert_eq!(
            reqs.iter()
                .map(|r| r.recipients().len())
                .collect::<Vec<_>>(),
            vec![3, 3, 1]
        );
        assert!(MailTipsRequest::chunked("me@contoso.com", rs.iter().cloned(), 0).is_err());
    }

    #[test]
    fn never_sent_below_exchange_2010() {
        let req = MailTipsRequest::chunked("me@contoso.com", ["a@contoso.com"], 10).expect("chunk");
        let old = SoapHeader::new(ExchangeVersion::Exchange2007Sp1);
        assert_eq!(
            req[0].to_request(&old),
            Err(EwsError::UnsupportedByVersion {
                operation: "GetMailTips",
                version: ExchangeVersion::Exchange2007Sp1
            })
        );
        let new = SoapHeader::new(ExchangeVersion::Exchange2010);
        assert!(req[0].to_request(&new).is_ok());
    }
}
