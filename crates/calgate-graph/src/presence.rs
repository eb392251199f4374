//! `POST /communications/getPresencesByUserId` with `{"ids": [...]}`: Microsoft Teams presence
//! (availability and activity) of up to 650 people per request, asked by directory object id.
//! Graph leaves out ids it does not know; an item that cannot be read is dropped too, so that
//! person's presence is unknown, never available. Values Graph may add later are kept as the
//! strings Graph wrote.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::schedule::ReadError;

/// Graph's limit of user ids per request.
pub const MAX_PRESENCE_IDS: usize = 650;

/// 650 presences are a few hundred kilobytes; this is generous.
pub const MAX_PRESENCE_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// Graph's word for a presence it does not know (both availability and activity).
pub const PRESENCE_UNKNOWN: &str = "PresenceUnknown";

/// The availability values Graph documents.
pub const AVAILABILITIES: [&str; 9] = [
    "Available",
    "AvailableIdle",
    "Away",
    "BeRightBack",
    "Busy",
    "BusyIdle",
    "DoNotDisturb",
    "Offline",
    PRESENCE_UNKNOWN,
];

pub const PRESENCES_CONTEXT: &str =
    "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.presence)";

/// The request body as it travels (the SDKs send `Ids` too, which Graph accepts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetPresencesBody {
    #[serde(alias = "Ids")]
    pub ids: Vec<String>,
}

/// Why a request cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresenceRequestError {
    #[error("no user id to ask presence for")]
    Empty,
    #[error("{0} user ids in one presence request; Graph takes at most {MAX_PRESENCE_IDS}")]
    TooMany(usize),
    #[error("a blank user id")]
    BlankId,
}

/// A validated request: 1 to 650 ids, none blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetPresences {
    ids: Vec<String>,
}

impl GetPresences {
    pub fn new(ids: Vec<String>) -> Result<GetPresences, PresenceRequestError> {
        if ids.is_empty() {
            return Err(PresenceRequestError::Empty);
        }
        if ids.len() > MAX_PRESENCE_IDS {
            return Err(PresenceRequestError::TooMany(ids.len()));
        }
        if ids.iter().any(|i| i.trim().is_empty()) {
            return Err(PresenceRequestError::BlankId);
        }
        Ok(GetPresences { ids })
    }

    /// Requests of at most 650 ids each, in order.
    pub fn batches(ids: &[String]) -> Vec<GetPresences> {
        ids.iter()
            .filter(|i| !i.trim().is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .chunks(MAX_PRESENCE_IDS)
            .map(|c| GetPresences { ids: c.to_vec() })
            .collect()
    }

    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&GetPresencesBody {
            ids: self.ids.clone(),
        })
        .unwrap_or_default()
    }

    /// Reads a 200 answer: the presence of each requested id Graph answered for, keyed by the
    /// id as requested. An id left out, or whose item has no availability, is not in the map.
    pub fn read_response(&self, body: &[u8]) -> Result<HashMap<String, Presence>, ReadError> {
        let response: PresencesResponse =
            crate::schedule::read_capped(body, MAX_PRESENCE_RESPONSE_BYTES)?;
        let items = response.value.ok_or_else(ReadError::no_value)?;
        let mut by_id: HashMap<String, Presence> = HashMap::new();
        for item in items {
            let (Some(id), Some(availability)) = (item.id, item.availability) else {
                continue;
            };
            if availability.trim().is_empty() {
                continue;
            }
            by_id.entry(id.to_ascii_lowercase()).or_insert(Presence {
                availability,
                activity: item
                    .activity
                    .filter(|a| !a.trim().is_empty())
                    .unwrap_or_else(|| PRESENCE_UNKNOWN.to_owned()),
            });
        }
        Ok(self
            .ids
            .iter()
            .filter_map(|id| {
                by_id
                    .get(&id.to_ascii_lowercase())
                    .map(|p| (id.clone(), p.clone()))
            })
            .collect())
    }
}

/// One person's presence as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    pub availability: String,
    pub activity: String,
}

/// The response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresencesResponse {
    #[serde(
        rename = "@odata.context",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub context: Option<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub value: Option<Vec<PresenceItem>>,
}

impl PresencesResponse {
    pub fn new(value: Vec<PresenceItem>) -> PresencesResponse {
        PresencesResponse {
            context: Some(PRESENCES_CONTEXT.to_owned()),
            value: Some(value),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One `presence` object (calgate reads `id`, `availability` and `activity`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceItem {
    #[serde(
        rename = "@odata.type",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub availability: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub activity: Option<String>,
}

impl PresenceItem {
    /// An item as Graph writes it, for the simulator.
    pub fn new(id: &str, availability: &str, activity: &str) -> PresenceItem {
        PresenceItem {
            odata_type: Some("#microsoft.graph.presence".to_owned()),
            id: Some(id.to_owned()),
            availability: Some(availability.to_owned()),
            activity: Some(activity.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("id-{i}")).collect()
    }

    #[test]
    fn requests_hold_one_to_650_ids() {
        assert_eq!(GetPresences::new(vec![]), Err(PresenceRequestError::Empty));
        assert!(GetPresences::new(ids(650)).is_ok());
        assert_eq!(
            GetPresences::new(ids(651)),
            Err(PresenceRequestError::TooMany(651))
        );
        assert_eq!(
            GetPresences::new(vec![" ".into()]),
            Err(PresenceRequestError::BlankId)
        );
        let batches = GetPresences::batches(&ids(1000));
        assert_eq!(
            batches.iter().map(|b| b.ids().len()).collect::<Vec<_>>(),
            [650, 350]
        );
        assert!(GetPresences::batches(&[]).is_empty());
    }

    #[test]
    fn the_body_is_graphs() {
        let r = GetPresences::new(vec!["a".into(), "b".into()]).expect("request");
        assert_eq!(r.to_json(), r#"{"ids":["a","b"]}"#);
        let sdk: GetPresencesBody = serde_json::from_str(r#"{"Ids":["a"]}"#).expect("Ids");
        assert_eq!(sdk.ids, ["a"]);
    }

    #[test]
    fn reads_graphs_documented_answer() {
        // The example answer of Graph's reference page, with its extra properties.
        let body = br##"{
          "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.presence)",
          "value": [
            {"@odata.type": "#microsoft.graph.presence",
             "id": "fa8bf3dc-eca7-46b7-bad1-db199b62afc3",
             "availability": "Busy", "activity": "InAMeeting",
             "statusMessage": null, "outOfOfficeSettings": {"message": null, "isOutOfOffice": false}},
            {"@odata.type": "#microsoft.graph.presence",
             "id": "66825e03-7ef5-42da-9069-724602c31f6b",
             "availability": "Away", "activity": "Away"}
          ]
        }"##;
        let r = GetPresences::new(vec![
            "FA8BF3DC-ECA7-46B7-BAD1-DB199B62AFC3".into(),
            "66825e03-7ef5-42da-9069-724602c31f6b".into(),
            "00000000-0000-0000-0000-000000000000".into(),
        ])
        .expect("request");
        let read = r.read_response(body).expect("read");
        assert_eq!(read.len(), 2, "the id Graph left out is not answered");
        assert_eq!(
            read["FA8BF3DC-ECA7-46B7-BAD1-DB199B62AFC3"],
            Presence {
                availability: "Busy".into(),
                activity: "InAMeeting".into()
            }
        );
        assert_eq!(
            read["66825e03-7ef5-42da-9069-724602c31f6b"].availability,
            "Away"
        );
    }

    #[test]
    fn reading_is_lenient_per_item() {
        let body = br#"{"value": [
            {"id": "a", "availability": "Focusing", "activity": "UrgentInterruptionsOnly"},
            {"id": "b", "availability": 7, "activity": "InACall"},
            {"id": "c"},
            "not an object",
            {"availability": "Busy", "activity": "InACall"},
            {"id": "d", "availability": "Busy"}
        ]}"#;
        let r = GetPresences::new(vec!["a".into(), "b".into(), "c".into(), "d".into()])
            .expect("request");
        let read = r.read_response(body).expect("read");
        assert_eq!(read["a"].availability, "Focusing", "unknown values kept");
        assert_eq!(read["a"].activity, "UrgentInterruptionsOnly");
        assert!(
            !read.contains_key("b"),
            "an unreadable availability drops the item"
        );
        assert!(!read.contains_key("c"));
        assert_eq!(read["d"].activity, PRESENCE_UNKNOWN);
    }

    #[test]
    fn unreadable_answers_are_errors_not_panics() {
        let r = GetPresences::new(vec!["a".into()]).expect("request");
        for body in [&b""[..], b"{", b"[]", b"{}", b"{\"value\": 3}", b"null"] {
            assert!(r.read_response(body).is_err(), "{body:?}");
        }
        let big = vec![b' '; MAX_PRESENCE_RESPONSE_BYTES + 1];
        assert!(matches!(
            r.read_response(&big),
            Err(ReadError::TooLarge { .. })
        ));
    }

    #[test]
    fn the_simulators_answer_reads_back() {
        let answer = PresencesResponse::new(vec![PresenceItem::new("a", "Busy", "InACall")]);
        let r = GetPresences::new(vec!["a".into()]).expect("request");
        let read = r.read_response(answer.to_json().as_bytes()).expect("read");
        assert_eq!(read["a"].activity, "InACall");
    }
}
