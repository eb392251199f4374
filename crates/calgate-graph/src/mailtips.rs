//! `POST /users/{id}/getMailTips` with `MailTipsOptions: "automaticReplies"`: the out-of-office
//! text (HTML, as the person wrote it) and its scheduled window, one answer per requested
//! address, read into calgate-core's [`OutOfOffice`].

use std::collections::HashMap;

use calgate_core::{OutOfOffice, SourceError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::lenient;
use crate::schedule::{MAX_SCHEDULE_LIMIT, ReadError};
use crate::time::{DateTimeTimeZone, clip};

/// Mail-tips answers are small; this is generous.
pub const MAX_MAILTIPS_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// The option calgate asks for.
pub const AUTOMATIC_REPLIES: &str = "automaticReplies";

/// The getMailTips request body as it travels (Graph documents PascalCase keys here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetMailTipsBody {
    #[serde(rename = "EmailAddresses", alias = "emailAddresses")]
    pub email_addresses: Vec<String>,
    #[serde(rename = "MailTipsOptions", alias = "mailTipsOptions")]
    pub mail_tips_options: String,
}

impl GetMailTipsBody {
    /// Whether the comma-separated options include `automaticReplies`.
    pub fn wants_automatic_replies(&self) -> bool {
        self.mail_tips_options
            .split(',')
            .any(|o| o.trim().eq_ignore_ascii_case(AUTOMATIC_REPLIES))
    }
}

/// A validated request for automatic replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetMailTips {
    addresses: Vec<String>,
}

/// One address's automatic-reply state: `Ok(None)` when no reply is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTipsResult {
    pub mailbox: String,
    pub automatic_replies: Result<Option<OutOfOffice>, SourceError>,
}

impl GetMailTips {
    /// `None` when there is nothing to ask or more than 100 addresses.
    pub fn automatic_replies(addresses: Vec<String>) -> Option<GetMailTips> {
        let ok = !addresses.is_empty()
            && addresses.len() <= MAX_SCHEDULE_LIMIT
            && addresses.iter().all(|a| !a.trim().is_empty());
        ok.then_some(GetMailTips { addresses })
    }

    pub fn addresses(&self) -> &[String] {
        &self.addresses
    }

    pub fn body(&self) -> GetMailTipsBody {
        GetMailTipsBody {
            email_addresses: self.addresses.clone(),
            mail_tips_options: AUTOMATIC_REPLIES.to_owned(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.body()).unwrap_or_default()
    }

    /// Reads a 200 answer: one result per requested address, in request order, matched by
    /// `emailAddress.address` (case-insensitive).
    pub fn read_response(&self, body: &[u8]) -> Result<Vec<MailTipsResult>, ReadError> {
        let response: MailTipsResponse =
            crate::schedule::read_capped(body, MAX_MAILTIPS_RESPONSE_BYTES)?;
        let tips = response.value.ok_or_else(ReadError::no_value)?;
        let mut by_address: HashMap<String, &MailTips> = HashMap::new();
        for t in &tips {
            if let Some(a) = t.email_address.as_ref().and_then(|e| e.address.as_deref()) {
                by_address.entry(a.trim().to_lowercase()).or_insert(t);
            }
        }
        Ok(self
            .addresses
            .iter()
            .map(|a| MailTipsResult {
                mailbox: a.clone(),
                automatic_replies: match by_address.get(&a.trim().to_lowercase()) {
                    Some(t) => t.out_of_office(),
                    None => Err(SourceError {
                        code: ErrorCode::ScheduleMissing.code().to_string(),
                        message: "the getMailTips answer has no entry for this address".to_owned(),
                    }),
                },
            })
            .collect())
    }
}

/// The getMailTips response body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailTipsResponse {
    #[serde(
        rename = "@odata.context",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub context: Option<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub value: Option<Vec<MailTips>>,
}

pub const MAILTIPS_CONTEXT: &str =
    "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.mailTips)";

impl MailTipsResponse {
    pub fn new(value: Vec<MailTips>) -> MailTipsResponse {
        MailTipsResponse {
            context: Some(MAILTIPS_CONTEXT.to_owned()),
            value: Some(value),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One recipient's `mailTips`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailTips {
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub email_address: Option<EmailAddress>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub automatic_replies: Option<AutomaticReplies>,
    #[serde(
        default,
        deserialize_with = "recipient_error",
        skip_serializing_if = "Option::is_none"
    )]
    pub error: Option<MailTipsError>,
}

fn recipient_error<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<MailTipsError>, D::Error> {
    use serde_json::Value;
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        v => Some(serde_json::from_value(v).unwrap_or_default()),
    })
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress {
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub address: Option<String>,
}

/// `automaticRepliesMailTips`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutomaticReplies {
    #[serde(default, deserialize_with = "lenient::string")]
    pub message: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub message_language: Option<MessageLanguage>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub scheduled_start_time: Option<DateTimeTimeZone>,
    #[serde(
        default,
        deserialize_with = "lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub scheduled_end_time: Option<DateTimeTimeZone>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageLanguage {
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub locale: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
}

/// `mailTipsError`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailTipsError {
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub message: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub code: Option<String>,
}

impl MailTips {
    /// A recipient's tips as Graph writes them, for the simulator. `oof` `None` writes an empty
    /// message (Graph's "no automatic reply").
    pub fn automatic_replies_for(
        address: &str,
        name: Option<&str>,
        oof: Option<&OutOfOffice>,
    ) -> MailTips {
        let utc = crate::schedule::OutputZone::utc();
        MailTips {
            email_address: Some(EmailAddress {
                name: Some(name.unwrap_or("").to_owned()),
                address: Some(address.to_owned()),
            }),
            automatic_replies: Some(AutomaticReplies {
                message: Some(oof.and_then(|o| o.message.clone()).unwrap_or_default()),
                message_language: oof.map(|_| MessageLanguage {
                    locale: Some("en-US".to_owned()),
                    display_name: Some("English (United States)".to_owned()),
                }),
                scheduled_start_time: oof.and_then(|o| o.start).map(|t| utc.date_time(t)),
                scheduled_end_time: oof.and_then(|o| o.end).map(|t| utc.date_time(t)),
            }),
            error: None,
        }
    }

    /// A recipient Graph could not look up.
    pub fn failed(address: &str, code: &str, message: &str) -> MailTips {
        MailTips {
            email_address: Some(EmailAddress {
                name: None,
                address: Some(address.to_owned()),
            }),
            automatic_replies: None,
            error: Some(MailTipsError {
                message: Some(message.to_owned()),
                code: Some(code.to_owned()),
            }),
        }
    }

    /// An empty or missing message means no automatic reply. Unreadable scheduled times are
    /// left out (the text is what the operator needs).
    fn out_of_office(&self) -> Result<Option<OutOfOffice>, SourceError> {
        if let Some(err) = &self.error {
            let code = ErrorCode::for_item_error(err.code.as_deref());
            let message = match (&err.code, &err.message) {
                (Some(c), Some(m)) => format!("{}: {}", clip(c), clip(m)),
                (Some(c), None) => clip(c),
                (None, Some(m)) => clip(m),
                (None, None) => "Graph reported an error for this recipient".to_owned(),
            };
            return Err(SourceError {
                code: code.code().to_string(),
                message,
            });
        }
        let Some(replies) = &self.automatic_replies else {
            return Ok(None);
        };
        let Some(message) = replies.message.as_deref().filter(|m| !m.trim().is_empty()) else {
            return Ok(None);
        };
        let at = |t: &Option<DateTimeTimeZone>| -> Option<Timestamp> {
            t.as_ref().and_then(|d| d.to_timestamp().ok())
        };
        Ok(Some(OutOfOffice {
            message: Some(message.to_owned()),
            start: at(&replies.scheduled_start_time),
            end: at(&replies.scheduled_end_time),
        }))
    }
}
