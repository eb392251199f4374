//! Request readers: a SOAP envelope from a client, parsed with roxmltree (no DTDs, a node
//! limit) into the operation a simulated Exchange must answer.
//!
//! Elements are matched by namespace URI and local name, never by prefix. Where a request breaks
//! the schema in a way Exchange rejects (exchangelib's GetMailTips without `MailTipsRequested`,
//! several `UnresolvedEntry` elements in one ResolveNames), the reader reports a schema violation
//! so the server can answer `ErrorSchemaValidation` as Exchange does.

use calgate_core::{SerializableTimeZone, TimeChange, Weekday};
use jiff::Timestamp;
use jiff::civil::DateTime;
use roxmltree::{Document, Node, ParsingOptions};

use crate::ns;

/// The most XML nodes a request may have (a 100-mailbox availability request has about 1 500).
pub const MAX_REQUEST_NODES: u32 = 100_000;

/// Why a request cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the request is not well-formed XML: {0}")]
    NotXml(String),
    #[error("the request is not a SOAP 1.1 envelope with a Body")]
    NotSoap,
    #[error("the request failed schema validation: {0}")]
    Schema(String),
    #[error("the operation {0} is not supported")]
    UnknownOperation(String),
}

/// A parsed request: SOAP headers and the operation.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerRequest {
    /// `t:RequestServerVersion@Version`.
    pub version: Option<String>,
    /// `t:TimeZoneContext/t:TimeZoneDefinition@Id`.
    pub time_zone_context: Option<String>,
    /// The impersonated identity of `t:ExchangeImpersonation`, whichever form it takes.
    pub impersonation: Option<String>,
    pub operation: Operation,
}

/// The operations a simulated Exchange answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    GetUserAvailability(AvailabilityQuery),
    GetMailTips(MailTipsQuery),
    ResolveNames(ResolveNamesQuery),
    GetServerTimeZones(TimeZonesQuery),
    ConvertId(ConvertIdQuery),
    GetUserOofSettings { mailbox: String },
}

impl Operation {
    /// The operation's name, as statistics and logs show it.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::GetUserAvailability(_) => "GetUserAvailability",
            Operation::GetMailTips(_) => "GetMailTips",
            Operation::ResolveNames(_) => "ResolveNames",
            Operation::GetServerTimeZones(_) => "GetServerTimeZones",
            Operation::ConvertId(_) => "ConvertId",
            Operation::GetUserOofSettings { .. } => "GetUserOofSettings",
        }
    }
}

/// An xs:dateTime of a time window: an instant when it carries `Z` or an offset, a wall-clock
/// time otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowTime {
    Instant(Timestamp),
    Local(DateTime),
}

impl WindowTime {
    fn parse(s: &str) -> Option<WindowTime> {
        let s = s.trim();
        if let Ok(t) = s.parse::<Timestamp>() {
            return Some(WindowTime::Instant(t));
        }
        s.parse::<DateTime>().ok().map(WindowTime::Local)
    }
}

/// One `t:MailboxData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxQuery {
    pub address: String,
    pub attendee_type: Option<String>,
    pub exclude_conflicts: bool,
}

/// `t:FreeBusyViewOptions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeBusyOptions {
    pub start: WindowTime,
    pub end: WindowTime,
    pub interval_minutes: Option<i64>,
    /// `MergedOnly`, `FreeBusy`, `FreeBusyMerged`, `Detailed`, `DetailedMerged` (or `None`).
    pub requested_view: String,
}

/// `m:GetUserAvailabilityRequest`.
#[derive(Debug, Clone, PartialEq)]
pub struct AvailabilityQuery {
    /// The body `t:TimeZone`, when present.
    pub time_zone: Option<SerializableTimeZone>,
    pub mailboxes: Vec<MailboxQuery>,
    pub free_busy: Option<FreeBusyOptions>,
    pub suggestions: bool,
}

/// `m:GetMailTips`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTipsQuery {
    pub sending_as: String,
    pub recipients: Vec<String>,
    /// The requested tip names (`OutOfOfficeMessage`, `All`, …).
    pub requested: Vec<String>,
}

impl MailTipsQuery {
    pub fn wants(&self, tip: &str) -> bool {
        self.requested.iter().any(|r| r == tip || r == "All")
    }
}

/// `m:ResolveNames` (one entry, as the schema allows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveNamesQuery {
    pub entry: String,
    pub return_full_contact_data: bool,
}

/// `m:GetServerTimeZones`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZonesQuery {
    /// Empty means every zone.
    pub ids: Vec<String>,
    pub full_data: bool,
}

/// `m:ConvertId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertIdQuery {
    pub destination_format: String,
    /// (Id, Format, Mailbox) of each `t:AlternateId`.
    pub ids: Vec<(String, String, String)>,
}

fn is(node: &Node, namespace: &str, local: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == local
        && node.tag_name().namespace() == Some(namespace)
}

fn child<'a, 'i>(node: Node<'a, 'i>, namespace: &str, local: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| is(c, namespace, local))
}

fn children<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    namespace: &'a str,
    local: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| is(c, namespace, local))
}

fn text<'a>(node: Option<Node<'a, '_>>) -> Option<&'a str> {
    node.and_then(|n| n.text()).map(str::trim)
}

fn boolean(s: Option<&str>) -> bool {
    matches!(s.map(str::trim), Some("true" | "1"))
}

fn schema(msg: impl Into<String>) -> RequestError {
    RequestError::Schema(msg.into())
}

/// Parses a request envelope.
pub fn read_request(xml: &str) -> Result<ServerRequest, RequestError> {
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_REQUEST_NODES,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(xml, options)
        .map_err(|e| RequestError::NotXml(e.to_string()))?;
    let envelope = doc.root_element();
    if !is(&envelope, ns::SOAP_ENV, "Envelope") {
        return Err(RequestError::NotSoap);
    }
    let header = child(envelope, ns::SOAP_ENV, "Header");
    let body = child(envelope, ns::SOAP_ENV, "Body").ok_or(RequestError::NotSoap)?;
    let version = header
        .and_then(|h| child(h, ns::TYPES, "RequestServerVersion"))
        .and_then(|v| v.attribute("Version"))
        .map(str::to_owned);
    let time_zone_context = header
        .and_then(|h| child(h, ns::TYPES, "TimeZoneContext"))
        .and_then(|c| child(c, ns::TYPES, "TimeZoneDefinition"))
        .and_then(|d| d.attribute("Id"))
        .map(str::to_owned);
    let impersonation = header
        .and_then(|h| child(h, ns::TYPES, "ExchangeImpersonation"))
        .and_then(|i| child(i, ns::TYPES, "ConnectingSID"))
        .and_then(|sid| sid.children().find(|c| c.is_element()))
        .and_then(|n| n.text())
        .map(|s| s.trim().to_owned());
    let op = body
        .children()
        .find(|c| c.is_element())
        .ok_or_else(|| schema("the Body has no operation element"))?;
    if op.tag_name().namespace() != Some(ns::MESSAGES) {
        return Err(RequestError::UnknownOperation(
            op.tag_name().name().to_owned(),
        ));
    }
    let operation = match op.tag_name().name() {
        "GetUserAvailabilityRequest" => Operation::GetUserAvailability(read_availability(op)?),
        "GetMailTips" => Operation::GetMailTips(read_mail_tips(op)?),
        "ResolveNames" => Operation::ResolveNames(read_resolve_names(op)?),
        "GetServerTimeZones" => Operation::GetServerTimeZones(read_time_zones(op)),
        "ConvertId" => Operation::ConvertId(read_convert_id(op)?),
        "GetUserOofSettingsRequest" => {
            let mailbox = child(op, ns::TYPES, "Mailbox")
                .and_then(|m| text(child(m, ns::TYPES, "Address")))
                .ok_or_else(|| schema("GetUserOofSettingsRequest needs t:Mailbox/t:Address"))?;
            Operation::GetUserOofSettings {
                mailbox: mailbox.to_owned(),
            }
        }
        other => return Err(RequestError::UnknownOperation(other.to_owned())),
    };
    Ok(ServerRequest {
        version,
        time_zone_context,
        impersonation,
        operation,
    })
}

fn read_time_change(node: Node) -> Result<TimeChange, RequestError> {
    let num = |local: &str| -> Result<i64, RequestError> {
        text(child(node, ns::TYPES, local))
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| schema(format!("t:{local} is missing or not a number")))
    };
    let time = text(child(node, ns::TYPES, "Time"))
        .and_then(|s| s.parse::<jiff::civil::Time>().ok())
        .ok_or_else(|| schema("t:Time is missing or not a time"))?;
    let day = text(child(node, ns::TYPES, "DayOfWeek")).unwrap_or("Sunday");
    let year = text(child(node, ns::TYPES, "Year")).and_then(|y| y.parse::<i16>().ok());
    Ok(TimeChange {
        bias_minutes: i32::try_from(num("Bias")?).map_err(|_| schema("t:Bias out of range"))?,
        time_of_day_s: u32::try_from(
            i64::from(time.hour()) * 3600
                + i64::from(time.minute()) * 60
                + i64::from(time.second()),
        )
        .unwrap_or(0),
        day_order: u8::try_from(num("DayOrder")?).map_err(|_| schema("t:DayOrder out of range"))?,
        month: u8::try_from(num("Month")?).map_err(|_| schema("t:Month out of range"))?,
        day_of_week: Weekday::parse(day).unwrap_or(Weekday::Sun),
        year,
    })
}

fn read_serializable_tz(node: Node) -> Result<SerializableTimeZone, RequestError> {
    let bias = text(child(node, ns::TYPES, "Bias"))
        .and_then(|s| s.parse::<i32>().ok())
        .ok_or_else(|| schema("t:TimeZone/t:Bias is missing or not a number"))?;
    let standard = child(node, ns::TYPES, "StandardTime")
        .map(read_time_change)
        .transpose()?;
    let daylight = child(node, ns::TYPES, "DaylightTime")
        .map(read_time_change)
        .transpose()?;
    Ok(SerializableTimeZone {
        bias_minutes: bias,
        standard,
        daylight,
    })
}

fn read_availability(op: Node) -> Result<AvailabilityQuery, RequestError> {
    let time_zone = child(op, ns::TYPES, "TimeZone")
        .map(read_serializable_tz)
        .transpose()?;
    let array = child(op, ns::MESSAGES, "MailboxDataArray")
        .ok_or_else(|| schema("m:MailboxDataArray is missing"))?;
    let mut mailboxes = Vec::new();
    for data in children(array, ns::TYPES, "MailboxData") {
        let email =
            child(data, ns::TYPES, "Email").ok_or_else(|| schema("t:MailboxData needs t:Email"))?;
        let address = text(child(email, ns::TYPES, "Address")).unwrap_or_default();
        mailboxes.push(MailboxQuery {
            address: address.to_owned(),
            attendee_type: text(child(data, ns::TYPES, "AttendeeType")).map(str::to_owned),
            exclude_conflicts: boolean(text(child(data, ns::TYPES, "ExcludeConflicts"))),
        });
    }
    let free_busy = match child(op, ns::TYPES, "FreeBusyViewOptions") {
        None => None,
        Some(opts) => {
            let window = child(opts, ns::TYPES, "TimeWindow")
                .ok_or_else(|| schema("t:FreeBusyViewOptions needs t:TimeWindow"))?;
            let time = |local: &str| {
                text(child(window, ns::TYPES, local))
                    .and_then(WindowTime::parse)
                    .ok_or_else(|| schema(format!("t:{local} is missing or not an xs:dateTime")))
            };
            let interval = match text(child(opts, ns::TYPES, "MergedFreeBusyIntervalInMinutes")) {
                None => None,
                Some(s) => Some(
                    s.parse::<i64>()
                        .map_err(|_| schema("MergedFreeBusyIntervalInMinutes is not an integer"))?,
                ),
            };
            Some(FreeBusyOptions {
                start: time("StartTime")?,
                end: time("EndTime")?,
                interval_minutes: interval,
                requested_view: text(child(opts, ns::TYPES, "RequestedView"))
                    .unwrap_or("Detailed")
                    .to_owned(),
            })
        }
    };
    let suggestions = child(op, ns::TYPES, "SuggestionsViewOptions").is_some();
    if free_busy.is_none() && !suggestions {
        return Err(schema(
            "GetUserAvailabilityRequest needs t:FreeBusyViewOptions or t:SuggestionsViewOptions",
        ));
    }
    Ok(AvailabilityQuery {
        time_zone,
        mailboxes,
        free_busy,
        suggestions,
    })
}

fn read_mail_tips(op: Node) -> Result<MailTipsQuery, RequestError> {
    let stray_text = op
        .children()
        .any(|c| c.is_text() && c.text().is_some_and(|t| !t.trim().is_empty()));
    let requested = child(op, ns::MESSAGES, "MailTipsRequested");
    if stray_text || requested.is_none() {
        return Err(schema(
            "The element 'GetMailTips' in namespace 'http://schemas.microsoft.com/exchange/services/2006/messages' \
             has incomplete content. List of possible elements expected: 'MailTipsRequested' in namespace \
             'http://schemas.microsoft.com/exchange/services/2006/messages'.",
        ));
    }
    let sending_as = child(op, ns::MESSAGES, "SendingAs")
        .and_then(|s| text(child(s, ns::TYPES, "EmailAddress")))
        .unwrap_or_default()
        .to_owned();
    let recipients = child(op, ns::MESSAGES, "Recipients")
        .map(|r| {
            children(r, ns::TYPES, "Mailbox")
                .map(|m| {
                    text(child(m, ns::TYPES, "EmailAddress"))
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default();
    let requested = text(requested)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    Ok(MailTipsQuery {
        sending_as,
        recipients,
        requested,
    })
}

fn read_resolve_names(op: Node) -> Result<ResolveNamesQuery, RequestError> {
    let entries: Vec<_> = children(op, ns::MESSAGES, "UnresolvedEntry").collect();
    match entries.as_slice() {
        [one] => Ok(ResolveNamesQuery {
            entry: one.text().unwrap_or_default().trim().to_owned(),
            return_full_contact_data: boolean(op.attribute("ReturnFullContactData")),
        }),
        [] => Err(schema(
            "The element 'ResolveNames' has incomplete content. List of possible elements expected: 'UnresolvedEntry'.",
        )),
        _ => Err(schema(
            "The element 'ResolveNames' in namespace 'http://schemas.microsoft.com/exchange/services/2006/messages' \
             has invalid child element 'UnresolvedEntry' in namespace \
             'http://schemas.microsoft.com/exchange/services/2006/messages'.",
        )),
    }
}

fn read_time_zones(op: Node) -> TimeZonesQuery {
    let ids = child(op, ns::MESSAGES, "Ids")
        .map(|ids| {
            children(ids, ns::TYPES, "Id")
                .filter_map(|n| n.text())
                .map(|s| s.trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    TimeZonesQuery {
        ids,
        full_data: op
            .attribute("ReturnFullTimeZoneData")
            .is_none_or(|v| boolean(Some(v))),
    }
}

fn read_convert_id(op: Node) -> Result<ConvertIdQuery, RequestError> {
    let source = child(op, ns::MESSAGES, "SourceIds")
        .ok_or_else(|| schema("m:ConvertId needs m:SourceIds"))?;
    let ids = source
        .children()
        .filter(|c| c.is_element())
        .map(|c| {
            (
                c.attribute("Id").unwrap_or_default().to_owned(),
                c.attribute("Format").unwrap_or_default().to_owned(),
                c.attribute("Mailbox").unwrap_or_default().to_owned(),
            )
        })
        .collect();
    Ok(ConvertIdQuery {
        destination_format: op
            .attribute("DestinationFormat")
            .unwrap_or_default()
            .to_owned(),
        ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED_GUA: &str = r#"<?xml version='1.0' encoding='utf-8'?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header><t:RequestServerVersion Version="Exchange2016"/><t:TimeZoneContext><t:TimeZoneDefinition Id="UTC"/></t:TimeZoneContext></s:Header><s:Body><m:GetUserAvailabilityRequest><t:TimeZone><t:Bias>0</t:Bias><t:StandardTime><t:Bias>0</t:Bias><t:Time>00:00:00</t:Time><t:DayOrder>1</t:DayOrder><t:Month>1</t:Month><t:DayOfWeek>Monday</t:DayOfWeek></t:StandardTime><t:DaylightTime><t:Bias>0</t:Bias><t:Time>00:00:00</t:Time><t:DayOrder>5</t:DayOrder><t:Month>12</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:DaylightTime></t:TimeZone><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>alice@example.com</t:Address><t:RoutingType>SMTP</t:RoutingType></t:Email><t:AttendeeType>Required</t:AttendeeType><t:ExcludeConflicts>0</t:ExcludeConflicts></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2025-06-02T00:00:00Z</t:StartTime><t:EndTime>2025-06-04T00:00:00Z</t:EndTime></t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>60</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>MergedOnly</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest></s:Body></s:Envelope>"#;

    #[test]
    fn reads_exchangelibs_availability_request() {
        let r = read_request(CAPTURED_GUA).expect("parses");
        assert_eq!(r.version.as_deref(), Some("Exchange2016"));
        assert_eq!(r.time_zone_context.as_deref(), Some("UTC"));
        let Operation::GetUserAvailability(q) = r.operation else {
            panic!("wrong operation")
        };
        assert_eq!(q.mailboxes.len(), 1);
        assert_eq!(q.mailboxes[0].address, "alice@example.com");
        let fb = q.free_busy.expect("free/busy options");
        assert_eq!(fb.requested_view, "MergedOnly");
        assert_eq!(fb.interval_minutes, Some(60));
        assert_eq!(
            fb.start,
            WindowTime::Instant("2025-06-02T00:00:00Z".parse().expect("ts"))
        );
        assert_eq!(q.time_zone.map(|t| t.bias_minutes), Some(0));
    }

    #[test]
    fn every_truncation_of_a_request_is_an_error_not_a_panic() {
        for end in 0..CAPTURED_GUA.len() {
            if let Some(prefix) = CAPTURED_GUA.get(..end) {
                assert!(
                    read_request(prefix).is_err(),
                    "prefix of {end} bytes parsed"
                );
            }
        }
        let mangled = CAPTURED_GUA
            .replace("2025-06-02T00:00:00Z", "yesterday")
            .replace("<t:Bias>0</t:Bias>", "<t:Bias>x</t:Bias>");
        assert!(matches!(
            read_request(&mangled),
            Err(RequestError::Schema(_))
        ));
    }

    #[test]
    fn refuses_dtds_and_schema_breaking_requests() {
        let dtd = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>"#;
        assert!(matches!(read_request(dtd), Err(RequestError::NotXml(_))));
        let two = CAPTURED_GUA.replace(
            "<m:GetUserAvailabilityRequest>",
            "<m:ResolveNames><m:UnresolvedEntry>a</m:UnresolvedEntry><m:UnresolvedEntry>b</m:UnresolvedEntry></m:ResolveNames><m:GetUserAvailabilityRequest>",
        );
        assert!(matches!(read_request(&two), Err(RequestError::Schema(_))));
        let tips = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Body><m:GetMailTips>All<m:SendingAs><t:EmailAddress>a@b.c</t:EmailAddress></m:SendingAs><m:Recipients><t:Mailbox><t:EmailAddress>a@b.c</t:EmailAddress></t:Mailbox></m:Recipients></m:GetMailTips></s:Body></s:Envelope>"#;
        assert!(matches!(read_request(tips), Err(RequestError::Schema(_))));
        assert_eq!(read_request("<a/>"), Err(RequestError::NotSoap));
    }
}
