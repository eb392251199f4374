//! calgate-directory: the people of a directory, read from Microsoft Entra ID (Graph) or an LDAP
//! server (Active Directory, OpenLDAP…), and the plan that brings a watch list in step with them.
//!
//! A reader answers a [`Read`]: every person the directory lists ([`Listing::Full`]) or what
//! changed since the last read ([`Listing::Changes`], Graph's delta), each as an [`Entry`]
//! already mapped through the directory's attribute names, with warnings for entries it had to
//! skip. A reader never fails by answering fewer people: an error is a [`ReadError`] and the
//! watch list is left as it is.
//!
//! [`graph`] reads Microsoft Entra ID through Graph with the app credentials of a Graph source
//! (`/users/delta`, or a group's transitive members).

mod entry;
pub mod graph;
pub mod ldap;
pub mod plan;

pub use entry::{Entry, Listing, Read, ReadError, Warning};
pub use plan::{Current, Plan, Rules, Synced, Update, plan};
