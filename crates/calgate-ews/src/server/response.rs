//! Response writers: SOAP envelopes a simulated Exchange sends, written with quick-xml's
//! `Writer` (text and attributes are escaped by the writer, never by hand).
//!
//! Shapes follow Microsoft's schema (`ews-schema/`) and what the captured clients read: every
//! success envelope carries `t:ServerVersionInfo`; faults are SOAP 1.1 `s:Fault` with the code in
//! the types namespace and the detail in the errors namespace.

use std::io;

use calgate_core::{BusyType, SerializableTimeZone, TimeChange, Weekday, WorkingPeriod};
use jiff::Timestamp;
use jiff::civil::DateTime;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::versions::ServerBuild;
use super::zones::{KnownZone, bias_duration};
use crate::ns;

/// A small element-writing layer over quick-xml's `Writer`.
struct Xml {
    w: Writer<Vec<u8>>,
}

impl Xml {
    fn new(capacity: usize) -> Xml {
        Xml {
            w: Writer::new(Vec::with_capacity(capacity)),
        }
    }

    fn decl(&mut self) -> io::Result<()> {
        self.w
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))
    }

    fn open(&mut self, name: &str) -> io::Result<()> {
        self.w.write_event(Event::Start(BytesStart::new(name)))
    }

    fn open_with(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        let start = BytesStart::new(name).with_attributes(attrs.iter().copied());
        self.w.write_event(Event::Start(start))
    }

    fn empty_with(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        let start = BytesStart::new(name).with_attributes(attrs.iter().copied());
        self.w.write_event(Event::Empty(start))
    }

    fn close(&mut self, name: &str) -> io::Result<()> {
        self.w.write_event(Event::End(BytesEnd::new(name)))
    }

    fn text(&mut self, text: &str) -> io::Result<()> {
        self.w.write_event(Event::Text(BytesText::new(text)))
    }

    fn leaf(&mut self, name: &str, text: &str) -> io::Result<()> {
        self.open(name)?;
        if !text.is_empty() {
            self.text(text)?;
        }
        self.close(name)
    }

    fn leaf_with(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> io::Result<()> {
        self.open_with(name, attrs)?;
        self.text(text)?;
        self.close(name)
    }

    fn boolean(&mut self, name: &str, value: bool) -> io::Result<()> {
        self.leaf(name, if value { "true" } else { "false" })
    }

    fn finish(self) -> Vec<u8> {
        self.w.into_inner()
    }
}

/// Writes a success envelope: `ServerVersionInfo` header, then the body the closure writes.
fn envelope(
    build: &ServerBuild,
    capacity: usize,
    body: impl FnOnce(&mut Xml) -> io::Result<()>,
) -> io::Result<Vec<u8>> {
    let mut x = Xml::new(capacity);
    x.decl()?;
    x.open_with(
        "s:Envelope",
        &[
            ("xmlns:s", ns::SOAP_ENV),
            ("xmlns:m", ns::MESSAGES),
            ("xmlns:t", ns::TYPES),
        ],
    )?;
    x.open("s:Header")?;
    let (major, minor, major_build, minor_build) = (
        build.major.to_string(),
        build.minor.to_string(),
        build.major_build.to_string(),
        build.minor_build.to_string(),
    );
    let mut attrs = vec![
        ("MajorVersion", major.as_str()),
        ("MinorVersion", minor.as_str()),
        ("MajorBuildNumber", major_build.as_str()),
        ("MinorBuildNumber", minor_build.as_str()),
    ];
    if let Some(v) = build.version_attr {
        attrs.push(("Version", v));
    }
    x.empty_with("t:ServerVersionInfo", &attrs)?;
    x.close("s:Header")?;
    x.open("s:Body")?;
    body(&mut x)?;
    x.close("s:Body")?;
    x.close("s:Envelope")?;
    Ok(x.finish())
}

/// Extra content of a fault's `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultDetail {
    None,
    /// `t:MessageXml/t:Value Name="BackOffMilliseconds"` (ErrorServerBusy).
    BackOff {
        milliseconds: u64,
    },
    /// `t:MessageXml` with `t:LineNumber`, `t:LinePosition`, `t:Violation` (ErrorSchemaValidation).
    Schema {
        violation: String,
    },
    /// Name/value pairs in `t:MessageXml` (ErrorExceededConnectionCount policy values).
    Values(Vec<(String, String)>),
}

/// A SOAP fault, sent with HTTP 500.
pub fn write_fault(code: &str, message: &str, detail: &FaultDetail) -> io::Result<Vec<u8>> {
    let mut x = Xml::new(1024);
    x.decl()?;
    x.open_with("s:Envelope", &[("xmlns:s", ns::SOAP_ENV)])?;
    x.open("s:Body")?;
    x.open("s:Fault")?;
    x.leaf_with("faultcode", &[("xmlns:a", ns::TYPES)], &format!("a:{code}"))?;
    x.leaf_with("faultstring", &[("xml:lang", "en-US")], message)?;
    x.open("detail")?;
    x.leaf_with("e:ResponseCode", &[("xmlns:e", ns::ERRORS)], code)?;
    x.leaf_with("e:Message", &[("xmlns:e", ns::ERRORS)], message)?;
    match detail {
        FaultDetail::None => {}
        FaultDetail::BackOff { milliseconds } => {
            x.open_with("t:MessageXml", &[("xmlns:t", ns::TYPES)])?;
            x.leaf_with(
                "t:Value",
                &[("Name", "BackOffMilliseconds")],
                &milliseconds.to_string(),
            )?;
            x.close("t:MessageXml")?;
        }
        FaultDetail::Schema { violation } => {
            x.open_with("t:MessageXml", &[("xmlns:t", ns::TYPES)])?;
            x.leaf("t:LineNumber", "1")?;
            x.leaf("t:LinePosition", "1")?;
            x.leaf("t:Violation", violation)?;
            x.close("t:MessageXml")?;
        }
        FaultDetail::Values(values) => {
            x.open_with("t:MessageXml", &[("xmlns:t", ns::TYPES)])?;
            for (name, value) in values {
                x.leaf_with("t:Value", &[("Name", name.as_str())], value)?;
            }
            x.close("t:MessageXml")?;
        }
    }
    x.close("detail")?;
    x.close("s:Fault")?;
    x.close("s:Body")?;
    x.close("s:Envelope")?;
    Ok(x.finish())
}

/// A per-item error of a response message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemError<'a> {
    pub code: &'a str,
    pub message: &'a str,
}

fn response_message_head(x: &mut Xml, name: &str, error: Option<ItemError>) -> io::Result<()> {
    match error {
        None => {
            x.open_with(name, &[("ResponseClass", "Success")])?;
            x.leaf("m:ResponseCode", "NoError")
        }
        Some(e) => {
            x.open_with(name, &[("ResponseClass", "Error")])?;
            x.leaf("m:MessageText", e.message)?;
            x.leaf("m:ResponseCode", e.code)?;
            x.leaf("m:DescriptiveLinkKey", "0")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GetUserAvailability

/// `t:CalendarEventDetails` of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDetails<'a> {
    pub id: String,
    pub subject: Option<&'a str>,
    pub location: Option<&'a str>,
    pub is_meeting: bool,
    pub is_recurring: bool,
    pub is_private: bool,
}

/// One `t:CalendarEvent`, times already in the requester's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventOut<'a> {
    pub start: DateTime,
    pub end: DateTime,
    pub busy_type: BusyType,
    pub details: Option<EventDetails<'a>>,
}

/// `t:WorkingHours`: the mailbox owner's zone and periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingHoursOut<'a> {
    pub time_zone: &'a SerializableTimeZone,
    pub periods: &'a [WorkingPeriod],
}

/// One `m:FreeBusyView`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeBusyViewOut<'a> {
    /// The view actually served (`FreeBusy`, `Detailed`, `DetailedMerged`, …).
    pub view_type: &'a str,
    pub merged: Option<String>,
    /// `None` leaves out `t:CalendarEventArray` (MergedOnly).
    pub events: Option<Vec<EventOut<'a>>>,
    pub working_hours: Option<WorkingHoursOut<'a>>,
}

/// One `m:FreeBusyResponse`: a view, or an error in the mailbox's slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FreeBusySlot<'a> {
    View(FreeBusyViewOut<'a>),
    Error(ItemError<'a>),
}

fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn write_time_change(x: &mut Xml, name: &str, c: &TimeChange) -> io::Result<()> {
    x.open(name)?;
    x.leaf("t:Bias", &c.bias_minutes.to_string())?;
    let s = c.time_of_day_s;
    x.leaf(
        "t:Time",
        &format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60),
    )?;
    x.leaf("t:DayOrder", &c.day_order.to_string())?;
    x.leaf("t:Month", &c.month.to_string())?;
    x.leaf("t:DayOfWeek", weekday_name(c.day_of_week))?;
    if let Some(y) = c.year {
        x.leaf("t:Year", &y.to_string())?;
    }
    x.close(name)
}

/// Writes a `t:TimeZone`. Zones without daylight time get the placeholder rules Exchange and
/// exchangelib use (both biases 0), because the schema requires both elements.
fn write_serializable_tz(x: &mut Xml, tz: &SerializableTimeZone) -> io::Result<()> {
    let placeholder_std = TimeChange {
        bias_minutes: 0,
        time_of_day_s: 0,
        day_order: 1,
        month: 1,
        day_of_week: Weekday::Sun,
        year: None,
    };
    let placeholder_dst = TimeChange {
        month: 12,
        day_order: 5,
        ..placeholder_std.clone()
    };
    x.open("t:TimeZone")?;
    x.leaf("t:Bias", &tz.bias_minutes.to_string())?;
    write_time_change(
        x,
        "t:StandardTime",
        tz.standard.as_ref().unwrap_or(&placeholder_std),
    )?;
    write_time_change(
        x,
        "t:DaylightTime",
        tz.daylight.as_ref().unwrap_or(&placeholder_dst),
    )?;
    x.close("t:TimeZone")
}

fn write_view(x: &mut Xml, v: &FreeBusyViewOut) -> io::Result<()> {
    x.open("m:FreeBusyView")?;
    x.leaf("t:FreeBusyViewType", v.view_type)?;
    if let Some(m) = &v.merged {
        x.leaf("t:MergedFreeBusy", m)?;
    }
    if let Some(events) = v.events.as_ref().filter(|e| !e.is_empty()) {
        x.open("t:CalendarEventArray")?;
        for e in events {
            x.open("t:CalendarEvent")?;
            x.leaf("t:StartTime", &e.start.to_string())?;
            x.leaf("t:EndTime", &e.end.to_string())?;
            x.leaf("t:BusyType", e.busy_type.ews_name())?;
            if let Some(d) = &e.details {
                x.open("t:CalendarEventDetails")?;
                if !d.is_private {
                    x.leaf("t:ID", &d.id)?;
                    if let Some(s) = d.subject {
                        x.leaf("t:Subject", s)?;
                    }
                    if let Some(l) = d.location {
                        x.leaf("t:Location", l)?;
                    }
                }
                x.boolean("t:IsMeeting", d.is_meeting)?;
                x.boolean("t:IsRecurring", d.is_recurring)?;
                x.boolean("t:IsException", false)?;
                x.boolean("t:IsReminderSet", d.is_meeting)?;
                x.boolean("t:IsPrivate", d.is_private)?;
                x.close("t:CalendarEventDetails")?;
            }
            x.close("t:CalendarEvent")?;
        }
        x.close("t:CalendarEventArray")?;
    }
    if let Some(wh) = &v.working_hours {
        x.open("t:WorkingHours")?;
        write_serializable_tz(x, wh.time_zone)?;
        x.open("t:WorkingPeriodArray")?;
        for p in wh.periods {
            x.open("t:WorkingPeriod")?;
            let days: Vec<&str> = p.days.iter().map(|d| weekday_name(*d)).collect();
            x.leaf("t:DayOfWeek", &days.join(" "))?;
            x.leaf("t:StartTimeInMinutes", &p.start_minute.to_string())?;
            x.leaf("t:EndTimeInMinutes", &p.end_minute.to_string())?;
            x.close("t:WorkingPeriod")?;
        }
        x.close("t:WorkingPeriodArray")?;
        x.close("t:WorkingHours")?;
    }
    x.close("m:FreeBusyView")
}

/// `m:GetUserAvailabilityResponse` with one slot per requested mailbox, in request order.
/// `suggestions` adds a `m:SuggestionsResponse` that says suggestions are not served.
pub fn write_availability(
    build: &ServerBuild,
    slots: &[FreeBusySlot],
    suggestions: bool,
) -> io::Result<Vec<u8>> {
    envelope(build, 512 + slots.len() * 1500, |x| {
        x.open("m:GetUserAvailabilityResponse")?;
        if !slots.is_empty() {
            x.open("m:FreeBusyResponseArray")?;
            for slot in slots {
                x.open("m:FreeBusyResponse")?;
                match slot {
                    FreeBusySlot::View(v) => {
                        response_message_head(x, "m:ResponseMessage", None)?;
                        x.close("m:ResponseMessage")?;
                        write_view(x, v)?;
                    }
                    FreeBusySlot::Error(e) => {
                        response_message_head(x, "m:ResponseMessage", Some(*e))?;
                        x.close("m:ResponseMessage")?;
                        x.open("m:FreeBusyView")?;
                        x.leaf("t:FreeBusyViewType", "None")?;
                        x.close("m:FreeBusyView")?;
                    }
                }
                x.close("m:FreeBusyResponse")?;
            }
            x.close("m:FreeBusyResponseArray")?;
        }
        if suggestions {
            x.open("m:SuggestionsResponse")?;
            response_message_head(
                x,
                "m:ResponseMessage",
                Some(ItemError {
                    code: "ErrorProxyRequestProcessingFailed",
                    message: "Meeting suggestions are not available on this server.",
                }),
            )?;
            x.close("m:ResponseMessage")?;
            x.close("m:SuggestionsResponse")?;
        }
        x.close("m:GetUserAvailabilityResponse")
    })
}

// ---------------------------------------------------------------------------------------------
// GetMailTips

/// The out-of-office part of a mail tip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OofTip<'a> {
    /// The automatic reply (HTML); empty when none is set.
    pub message: &'a str,
    /// Present for scheduled out-of-office.
    pub duration: Option<(Timestamp, Timestamp)>,
}

/// One recipient's `m:MailTips`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTipOut<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub out_of_office: Option<OofTip<'a>>,
    pub invalid_recipient: Option<bool>,
}

fn utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `m:GetMailTipsResponse`.
pub fn write_mail_tips(build: &ServerBuild, tips: &[MailTipOut]) -> io::Result<Vec<u8>> {
    envelope(build, 512 + tips.len() * 600, |x| {
        x.open_with("m:GetMailTipsResponse", &[("ResponseClass", "Success")])?;
        x.leaf("m:ResponseCode", "NoError")?;
        x.open("m:ResponseMessages")?;
        for tip in tips {
            response_message_head(x, "m:MailTipsResponseMessageType", None)?;
            x.open("m:MailTips")?;
            x.open("t:RecipientAddress")?;
            x.leaf("t:Name", tip.name)?;
            x.leaf("t:EmailAddress", tip.email)?;
            x.leaf("t:RoutingType", "SMTP")?;
            x.close("t:RecipientAddress")?;
            x.empty_with("t:PendingMailTips", &[])?;
            if let Some(oof) = &tip.out_of_office {
                x.open("t:OutOfOffice")?;
                if oof.message.is_empty() {
                    x.open("t:ReplyBody")?;
                    x.empty_with("t:Message", &[])?;
                    x.close("t:ReplyBody")?;
                } else {
                    x.open_with("t:ReplyBody", &[("xml:lang", "en-US")])?;
                    x.leaf("t:Message", oof.message)?;
                    x.close("t:ReplyBody")?;
                }
                if let Some((start, end)) = oof.duration {
                    x.open("t:Duration")?;
                    x.leaf("t:StartTime", &utc(start))?;
                    x.leaf("t:EndTime", &utc(end))?;
                    x.close("t:Duration")?;
                }
                x.close("t:OutOfOffice")?;
            }
            if let Some(invalid) = tip.invalid_recipient {
                x.boolean("t:InvalidRecipient", invalid)?;
            }
            x.close("m:MailTips")?;
            x.close("m:MailTipsResponseMessageType")?;
        }
        x.close("m:ResponseMessages")?;
        x.close("m:GetMailTipsResponse")
    })
}

// ---------------------------------------------------------------------------------------------
// ResolveNames

/// One resolved directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolutionOut<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub given_name: &'a str,
    pub surname: &'a str,
    /// `Mailbox` for people, `Mailbox` too for rooms (Exchange reports rooms as mailboxes).
    pub mailbox_type: &'a str,
}

/// `m:ResolveNamesResponse`: no match is an error; several are a warning carrying them all.
pub fn write_resolve_names(
    build: &ServerBuild,
    resolutions: &[ResolutionOut],
    full_contact: bool,
) -> io::Result<Vec<u8>> {
    envelope(build, 512 + resolutions.len() * 700, |x| {
        x.open("m:ResolveNamesResponse")?;
        x.open("m:ResponseMessages")?;
        match resolutions.len() {
            0 => {
                response_message_head(
                    x,
                    "m:ResolveNamesResponseMessage",
                    Some(ItemError {
                        code: "ErrorNameResolutionNoResults",
                        message: "No results were found.",
                    }),
                )?;
                x.close("m:ResolveNamesResponseMessage")?;
            }
            n => {
                if n == 1 {
                    response_message_head(x, "m:ResolveNamesResponseMessage", None)?;
                } else {
                    x.open_with(
                        "m:ResolveNamesResponseMessage",
                        &[("ResponseClass", "Warning")],
                    )?;
                    x.leaf("m:MessageText", "Multiple results were found.")?;
                    x.leaf("m:ResponseCode", "ErrorNameResolutionMultipleResults")?;
                    x.leaf("m:DescriptiveLinkKey", "0")?;
                }
                let total = n.to_string();
                x.open_with(
                    "m:ResolutionSet",
                    &[
                        ("TotalItemsInView", total.as_str()),
                        ("IncludesLastItemInRange", "true"),
                    ],
                )?;
                for r in resolutions {
                    x.open("t:Resolution")?;
                    x.open("t:Mailbox")?;
                    x.leaf("t:Name", r.name)?;
                    x.leaf("t:EmailAddress", r.email)?;
                    x.leaf("t:RoutingType", "SMTP")?;
                    x.leaf("t:MailboxType", r.mailbox_type)?;
                    x.close("t:Mailbox")?;
                    if full_contact {
                        x.open("t:Contact")?;
                        x.leaf("t:DisplayName", r.name)?;
                        x.leaf("t:GivenName", r.given_name)?;
                        x.open("t:EmailAddresses")?;
                        x.leaf_with(
                            "t:Entry",
                            &[("Key", "EmailAddress1")],
                            &format!("SMTP:{}", r.email),
                        )?;
                        x.close("t:EmailAddresses")?;
                        x.leaf("t:ContactSource", "ActiveDirectory")?;
                        x.leaf("t:Surname", r.surname)?;
                        x.close("t:Contact")?;
                    }
                    x.close("t:Resolution")?;
                }
                x.close("m:ResolutionSet")?;
                x.close("m:ResolveNamesResponseMessage")?;
            }
        }
        x.close("m:ResponseMessages")?;
        x.close("m:ResolveNamesResponse")
    })
}

// ---------------------------------------------------------------------------------------------
// GetServerTimeZones

fn write_zone_definition(x: &mut Xml, z: &KnownZone, full: bool) -> io::Result<()> {
    x.open_with(
        "t:TimeZoneDefinition",
        &[("Name", z.display_name), ("Id", z.id)],
    )?;
    if full {
        let period_id = |kind: &str| format!("trule:Microsoft/Registry/{}/2006-{kind}", z.id);
        let std_id = period_id("Standard");
        let dst_id = period_id("Daylight");
        x.open("t:Periods")?;
        x.empty_with(
            "t:Period",
            &[
                ("Bias", &bias_duration(z.bias)),
                ("Name", "Standard"),
                ("Id", &std_id),
            ],
        )?;
        if z.dst.is_some() {
            x.empty_with(
                "t:Period",
                &[
                    ("Bias", &bias_duration(z.bias - 60)),
                    ("Name", "Daylight"),
                    ("Id", &dst_id),
                ],
            )?;
        }
        x.close("t:Periods")?;
        x.open("t:TransitionsGroups")?;
        x.open_with("t:TransitionsGroup", &[("Id", "0")])?;
        match z.dst {
            Some((to_std, to_dst)) => {
                for (rule, target) in [(to_dst, &dst_id), (to_std, &std_id)] {
                    x.open("t:RecurringDayTransition")?;
                    x.leaf_with("t:To", &[("Kind", "Period")], target)?;
                    x.leaf("t:TimeOffset", &format!("PT{}H", rule.time_s / 3600))?;
                    x.leaf("t:Month", &rule.month.to_string())?;
                    x.leaf("t:DayOfWeek", weekday_name(rule.day_of_week))?;
                    let occurrence = if rule.day_order >= 5 {
                        "-1".to_owned()
                    } else {
                        rule.day_order.to_string()
                    };
                    x.leaf("t:Occurrence", &occurrence)?;
                    x.close("t:RecurringDayTransition")?;
                }
            }
            None => {
                x.open("t:Transition")?;
                x.leaf_with("t:To", &[("Kind", "Period")], &std_id)?;
                x.close("t:Transition")?;
            }
        }
        x.close("t:TransitionsGroup")?;
        x.close("t:TransitionsGroups")?;
        x.open("t:Transitions")?;
        x.open("t:Transition")?;
        x.leaf_with("t:To", &[("Kind", "Group")], "0")?;
        x.close("t:Transition")?;
        x.close("t:Transitions")?;
    }
    x.close("t:TimeZoneDefinition")
}

/// `m:GetServerTimeZonesResponse`. `zones` holds the found zones; an unknown id in `missing`
/// turns the message into an error, as Exchange does for a bad id.
pub fn write_server_time_zones(
    build: &ServerBuild,
    zones: &[&KnownZone],
    full: bool,
    missing: Option<&str>,
) -> io::Result<Vec<u8>> {
    envelope(build, 1024 + zones.len() * 1500, |x| {
        x.open("m:GetServerTimeZonesResponse")?;
        x.open("m:ResponseMessages")?;
        match missing {
            Some(id) => {
                let message = format!("The time zone id '{id}' is not valid.");
                response_message_head(
                    x,
                    "m:GetServerTimeZonesResponseMessage",
                    Some(ItemError {
                        code: "ErrorTimeZone",
                        message: &message,
                    }),
                )?;
            }
            None => {
                response_message_head(x, "m:GetServerTimeZonesResponseMessage", None)?;
                x.open("m:TimeZoneDefinitions")?;
                for z in zones {
                    write_zone_definition(x, z, full)?;
                }
                x.close("m:TimeZoneDefinitions")?;
            }
        }
        x.close("m:GetServerTimeZonesResponseMessage")?;
        x.close("m:ResponseMessages")?;
        x.close("m:GetServerTimeZonesResponse")
    })
}

// ---------------------------------------------------------------------------------------------
// ConvertId and GetUserOofSettings

/// `m:ConvertIdResponse` in which every id is reported malformed (the server issues no ids that
/// clients convert; exchangelib uses this call only to learn the server version).
pub fn write_convert_id_malformed(build: &ServerBuild, count: usize) -> io::Result<Vec<u8>> {
    envelope(build, 512 + count * 300, |x| {
        x.open("m:ConvertIdResponse")?;
        x.open("m:ResponseMessages")?;
        for _ in 0..count.max(1) {
            response_message_head(
                x,
                "m:ConvertIdResponseMessage",
                Some(ItemError {
                    code: "ErrorInvalidIdMalformed",
                    message: "Id is malformed.",
                }),
            )?;
            x.close("m:ConvertIdResponseMessage")?;
        }
        x.close("m:ResponseMessages")?;
        x.close("m:ConvertIdResponse")
    })
}

/// A mailbox's automatic-reply settings for `GetUserOofSettingsResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OofSettingsOut<'a> {
    /// `Disabled`, `Enabled` or `Scheduled`.
    pub state: &'a str,
    pub start: Timestamp,
    pub end: Timestamp,
    pub reply: &'a str,
}

/// `m:GetUserOofSettingsResponse` (or an error such as ErrorMailRecipientNotFound).
pub fn write_oof_settings(
    build: &ServerBuild,
    result: Result<&OofSettingsOut, ItemError>,
) -> io::Result<Vec<u8>> {
    envelope(build, 1024, |x| {
        x.open("m:GetUserOofSettingsResponse")?;
        match result {
            Err(e) => {
                response_message_head(x, "m:ResponseMessage", Some(e))?;
                x.close("m:ResponseMessage")?;
            }
            Ok(s) => {
                response_message_head(x, "m:ResponseMessage", None)?;
                x.close("m:ResponseMessage")?;
                x.open("t:OofSettings")?;
                x.leaf("t:OofState", s.state)?;
                x.leaf("t:ExternalAudience", "All")?;
                x.open("t:Duration")?;
                x.leaf("t:StartTime", &utc(s.start))?;
                x.leaf("t:EndTime", &utc(s.end))?;
                x.close("t:Duration")?;
                for name in ["t:InternalReply", "t:ExternalReply"] {
                    x.open(name)?;
                    x.leaf("t:Message", s.reply)?;
                    x.close(name)?;
                }
                x.close("t:OofSettings")?;
                x.leaf("m:AllowExternalOof", "All")?;
            }
        }
        x.close("m:GetUserOofSettingsResponse")
    })
}
