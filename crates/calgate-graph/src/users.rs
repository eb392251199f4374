//! `GET /users?$top=N`: the directory listing, paged with `@odata.nextLink`. calgate uses it to
//! offer people for the watch list; the simulator serves it from its tenant.

use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::schedule::ReadError;

/// Graph's default and largest `$top` for users.
pub const DEFAULT_PAGE_SIZE: usize = 100;
pub const MAX_PAGE_SIZE: usize = 999;

pub const USERS_CONTEXT: &str = "https://graph.microsoft.com/v1.0/$metadata#users";

/// The largest page read.
pub const MAX_USERS_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// One page of `/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    #[serde(
        rename = "@odata.context",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub context: Option<String>,
    /// Users that cannot be read are dropped; a directory listing has no "unknown" to fall to.
    #[serde(default, deserialize_with = "lenient::list")]
    pub value: Option<Vec<User>>,
    #[serde(
        rename = "@odata.nextLink",
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub next_link: Option<String>,
}

/// The fields of `user` calgate reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default, deserialize_with = "lenient::string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub mail: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub user_principal_name: Option<String>,
}

impl UserPage {
    pub fn new(users: Vec<User>, next_link: Option<String>) -> UserPage {
        UserPage {
            context: Some(USERS_CONTEXT.to_owned()),
            value: Some(users),
            next_link,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn read(body: &[u8]) -> Result<UserPage, ReadError> {
        let page: UserPage = crate::schedule::read_capped(body, MAX_USERS_RESPONSE_BYTES)?;
        if page.value.is_none() {
            return Err(ReadError::no_value());
        }
        Ok(page)
    }
}
