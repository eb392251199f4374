//! A real slapd with a generated tree, for the benchmark's directory sync (`cargo xtask bench`):
//! the test suite's [`Slapd`] started outside a test. Prints one JSON line with what a gateway
//! needs to read the tree, then keeps the server until its standard input closes.
//!
//! ```text
//! slapd PEOPLE
//! ```
//!
//! The line holds the StartTLS URL, the CA that signed the server's certificate (PEM), the
//! reader's bind DN and password, the base DN, how many people were generated and how many of
//! them Active Directory's default filter selects (what a first sync adds), and how long
//! generating, loading and starting took.

use std::io::Read as _;

use anyhow::Context as _;
use secrecy::ExposeSecret as _;

use calgate_testkit::slapd::Slapd;

fn main() -> anyhow::Result<()> {
    let people: usize = std::env::args()
        .nth(1)
        .context("usage: slapd PEOPLE")?
        .parse()
        .context("PEOPLE is a count")?;
    let server = Slapd::start(people)?;
    let ready = serde_json::json!({
        "url": server.starttls_url(),
        "ca_pem": server.ca_pem(),
        "bind_dn": server.bind_dn(),
        "bind_password": server.password().expose_secret(),
        "base_dn": server.base_dn(),
        "people": server.people().len(),
        "selected": server.selected().count(),
        "started_in_s": server.started_in().as_secs_f64(),
    });
    println!("{ready}");
    // Until the benchmark lets go of our input (or ends); dropping the server stops slapd.
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    drop(server);
    Ok(())
}
