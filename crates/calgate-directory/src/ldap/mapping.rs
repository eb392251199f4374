//! One LDAP entry turned into an [`Entry`], or the reason it was skipped; without a server.
//!
//! The entry is read from the raw BER the library hands over (not its `SearchEntry`, which
//! panics on a malformed answer and guesses per value whether an attribute is text or binary:
//! an `objectGUID` whose 16 bytes happen to be valid UTF-8 would come back as text). Values are
//! moved out of the decoded message, never copied, so a 10 MB value costs its one buffer.

use calgate_core::Code;
use calgate_settings::directories::AttributeMap;
use ldap3::asn1::{PL, StructureTag, TagClass};

use crate::{Entry, Warning};

/// The largest mapped value accepted; an entry with a larger one is skipped.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// At most this many warnings are kept; the rest are counted in a final one.
pub const MAX_WARNINGS: usize = 100;

/// Active Directory's binary id of an entry.
pub(crate) const OBJECT_GUID: &str = "objectGUID";
/// OpenLDAP's (RFC 4530) id of an entry, an operational attribute asked for by name.
pub(crate) const ENTRY_UUID: &str = "entryUUID";

/// DNs in messages are cut to this many characters.
const MAX_DN_IN_MESSAGE: usize = 256;

/// A search result entry as the server sent it: its DN and each attribute's values.
#[derive(Debug, Default)]
pub(crate) struct RawEntry {
    pub dn: String,
    pub attributes: Vec<(String, Vec<Vec<u8>>)>,
}

impl RawEntry {
    /// The values of an attribute (names compare without regard to case, as in LDAP).
    fn values(&self, name: &str) -> &[Vec<u8>] {
        self.attributes
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    }
}

/// Reads a SearchResultEntry (`[APPLICATION 4] SEQUENCE { objectName, attributes }`);
/// `None` when the BER does not have that shape.
pub(crate) fn raw_entry(tag: StructureTag) -> Option<RawEntry> {
    if tag.class != TagClass::Application || tag.id != 4 {
        return None;
    }
    let mut parts = tag.expect_constructed()?.into_iter();
    let dn = String::from_utf8_lossy(&parts.next()?.expect_primitive()?).into_owned();
    let mut attributes = Vec::new();
    for attribute in parts.next()?.expect_constructed()? {
        let mut pair = attribute.expect_constructed()?.into_iter();
        let name = String::from_utf8_lossy(&pair.next()?.expect_primitive()?).into_owned();
        let values = pair
            .next()?
            .expect_constructed()?
            .into_iter()
            .map(StructureTag::expect_primitive)
            .collect::<Option<Vec<Vec<u8>>>>()?;
        attributes.push((name, values));
    }
    Some(RawEntry { dn, attributes })
}

/// Reads the URIs of a SearchResultReference (`[APPLICATION 19] SEQUENCE OF URI`).
pub(crate) fn reference_uris(tag: StructureTag) -> Vec<String> {
    match tag.payload {
        PL::C(uris) => uris
            .into_iter()
            .filter_map(StructureTag::expect_primitive)
            .map(|u| String::from_utf8_lossy(&u).into_owned())
            .collect(),
        PL::P(_) => Vec::new(),
    }
}

/// The attributes a search asks for: the mapped ones and the ids.
pub(crate) fn requested_attributes(map: &AttributeMap) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in [
        Some(map.email.as_str()),
        Some(map.name.as_str()),
        Some(map.extension.as_str()),
        map.source.as_deref(),
        Some(OBJECT_GUID),
        Some(ENTRY_UUID),
    ]
    .into_iter()
    .flatten()
    {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            names.push(name.to_string());
        }
    }
    names
}

/// Maps an entry through the attribute names, or says why it was skipped (a sentence naming the
/// entry's DN, for the admin).
pub(crate) fn map_entry(raw: &RawEntry, map: &AttributeMap) -> Result<Entry, String> {
    let dn = shown_dn(&raw.dn);
    for name in requested_attributes(map) {
        if let Some(big) = raw.values(&name).iter().find(|v| v.len() > MAX_VALUE_BYTES) {
            return Err(format!(
                "{dn}: its {name} value is {} bytes, more than the {} KiB accepted",
                big.len(),
                MAX_VALUE_BYTES / 1024
            ));
        }
    }
    let mut addresses: Vec<String> = Vec::new();
    for value in raw.values(&map.email) {
        let address = String::from_utf8_lossy(value).trim().to_lowercase();
        if !address.is_empty() && !addresses.contains(&address) {
            addresses.push(address);
        }
    }
    let email = match addresses.as_slice() {
        [] => return Err(format!("{dn}: no {} value", map.email)),
        [one] => one.clone(),
        _ => {
            return Err(format!(
                "{dn}: {} different {} values; which one is the mailbox is not known",
                addresses.len(),
                map.email
            ));
        }
    };
    if !calgate_core::text::looks_like_email(&email) {
        return Err(format!(
            "{dn}: its {} value is not a mail address",
            map.email
        ));
    }
    let name = first_text(raw, &map.name).unwrap_or_else(|| email.clone());
    let extension = first_text(raw, &map.extension);
    let source = map.source.as_deref().and_then(|s| first_text(raw, s));
    Ok(Entry {
        id: entry_id(raw),
        email,
        name,
        extension,
        source,
    })
}

/// `objectGUID` (Active Directory) as GUID text, else `entryUUID` (OpenLDAP), else the DN.
fn entry_id(raw: &RawEntry) -> String {
    if let Some(guid) = raw.values(OBJECT_GUID).first().and_then(|v| guid_text(v)) {
        return guid;
    }
    if let Some(uuid) = first_text(raw, ENTRY_UUID) {
        return uuid.to_ascii_lowercase();
    }
    raw.dn.clone()
}

/// A binary GUID in its canonical text form: the first three fields are little-endian, as
/// Windows stores them (what PowerShell's `Get-ADUser` shows as `ObjectGUID`).
pub(crate) fn guid_text(bytes: &[u8]) -> Option<String> {
    let b: &[u8; 16] = bytes.try_into().ok()?;
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3],
        b[2],
        b[1],
        b[0],
        b[5],
        b[4],
        b[7],
        b[6],
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    ))
}

/// The first value of an attribute as tidy text (control characters dropped, trimmed), if any.
fn first_text(raw: &RawEntry, name: &str) -> Option<String> {
    let value = raw.values(name).first()?;
    let text: String = String::from_utf8_lossy(value)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// A DN as shown in a message: cut when long.
pub(crate) fn shown_dn(dn: &str) -> String {
    if dn.chars().count() <= MAX_DN_IN_MESSAGE {
        return format!("\"{dn}\"");
    }
    let cut: String = dn.chars().take(MAX_DN_IN_MESSAGE).collect();
    format!("\"{cut}…\"")
}

/// Warnings, at most [`MAX_WARNINGS`] of them; the ones past that are counted.
#[derive(Debug, Default)]
pub(crate) struct Warnings {
    kept: Vec<Warning>,
    more: usize,
}

impl Warnings {
    pub fn push(&mut self, code: Code, message: String) {
        if self.kept.len() < MAX_WARNINGS {
            self.kept.push(Warning { code, message });
        } else {
            self.more += 1;
        }
    }

    pub fn finish(mut self) -> Vec<Warning> {
        if self.more > 0 {
            self.kept.push(Warning {
                code: Code::DirectoryEntrySkipped,
                message: format!("and {} more", self.more),
            });
        }
        self.kept
    }
}

/// The name of an LDAP result code (RFC 4511 §4.1.9 and the ones servers commonly add).
pub(crate) fn result_code_name(rc: u32) -> &'static str {
    match rc {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        12 => "unavailableCriticalExtension",
        13 => "confidentialityRequired",
        14 => "saslBindInProgress",
        16 => "noSuchAttribute",
        17 => "undefinedAttributeType",
        18 => "inappropriateMatching",
        19 => "constraintViolation",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        54 => "loopDetect",
        80 => "other",
        87 => "filterError",
        _ => "an unknown result code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calgate_settings::directories::DirectoryKind;

    fn raw(dn: &str, attributes: &[(&str, &[&[u8]])]) -> RawEntry {
        RawEntry {
            dn: dn.to_string(),
            attributes: attributes
                .iter()
                .map(|(n, vs)| (n.to_string(), vs.iter().map(|v| v.to_vec()).collect()))
                .collect(),
        }
    }

    fn defaults() -> AttributeMap {
        AttributeMap::defaults(DirectoryKind::Ldap)
    }

    #[test]
    fn guid_text_is_the_windows_form() {
        // The bytes of {12345678-9abc-def0-0123-456789abcdef} as Active Directory stores them.
        let bytes = [
            0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
            0xcd, 0xef,
        ];
        assert_eq!(
            guid_text(&bytes).as_deref(),
            Some("12345678-9abc-def0-0123-456789abcdef")
        );
        assert_eq!(guid_text(&bytes[..15]), None);
    }

    #[test]
    fn an_entry_is_mapped_with_its_address_lower_cased() {
        let entry = map_entry(
            &raw(
                "cn=Anna,dc=example,dc=org",
                &[
                    ("MAIL", &[b" Anna.Mueller@Example.ORG "]),
                    ("displayName", &["Anna Müller".as_bytes()]),
                    ("telephoneNumber", &[b"4711", b"4712"]),
                    ("entryUUID", &[b"0A1B2C3D-0000-4000-8000-000000000001"]),
                ],
            ),
            &defaults(),
        )
        .expect("mapped");
        assert_eq!(entry.email, "anna.mueller@example.org");
        assert_eq!(entry.name, "Anna Müller");
        assert_eq!(entry.extension.as_deref(), Some("4711"));
        assert_eq!(entry.id, "0a1b2c3d-0000-4000-8000-000000000001");
        assert_eq!(entry.source, None);
    }

    #[test]
    fn the_id_prefers_object_guid_then_entry_uuid_then_the_dn() {
        let guid: &[u8] = &[0u8; 16];
        let both = raw(
            "cn=x,dc=example,dc=org",
            &[
                ("mail", &[b"x@example.org"]),
                ("objectGUID", &[guid]),
                ("entryUUID", &[b"11111111-1111-1111-1111-111111111111"]),
            ],
        );
        assert_eq!(
            map_entry(&both, &defaults()).expect("mapped").id,
            "00000000-0000-0000-0000-000000000000"
        );
        let neither = raw("cn=x,dc=example,dc=org", &[("mail", &[b"x@example.org"])]);
        let entry = map_entry(&neither, &defaults()).expect("mapped");
        assert_eq!(entry.id, "cn=x,dc=example,dc=org");
        // No display name: the address stands in.
        assert_eq!(entry.name, "x@example.org");
        assert_eq!(entry.extension, None);
    }

    #[test]
    fn the_source_attribute_is_read_when_configured() {
        let mut map = defaults();
        map.extension = "ipPhone".to_string();
        map.source = Some("departmentNumber".to_string());
        let entry = map_entry(
            &raw(
                "cn=x,dc=example,dc=org",
                &[
                    ("mail", &[b"x@example.org"]),
                    ("ipPhone", &[b"  201 "]),
                    ("departmentNumber", &[b"online"]),
                ],
            ),
            &map,
        )
        .expect("mapped");
        assert_eq!(entry.extension.as_deref(), Some("201"));
        assert_eq!(entry.source.as_deref(), Some("online"));
        assert!(requested_attributes(&map).contains(&"departmentNumber".to_string()));
    }

    #[test]
    fn entries_without_one_usable_address_or_with_huge_values_are_skipped() {
        let skip = |r: RawEntry| map_entry(&r, &defaults()).expect_err("skipped");
        let none = skip(raw("cn=none,dc=example,dc=org", &[("cn", &[b"none"])]));
        assert!(none.contains("cn=none,dc=example,dc=org") && none.contains("no mail"));
        let two = skip(raw(
            "cn=two,dc=example,dc=org",
            &[("mail", &[b"a@example.org", b"b@example.org"])],
        ));
        assert!(two.contains("2 different mail values"), "{two}");
        let not_address = skip(raw("cn=n,dc=example,dc=org", &[("mail", &[b"n"])]));
        assert!(not_address.contains("not a mail address"));
        let huge = vec![b'x'; MAX_VALUE_BYTES + 1];
        let big = skip(raw(
            "cn=big,dc=example,dc=org",
            &[("mail", &[b"big@example.org"]), ("displayName", &[&huge])],
        ));
        assert!(
            big.contains("displayName") && big.contains("65537 bytes"),
            "{big}"
        );
        // The same address twice in another case is one address.
        let same = raw(
            "cn=same,dc=example,dc=org",
            &[("mail", &[b"Same@example.org", b"same@EXAMPLE.org"])],
        );
        assert_eq!(
            map_entry(&same, &defaults()).expect("mapped").email,
            "same@example.org"
        );
    }

    #[test]
    fn warnings_are_capped_with_a_count_of_the_rest() {
        let mut warnings = Warnings::default();
        for i in 0..MAX_WARNINGS + 7 {
            warnings.push(Code::DirectoryEntrySkipped, format!("entry {i}"));
        }
        let all = warnings.finish();
        assert_eq!(all.len(), MAX_WARNINGS + 1);
        assert_eq!(all[MAX_WARNINGS].message, "and 7 more");
    }

    #[test]
    fn a_long_dn_is_cut_in_messages() {
        let dn = "cn=".to_string() + &"é".repeat(1000);
        let shown = shown_dn(&dn);
        assert!(shown.chars().count() < 300 && shown.ends_with("…\""));
    }

    #[test]
    fn malformed_entries_are_not_read() {
        let primitive = StructureTag {
            class: TagClass::Application,
            id: 4,
            payload: PL::P(vec![1, 2, 3]),
        };
        assert!(raw_entry(primitive).is_none());
        let empty = StructureTag {
            class: TagClass::Application,
            id: 4,
            payload: PL::C(vec![]),
        };
        assert!(raw_entry(empty).is_none());
    }
}
