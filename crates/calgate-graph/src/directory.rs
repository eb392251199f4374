//! The directory a watch list is synced from: `GET /users/delta` (the initial round lists every
//! user in pages, its last page carries an `@odata.deltaLink`; a later call with that link lists
//! what changed since, removed users as `{"id", "@removed": {"reason"}}`) and
//! `GET /groups/{id}/transitiveMembers` (a group's members with nested groups flattened; users
//! carry `"@odata.type": "#microsoft.graph.user"`), both with a `$select` of the properties the
//! directory's attribute names need.
//!
//! Both halves: the client's selection, page reader and attribute lookup, and the object and
//! page writers calgate-sim serves with. A page's objects are kept as JSON objects and read
//! through accessors that take a value of the wrong type as absent, so one odd user cannot throw
//! away a page; an element that is not an object, or has no `id`, is counted as unreadable.

use serde_json::{Map, Value};

use crate::error::ServiceError;
use crate::schedule::ReadError;

/// The largest page read (a page of 999 users with every property is well under 2 MiB).
pub const MAX_DIRECTORY_PAGE_BYTES: usize = 16 * 1024 * 1024;

/// `$top` for `transitiveMembers`: Graph's largest page (its default is 100).
pub const MAX_MEMBERS_PAGE_SIZE: usize = 999;

/// The metadata root `@odata.context` is written under.
pub const METADATA_ROOT: &str = "https://graph.microsoft.com/v1.0/$metadata";

/// `@odata.type` of the objects a group's members can be.
pub const USER_TYPE: &str = "#microsoft.graph.user";
pub const GROUP_TYPE: &str = "#microsoft.graph.group";
pub const ORG_CONTACT_TYPE: &str = "#microsoft.graph.orgContact";

/// Graph's error code when a delta token is no longer accepted (identity resources answer 400
/// with it; other resources answer 410 Gone): the client must synchronize in full again.
pub const SYNC_STATE_NOT_FOUND: &str = "syncStateNotFound";
pub const SYNC_STATE_NOT_FOUND_MESSAGE: &str = "The sync state generation is not found. The delta token is expired and data must be synchronized again.";

/// The user properties the simulator serves (and so can select); `onPremisesExtensionAttributes`
/// holds `extensionAttribute1`…`extensionAttribute15`.
pub const USER_PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "mail",
    "userPrincipalName",
    "givenName",
    "surname",
    "businessPhones",
    "mobilePhone",
    "accountEnabled",
    "onPremisesExtensionAttributes",
    "jobTitle",
    "department",
    "officeLocation",
    "companyName",
    "preferredLanguage",
];

/// What Graph answers for a user when no `$select` is given.
pub const DEFAULT_USER_PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "mail",
    "userPrincipalName",
    "givenName",
    "surname",
    "businessPhones",
    "mobilePhone",
    "jobTitle",
    "officeLocation",
    "preferredLanguage",
];

const EXTENSION_ATTRIBUTES: &str = "onPremisesExtensionAttributes";

/// Where a directory attribute name is read on a user object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserAttribute {
    /// A property of the user: a string, or a list of strings whose first non-blank value is
    /// taken (`businessPhones`).
    Property(String),
    /// `onPremisesExtensionAttributes.extensionAttributeN` (1–15), synced from Active
    /// Directory.
    Extension(u8),
}

impl UserAttribute {
    /// `extensionAttribute1`…`extensionAttribute15` (any case) read the on-premises extension
    /// attributes; any other name is a property of that name.
    pub fn parse(name: &str) -> UserAttribute {
        let name = name.trim();
        let number = name
            .get(..18)
            .filter(|p| p.eq_ignore_ascii_case("extensionAttribute"))
            .and_then(|_| name.get(18..))
            .filter(|n| !n.starts_with('0'))
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| (1..=15).contains(n));
        match number {
            Some(n) => UserAttribute::Extension(n),
            None => UserAttribute::Property(name.to_owned()),
        }
    }

    /// The property `$select` must name to read it.
    pub fn property(&self) -> &str {
        match self {
            UserAttribute::Property(p) => p,
            UserAttribute::Extension(_) => EXTENSION_ATTRIBUTES,
        }
    }
}

/// A `$select`: property names, each once (case-insensitively), in the order first named.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection(Vec<String>);

impl Selection {
    /// What a directory read needs: `id` and `accountEnabled`, and the property behind each
    /// attribute.
    pub fn for_attributes<'a>(
        attributes: impl IntoIterator<Item = &'a UserAttribute>,
    ) -> Selection {
        let mut s = Selection::default();
        s.add("id");
        s.add("accountEnabled");
        for a in attributes {
            s.add(a.property());
        }
        s
    }

    /// A `$select` value as sent (`id,mail,displayName`); blanks are dropped.
    pub fn parse(select: &str) -> Selection {
        let mut s = Selection::default();
        for p in select.split(',') {
            s.add(p.trim());
        }
        s
    }

    /// Graph's default properties of a user.
    pub fn default_user() -> Selection {
        let mut s = Selection::default();
        for p in DEFAULT_USER_PROPERTIES {
            s.add(p);
        }
        s
    }

    fn add(&mut self, property: &str) {
        if !property.is_empty() && !self.contains(property) {
            self.0.push(property.to_owned());
        }
    }

    pub fn contains(&self, property: &str) -> bool {
        self.0.iter().any(|p| p.eq_ignore_ascii_case(property))
    }

    pub fn properties(&self) -> &[String] {
        &self.0
    }

    /// The `$select` query value.
    pub fn query_value(&self) -> String {
        self.0.join(",")
    }

    /// The first property a user cannot have (the simulator's 400), if any.
    pub fn unknown_user_property(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|p| !USER_PROPERTIES.iter().any(|k| k.eq_ignore_ascii_case(p)))
            .map(String::as_str)
    }
}

/// Why Graph removed an object from a delta's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovedReason {
    /// Deleted (restorable for 30 days) or no longer matching.
    Changed,
    /// Deleted for good.
    Deleted,
}

impl RemovedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RemovedReason::Changed => "changed",
            RemovedReason::Deleted => "deleted",
        }
    }
}

/// One object of a directory page: a user, a removal, or (in a group's members) a group,
/// contact or device. Read through accessors; a value of the wrong type reads as absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryObject(Map<String, Value>);

impl DirectoryObject {
    pub fn id(&self) -> Option<&str> {
        self.str_field("id").filter(|s| !s.trim().is_empty())
    }

    /// `@odata.type`, present on the members of a group.
    pub fn odata_type(&self) -> Option<&str> {
        self.str_field("@odata.type")
    }

    /// A user: untyped (the users collection and its delta), or typed as one.
    pub fn is_user(&self) -> bool {
        self.0.get("@odata.type").is_none_or(|t| {
            t.as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case(USER_TYPE))
        })
    }

    /// `@removed`: the object left the result. An unknown reason reads as `Changed`.
    pub fn removed(&self) -> Option<RemovedReason> {
        let removed = self.0.get("@removed")?;
        let reason = removed.get("reason").and_then(Value::as_str);
        Some(match reason {
            Some(r) if r.eq_ignore_ascii_case("deleted") => RemovedReason::Deleted,
            _ => RemovedReason::Changed,
        })
    }

    /// `accountEnabled`, when selected and a boolean.
    pub fn account_enabled(&self) -> Option<bool> {
        self.0.get("accountEnabled").and_then(Value::as_bool)
    }

    /// The attribute's value, trimmed; blank reads as absent.
    pub fn attribute(&self, attribute: &UserAttribute) -> Option<String> {
        let value = match attribute {
            UserAttribute::Property(name) => self.field(name)?,
            UserAttribute::Extension(n) => {
                let key = format!("extensionAttribute{n}");
                let attrs = self.field(EXTENSION_ATTRIBUTES)?.as_object()?;
                attrs
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&key))
                    .map(|(_, v)| v)?
            }
        };
        match value {
            Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned),
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::trim)
                .find(|s| !s.is_empty())
                .map(str::to_owned),
            _ => None,
        }
    }

    /// A property by name; Graph's names are camel case, matched here without regard to case.
    fn field(&self, name: &str) -> Option<&Value> {
        self.0.get(name).or_else(|| {
            self.0
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    }

    fn str_field(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// The JSON object as written.
    pub fn as_json(&self) -> &Map<String, Value> {
        &self.0
    }
}

/// A user as the directory holds it: what the simulator writes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub display_name: Option<String>,
    /// `None`: an account without a mailbox address (Graph's `"mail": null`).
    pub mail: Option<String>,
    pub user_principal_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub business_phones: Vec<String>,
    pub mobile_phone: Option<String>,
    pub account_enabled: bool,
    /// `extensionAttribute1`…`15` by number (index 0 is `extensionAttribute1`).
    pub extension_attributes: [Option<String>; 15],
    pub department: Option<String>,
}

fn opt(v: Option<&String>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.clone()))
}

impl DirectoryObject {
    /// A user with the selected properties (always its `id`); `typed` adds `@odata.type`, as
    /// a group's members carry it.
    pub fn user(user: &UserRecord, selection: &Selection, typed: bool) -> DirectoryObject {
        let mut m = Map::new();
        if typed {
            m.insert("@odata.type".into(), USER_TYPE.into());
        }
        for property in selection.properties() {
            let Some(name) = USER_PROPERTIES
                .iter()
                .find(|k| k.eq_ignore_ascii_case(property))
            else {
                continue;
            };
            let value = match *name {
                "id" => Value::String(user.id.clone()),
                "displayName" => opt(user.display_name.as_ref()),
                "mail" => opt(user.mail.as_ref()),
                "userPrincipalName" => opt(user.user_principal_name.as_ref()),
                "givenName" => opt(user.given_name.as_ref()),
                "surname" => opt(user.surname.as_ref()),
                "businessPhones" => Value::Array(
                    user.business_phones
                        .iter()
                        .map(|p| Value::String(p.clone()))
                        .collect(),
                ),
                "mobilePhone" => opt(user.mobile_phone.as_ref()),
                "accountEnabled" => Value::Bool(user.account_enabled),
                "onPremisesExtensionAttributes" => Value::Object(
                    user.extension_attributes
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (format!("extensionAttribute{}", i + 1), opt(v.as_ref())))
                        .collect(),
                ),
                "department" => opt(user.department.as_ref()),
                _ => Value::Null,
            };
            m.insert((*name).to_owned(), value);
        }
        m.entry("id")
            .or_insert_with(|| Value::String(user.id.clone()));
        DirectoryObject(m)
    }

    /// A removal in a delta: `{"id", "@removed": {"reason"}}`.
    pub fn removal(id: &str, reason: RemovedReason) -> DirectoryObject {
        let mut m = Map::new();
        m.insert("id".into(), id.into());
        let mut r = Map::new();
        r.insert("reason".into(), reason.as_str().into());
        m.insert("@removed".into(), Value::Object(r));
        DirectoryObject(m)
    }

    /// A member that is not a user: a group or an organizational contact, with `id`,
    /// `displayName` and (contacts) `mail`.
    pub fn other(odata_type: &str, id: &str, name: &str, mail: Option<&str>) -> DirectoryObject {
        let mut m = Map::new();
        m.insert("@odata.type".into(), odata_type.into());
        m.insert("id".into(), id.into());
        m.insert("displayName".into(), name.into());
        if let Some(mail) = mail {
            m.insert("mail".into(), mail.into());
        }
        DirectoryObject(m)
    }
}

/// One page of `/users`, `/users/delta` or `/groups/{id}/transitiveMembers`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DirectoryPage {
    pub context: Option<String>,
    pub objects: Vec<DirectoryObject>,
    /// Elements of `value` that were not objects or had no `id`.
    pub unreadable: usize,
    /// More pages of this round.
    pub next_link: Option<String>,
    /// The round is complete; where the next round starts (delta only).
    pub delta_link: Option<String>,
}

impl DirectoryPage {
    /// `@odata.context` of a users collection with a selection (`…$metadata#users(id,mail)`).
    pub fn users_context(selection: &Selection) -> String {
        format!("{METADATA_ROOT}#users({})", selection.query_value())
    }

    /// `@odata.context` of a collection of directory objects (a group's members).
    pub fn directory_objects_context() -> String {
        format!("{METADATA_ROOT}#directoryObjects")
    }

    /// Reads a page. A page without a `value` array, or with both a next and a delta link (Graph
    /// never writes both), is malformed; a link of the wrong type reads as absent.
    pub fn read(body: &[u8]) -> Result<DirectoryPage, ReadError> {
        let root: Map<String, Value> =
            crate::schedule::read_capped(body, MAX_DIRECTORY_PAGE_BYTES)?;
        let link = |name: &str| root.get(name).and_then(Value::as_str).map(str::to_owned);
        let Some(Value::Array(items)) = root.get("value") else {
            return Err(ReadError::no_value());
        };
        let mut page = DirectoryPage {
            context: link("@odata.context"),
            next_link: link("@odata.nextLink"),
            delta_link: link("@odata.deltaLink"),
            ..DirectoryPage::default()
        };
        if page.next_link.is_some() && page.delta_link.is_some() {
            return Err(ReadError::Malformed(
                "a page with both a next link and a delta link".to_owned(),
            ));
        }
        for item in items {
            match item {
                Value::Object(m) => {
                    let object = DirectoryObject(m.clone());
                    if object.id().is_some() {
                        page.objects.push(object);
                    } else {
                        page.unreadable += 1;
                    }
                }
                _ => page.unreadable += 1,
            }
        }
        Ok(page)
    }

    /// The page as Graph writes it.
    pub fn to_json(&self) -> String {
        let mut root = Map::new();
        if let Some(c) = &self.context {
            root.insert("@odata.context".into(), c.as_str().into());
        }
        if let Some(l) = &self.next_link {
            root.insert("@odata.nextLink".into(), l.as_str().into());
        }
        if let Some(l) = &self.delta_link {
            root.insert("@odata.deltaLink".into(), l.as_str().into());
        }
        root.insert(
            "value".into(),
            Value::Array(
                self.objects
                    .iter()
                    .map(|o| Value::Object(o.0.clone()))
                    .collect(),
            ),
        );
        serde_json::to_string(&Value::Object(root)).unwrap_or_default()
    }
}

/// Whether an error answer says the delta token is no longer accepted and a full
/// synchronization must start again: 410 Gone, or 400 with `syncStateNotFound` (or the
/// `resyncRequired` family some resources use).
pub fn is_sync_reset(error: &ServiceError) -> bool {
    let code = error.graph_code.as_deref().unwrap_or("");
    error.status == 410
        || (error.status == 400
            && (code.eq_ignore_ascii_case(SYNC_STATE_NOT_FOUND)
                || code.to_ascii_lowercase().starts_with("resyncrequired")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(json: &str) -> DirectoryPage {
        DirectoryPage::read(json.as_bytes()).expect("page reads")
    }

    /// The users-delta documentation's initial page, shortened.
    const DOC_INITIAL: &str = r#"{
      "@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(displayName,givenName,surname)",
      "@odata.nextLink":"https://graph.microsoft.com/v1.0/users/delta?$skiptoken=oEBwdSP6uehIAxQOWq_3Ksh_TLol6KIm3stvdc6hGhZRi1hQ7Spe__dpvm3U4zReE4CYXC2zOtaKdi7KHlUtC2CbRiBIUwOxPKLa",
      "value": [
        {"displayName":"Testuser1","givenName":"John","surname":"Doe","id":"ffff7b1a-13b6-477b-8c0c-380905cd99f7"},
        {"displayName":"Testuser3","givenName":"Jane","surname":"Doe","id":"5aa4fe6b-fa87-4d45-8be1-e2e7c1d4e1b2"}
      ]
    }"#;

    /// A delta round's last page: a change, two removals and the next delta link.
    const DOC_CHANGES: &str = r#"{
      "@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(displayName,mail,accountEnabled)",
      "@odata.deltaLink":"https://graph.microsoft.com/v1.0/users/delta?$deltatoken=oEcOySpF_hWYmTIUZBOIfPzcwisr_rPe8o9M54L45qEXQGmvQC6T2dbL-9O7nSU-njKhFiGlAZqewNAThmCVnNxqPu5gOBegrm1CaVZ-ZtFZ2tPOAO98OD9y0ao460",
      "value": [
        {"id":"ffff7b1a-13b6-477b-8c0c-380905cd99f7","displayName":"Anna Rossi","mail":"Anna.Rossi@contoso.com","accountEnabled":true},
        {"id":"5aa4fe6b-fa87-4d45-8be1-e2e7c1d4e1b2","@removed":{"reason":"changed"}},
        {"id":"0aa4fe6b-fa87-4d45-8be1-e2e7c1d4e1b3","@removed":{"reason":"deleted"}}
      ]
    }"#;

    #[test]
    fn the_documented_pages_read() {
        let p = page(DOC_INITIAL);
        assert_eq!(p.objects.len(), 2);
        assert!(
            p.next_link
                .as_deref()
                .is_some_and(|l| l.contains("$skiptoken="))
        );
        assert_eq!(p.delta_link, None);
        assert!(p.objects.iter().all(DirectoryObject::is_user));
        assert_eq!(
            p.objects[0].attribute(&UserAttribute::parse("displayName")),
            Some("Testuser1".into())
        );

        let p = page(DOC_CHANGES);
        assert_eq!(p.next_link, None);
        assert!(
            p.delta_link
                .as_deref()
                .is_some_and(|l| l.contains("$deltatoken="))
        );
        let removed: Vec<_> = p.objects.iter().map(DirectoryObject::removed).collect();
        assert_eq!(
            removed,
            [
                None,
                Some(RemovedReason::Changed),
                Some(RemovedReason::Deleted)
            ]
        );
        assert_eq!(p.objects[0].account_enabled(), Some(true));
        assert_eq!(
            p.objects[0].attribute(&UserAttribute::parse("mail")),
            Some("Anna.Rossi@contoso.com".into())
        );
    }

    #[test]
    fn bad_items_are_counted_not_fatal() {
        let p = page(
            r#"{"value": [
              42, "x", null, {"displayName": "no id"}, {"id": "  "},
              {"id": "a", "mail": 7, "accountEnabled": "yes", "businessPhones": "123"},
              {"id": "b", "@removed": "odd"}
            ]}"#,
        );
        assert_eq!(p.unreadable, 5);
        assert_eq!(p.objects.len(), 2);
        let a = &p.objects[0];
        assert_eq!(a.attribute(&UserAttribute::parse("mail")), None);
        assert_eq!(a.account_enabled(), None);
        // A string where a list is expected still reads.
        assert_eq!(
            a.attribute(&UserAttribute::parse("businessPhones")),
            Some("123".into())
        );
        assert_eq!(p.objects[1].removed(), Some(RemovedReason::Changed));
    }

    #[test]
    fn broken_pages_are_refused() {
        assert!(DirectoryPage::read(b"{}").is_err());
        assert!(DirectoryPage::read(b"[]").is_err());
        assert!(DirectoryPage::read(b"{\"value\": {}}").is_err());
        assert!(DirectoryPage::read(b"not json").is_err());
        assert!(
            DirectoryPage::read(
                br#"{"value": [], "@odata.nextLink": "https://a/x", "@odata.deltaLink": "https://a/y"}"#
            )
            .is_err()
        );
        // A link of the wrong type is no link.
        assert_eq!(
            page(r#"{"value": [], "@odata.nextLink": 5}"#).next_link,
            None
        );
        let huge = vec![b' '; MAX_DIRECTORY_PAGE_BYTES + 1];
        assert!(matches!(
            DirectoryPage::read(&huge),
            Err(ReadError::TooLarge { .. })
        ));
    }

    #[test]
    fn attributes_read_phones_and_extension_attributes() {
        let p = page(
            r#"{"value": [{
              "id": "u1",
              "businessPhones": ["", " +39 02 1234 ", "+39 02 9999"],
              "mobilePhone": "+39 333 1234567",
              "onPremisesExtensionAttributes": {"extensionAttribute1": null, "extensionAttribute7": " 4711 ", "extensionAttribute15": "online"},
              "department": "Sales"
            }]}"#,
        );
        let u = &p.objects[0];
        let read = |name: &str| u.attribute(&UserAttribute::parse(name));
        assert_eq!(read("businessPhones").as_deref(), Some("+39 02 1234"));
        assert_eq!(read("mobilePhone").as_deref(), Some("+39 333 1234567"));
        assert_eq!(read("extensionAttribute7").as_deref(), Some("4711"));
        assert_eq!(read("ExtensionAttribute15").as_deref(), Some("online"));
        assert_eq!(read("extensionAttribute1"), None);
        assert_eq!(read("extensionAttribute2"), None);
        assert_eq!(read("department").as_deref(), Some("Sales"));
        assert_eq!(read("jobTitle"), None);
    }

    #[test]
    fn attribute_names_parse() {
        assert_eq!(
            UserAttribute::parse("extensionAttribute1"),
            UserAttribute::Extension(1)
        );
        assert_eq!(
            UserAttribute::parse("extensionattribute15"),
            UserAttribute::Extension(15)
        );
        for name in [
            "extensionAttribute0",
            "extensionAttribute16",
            "extensionAttribute01",
            "extensionAttribute",
        ] {
            assert_eq!(
                UserAttribute::parse(name),
                UserAttribute::Property(name.into()),
                "{name}"
            );
        }
        assert_eq!(
            UserAttribute::parse("businessPhones").property(),
            "businessPhones"
        );
        assert_eq!(
            UserAttribute::parse("extensionAttribute3").property(),
            "onPremisesExtensionAttributes"
        );
    }

    #[test]
    fn the_selection_names_each_property_once() {
        let attrs = [
            UserAttribute::parse("mail"),
            UserAttribute::parse("displayName"),
            UserAttribute::parse("extensionAttribute2"),
            UserAttribute::parse("extensionAttribute9"),
            UserAttribute::parse("Mail"),
        ];
        let s = Selection::for_attributes(&attrs);
        assert_eq!(
            s.query_value(),
            "id,accountEnabled,mail,displayName,onPremisesExtensionAttributes"
        );
        assert_eq!(s.unknown_user_property(), None);
        assert_eq!(
            Selection::parse("id, mail,,nickname").unknown_user_property(),
            Some("nickname")
        );
    }

    #[test]
    fn users_round_trip_through_the_writer() {
        let mut user = UserRecord {
            id: "00000000-0000-4000-8000-000000000001".into(),
            display_name: Some("Anna Rossi".into()),
            mail: Some("anna.rossi@contoso.com".into()),
            business_phones: vec!["2001".into()],
            account_enabled: true,
            ..UserRecord::default()
        };
        user.extension_attributes[4] = Some("x5".into());
        let selection = Selection::parse(
            "mail,displayName,businessPhones,mobilePhone,accountEnabled,onPremisesExtensionAttributes",
        );
        let written = DirectoryPage {
            context: Some(DirectoryPage::users_context(&selection)),
            objects: vec![
                DirectoryObject::user(&user, &selection, false),
                DirectoryObject::removal("gone", RemovedReason::Deleted),
                DirectoryObject::other(GROUP_TYPE, "g1", "Nested", None),
            ],
            unreadable: 0,
            next_link: None,
            delta_link: Some("https://graph.example/v1.0/users/delta?$deltatoken=abc".into()),
        };
        let json = written.to_json();
        let read = DirectoryPage::read(json.as_bytes()).expect("reads back");
        assert_eq!(read, written);
        let u = &read.objects[0];
        assert_eq!(u.id(), Some(user.id.as_str()));
        // Unselected properties are not written; selected empty ones are null.
        assert!(!u.as_json().contains_key("userPrincipalName"));
        assert_eq!(u.as_json().get("mobilePhone"), Some(&Value::Null));
        assert_eq!(
            u.attribute(&UserAttribute::Extension(5)).as_deref(),
            Some("x5")
        );
        assert!(!read.objects[2].is_user());
        let typed = DirectoryObject::user(&user, &selection, true);
        assert!(typed.is_user());
        assert_eq!(typed.odata_type(), Some(USER_TYPE));
    }

    #[test]
    fn sync_resets_are_recognised() {
        let body = crate::ErrorBody::new(
            SYNC_STATE_NOT_FOUND,
            SYNC_STATE_NOT_FOUND_MESSAGE,
            "r",
            jiff::Timestamp::UNIX_EPOCH,
        )
        .to_json();
        assert!(is_sync_reset(&ServiceError::read(
            400,
            None,
            body.as_bytes()
        )));
        assert!(is_sync_reset(&ServiceError::read(410, None, b"")));
        assert!(is_sync_reset(&ServiceError::read(
            400,
            None,
            br#"{"error":{"code":"resyncRequired","message":"x"}}"#
        )));
        assert!(!is_sync_reset(&ServiceError::read(
            400,
            None,
            br#"{"error":{"code":"Request_BadRequest","message":"x"}}"#
        )));
        assert!(!is_sync_reset(&ServiceError::read(
            404,
            None,
            body.as_bytes()
        )));
    }
}
