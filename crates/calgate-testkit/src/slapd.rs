//! A real OpenLDAP `slapd` for the directory tests: Debian's package (installed by
//! `cargo xtask setup`), started on 127.0.0.1 with StartTLS on one port and LDAPS on another,
//! a temporary `slapd.conf`, an mdb database loaded offline with `slapadd -q` from a generated
//! tree, and TLS from a CA generated for the occasion.
//!
//! The tree looks enough like Active Directory for its default filter to work as written: an
//! auxiliary class `user` with `userAccountControl` (an INTEGER, so OpenLDAP's bitwise-AND rule
//! 1.2.840.113556.1.4.803 applies), `objectCategory`, `ipPhone` and a binary `objectGUID`. The
//! size limits refuse an unpaged search of everyone (1000 at most), so a full read proves the
//! reader pages.
//!
//! slapd runs under a small shell that stops it when the test process lets go of the shell's
//! standard input: on drop, and also when the process ends without dropping (a handle kept in a
//! `static`), so no server outlives the tests.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine as _;
use calgate_settings::DirectoryConfig;
use secrecy::SecretString;

/// Where Debian installs the server.
pub const SLAPD: &str = "/usr/sbin/slapd";
const SLAPADD: &str = "/usr/sbin/slapadd";

pub const BASE_DN: &str = "dc=example,dc=org";
pub const READER_DN: &str = "cn=reader,dc=example,dc=org";
const READER_PASSWORD: &str = "reader-password-42";
/// The entry whose subtree lives elsewhere (`objectClass: referral`).
pub const REFERRAL_DN: &str = "ou=partner,dc=example,dc=org";
/// An entry with two different mail values.
pub const TWO_MAILS_DN: &str = "uid=two-mails,ou=people,dc=example,dc=org";
/// An entry whose displayName is [`HUGE_VALUE_BYTES`] long.
pub const HUGE_DN: &str = "uid=huge,ou=people,dc=example,dc=org";
/// An entry whose mail value is not an address.
pub const NOT_AN_ADDRESS_DN: &str = "uid=not-an-address,ou=people,dc=example,dc=org";
pub const HUGE_VALUE_BYTES: usize = 10 * 1024 * 1024;

/// The small Active-Directory-like schema (OIDs under OpenLDAP's experimental arc).
const AD_SCHEMA: &str = "\
attributetype ( 1.3.6.1.4.1.4203.666.11.1 NAME 'userAccountControl'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.11.2 NAME 'objectCategory'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.11.3 NAME 'ipPhone'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.4203.666.11.4 NAME 'objectGUID'
  EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.4203.666.11.100 NAME 'user' SUP top AUXILIARY
  MAY ( userAccountControl $ objectCategory $ ipPhone $ objectGUID ) )
";

/// Stops slapd when its standard input closes (see the module documentation), then removes
/// the server's directory. `$1` is slapd, `$2` the directory, `$3` the listener URLs.
const SUPERVISOR: &str = r#"
exec 3<&0
"$1" -d 0 -f "$2/slapd.conf" -h "$3" </dev/null >"$2/slapd.log" 2>&1 &
pid=$!
(read _line <&3; kill "$pid" 2>/dev/null) &
watcher=$!
wait "$pid"
status=$?
kill "$watcher" 2>/dev/null
rm -rf "$2"
exit "$status"
"#;

/// One generated person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub dn: String,
    /// What the reader answers as the id: the objectGUID's text when the entry has one, else
    /// its entryUUID.
    pub id: String,
    /// The address as the reader answers it (lower case); the entry stores it in mixed case.
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// telephoneNumber values, in order.
    pub phones: Vec<String>,
    pub ip_phone: String,
    /// departmentNumber: `default` or `online` (a source attribute for the mapping tests).
    pub department: String,
    /// Bit 2 of userAccountControl not set.
    pub enabled: bool,
}

impl Person {
    /// Whether Active Directory's default filter selects the entry.
    pub fn selected(&self) -> bool {
        self.enabled && self.email.is_some()
    }
}

/// The running server and what was loaded into it.
#[derive(Debug)]
pub struct Slapd {
    dir: PathBuf,
    supervisor: Child,
    stdin: Option<ChildStdin>,
    ldap_port: u16,
    ldaps_port: u16,
    ca_pem: String,
    people: Vec<Person>,
    started_in: Duration,
}

impl Slapd {
    /// Generates a tree of `people` people (plus the special entries), loads it and starts
    /// slapd. Panics with a hint when slapd is not installed.
    pub fn start(people: usize) -> anyhow::Result<Slapd> {
        assert!(
            Path::new(SLAPD).exists() && Path::new(SLAPADD).exists(),
            "{SLAPD} is missing; run `cargo xtask setup` (it installs Debian's slapd and ldap-utils)"
        );
        let began = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("calgate-slapd-")
            .tempdir()
            .context("creating the server directory")?
            .keep();
        let prepared = prepare(&dir, people);
        let (ca_pem, people) = match prepared {
            Ok(p) => p,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let mut last_error = None;
        for _ in 0..3 {
            let (ldap_port, ldaps_port) = (free_port()?, free_port()?);
            match launch(&dir, ldap_port, ldaps_port) {
                Ok((supervisor, stdin)) => {
                    return Ok(Slapd {
                        dir,
                        supervisor,
                        stdin: Some(stdin),
                        ldap_port,
                        ldaps_port,
                        ca_pem,
                        people,
                        started_in: began.elapsed(),
                    });
                }
                // Another process may have taken a port between its probe and slapd's bind.
                Err(e) => last_error = Some(e),
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("slapd did not start")))
    }

    /// `ldap://127.0.0.1:PORT` (StartTLS offered).
    pub fn starttls_url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.ldap_port)
    }

    /// `ldaps://127.0.0.1:PORT`.
    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    /// The CA that signed the server's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    pub fn bind_dn(&self) -> &str {
        READER_DN
    }

    pub fn password(&self) -> SecretString {
        SecretString::from(READER_PASSWORD.to_string())
    }

    pub fn base_dn(&self) -> &str {
        BASE_DN
    }

    /// Everyone generated, in order (the special entries are not among them).
    pub fn people(&self) -> &[Person] {
        &self.people
    }

    /// The people a read with Active Directory's default filter and the default attribute names
    /// answers.
    pub fn selected(&self) -> impl Iterator<Item = &Person> {
        self.people.iter().filter(|p| p.selected())
    }

    /// The entries the filter selects but a reader must skip.
    pub fn skipped_dns(&self) -> [&'static str; 3] {
        [TWO_MAILS_DN, HUGE_DN, NOT_AN_ADDRESS_DN]
    }

    /// How long generating, loading and starting took.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// A directory configuration for this server: StartTLS or LDAPS, the CA trusted, the
    /// reader's DN, the base DN and Active Directory's default filter.
    pub fn config(&self, ldaps: bool) -> DirectoryConfig {
        let url = if ldaps {
            self.ldaps_url()
        } else {
            self.starttls_url()
        };
        let config = serde_json::json!({
            "kind": "ldap",
            "url": url,
            "starttls": !ldaps,
            "bind_dn": READER_DN,
            "base_dn": BASE_DN,
            "extra_ca_pem": self.ca_pem,
        });
        serde_json::from_value(config).expect("a directory configuration")
    }

    /// Binds completed by the server so far (its `cn=Monitor`), read without binding.
    pub async fn binds(&self) -> anyhow::Result<u64> {
        use ldap3::{LdapConnAsync, Scope, SearchEntry};
        let (conn, mut ldap) = LdapConnAsync::new(&self.starttls_url()).await?;
        ldap3::drive!(conn);
        let (entries, _) = ldap
            .search(
                "cn=Bind,cn=Operations,cn=Monitor",
                Scope::Base,
                "(objectClass=*)",
                vec!["monitorOpCompleted"],
            )
            .await?
            .success()?;
        ldap.unbind().await?;
        let entry = entries
            .into_iter()
            .next()
            .map(SearchEntry::construct)
            .context("no bind counter in cn=Monitor")?;
        let count = entry
            .attrs
            .get("monitorOpCompleted")
            .and_then(|v| v.first())
            .context("no monitorOpCompleted")?;
        Ok(count.parse()?)
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        // Closing the supervisor's input stops slapd; the supervisor then removes the directory.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.supervisor.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.supervisor.kill();
        let _ = self.supervisor.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("probing a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Writes the configuration, the TLS material and the tree, and loads the tree.
fn prepare(dir: &Path, people: usize) -> anyhow::Result<(String, Vec<Person>)> {
    let tls = calgate_sim::tls::generate(dir).context("generating TLS material")?;
    let ca_pem = std::fs::read_to_string(&tls.ca_cert_pem_path)?;
    std::fs::write(dir.join("server.pem"), &tls.cert_chain_pem)?;
    std::fs::write(dir.join("server.key"), &tls.key_pem)?;
    std::fs::write(dir.join("ad.schema"), AD_SCHEMA)?;
    std::fs::create_dir(dir.join("db"))?;
    std::fs::write(
        dir.join("slapd.conf"),
        slapd_conf(dir, &tls.ca_cert_pem_path, people),
    )?;
    let generated = write_tree(&dir.join("tree.ldif"), people)?;
    let out = Command::new(SLAPADD)
        .args(["-q", "-f"])
        .arg(dir.join("slapd.conf"))
        .arg("-l")
        .arg(dir.join("tree.ldif"))
        .output()
        .context("running slapadd")?;
    if !out.status.success() {
        bail!(
            "slapadd failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_file(dir.join("tree.ldif"))?;
    Ok((ca_pem, generated))
}

fn slapd_conf(dir: &Path, ca: &Path, people: usize) -> String {
    let d = dir.display();
    // The map is sparse: room for the tree, its indexes and the 10 MB value, with slack.
    let map_size = (256 << 20) + people * 16 * 1024;
    format!(
        "include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include {d}/ad.schema
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload back_monitor
TLSCACertificateFile {ca}
TLSCertificateFile {d}/server.pem
TLSCertificateKeyFile {d}/server.key

database mdb
suffix \"{BASE_DN}\"
rootdn \"cn=admin,{BASE_DN}\"
directory {d}/db
maxsize {map_size}
index objectClass eq
sizelimit size.soft=1000 size.hard=1000 size.pr=500 size.prtotal=unlimited
access to attrs=userPassword by anonymous auth by * none
access to * by * read

database monitor
access to dn.subtree=\"cn=Monitor\" by * read
",
        ca = ca.display()
    )
}

/// Starts the supervisor and waits until both listeners accept connections.
fn launch(dir: &Path, ldap_port: u16, ldaps_port: u16) -> anyhow::Result<(Child, ChildStdin)> {
    let urls = format!("ldap://127.0.0.1:{ldap_port}/ ldaps://127.0.0.1:{ldaps_port}/");
    let mut supervisor = Command::new("sh")
        .arg("-c")
        .arg(SUPERVISOR)
        .arg("slapd-supervisor")
        .arg(SLAPD)
        .arg(dir)
        .arg(&urls)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting slapd")?;
    let stdin = supervisor.stdin.take().context("the supervisor's input")?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = supervisor.try_wait()? {
            let log = std::fs::read_to_string(dir.join("slapd.log")).unwrap_or_default();
            bail!("slapd exited at start ({status}): {log}");
        }
        let up = |port| TcpStream::connect(("127.0.0.1", port)).is_ok();
        if up(ldap_port) && up(ldaps_port) {
            return Ok((supervisor, stdin));
        }
        if Instant::now() > deadline {
            drop(stdin);
            let _ = supervisor.wait();
            bail!("slapd did not listen on {urls} within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const FAMILIES: [(&str, &str); 16] = [
    ("Müller", "mueller"),
    ("López", "lopez"),
    ("Ødegård", "odegard"),
    ("Nguyễn", "nguyen"),
    ("Weiß", "weiss"),
    ("Çelik", "celik"),
    ("Dvořák", "dvorak"),
    ("O'Brien", "obrien"),
    ("Smith", "smith"),
    ("Rossi", "rossi"),
    ("Dubois", "dubois"),
    ("Kowalski", "kowalski"),
    ("Johansson", "johansson"),
    ("Papadopoulos", "papadopoulos"),
    ("Tanaka", "tanaka"),
    ("Silva", "silva"),
];

const GIVEN: [(&str, &str); 12] = [
    ("Anna", "Anna"),
    ("Jürgen", "Juergen"),
    ("Zoë", "Zoe"),
    ("José", "Jose"),
    ("Chloé", "Chloe"),
    ("Søren", "Soeren"),
    ("Luca", "Luca"),
    ("Émile", "Emile"),
    ("Marta", "Marta"),
    ("Piotr", "Piotr"),
    ("Ingrid", "Ingrid"),
    ("Yuki", "Yuki"),
];

/// Person `i` of the tree. Every rule is a plain modulus, so the tree is the same each time.
fn person(i: usize) -> Person {
    let (family, family_ascii) = FAMILIES[i % FAMILIES.len()];
    let (given, given_ascii) = GIVEN[(i / FAMILIES.len()) % GIVEN.len()];
    let ou = if i.is_multiple_of(3) {
        "ou=staff,ou=people"
    } else {
        "ou=people"
    };
    let id = if i % 7 == 2 {
        guid(i).0
    } else {
        format!("5ca1ab1e-0000-4000-8000-{i:012x}")
    };
    let phones = match i % 13 {
        3 => vec![],
        5 => vec![
            format!("+49 30 {}", 100_000 + i),
            format!("+49 30 {}", 900_000 + i),
        ],
        _ => vec![format!("+49 30 {}", 100_000 + i)],
    };
    Person {
        dn: format!("uid=u{i:06},{ou},{BASE_DN}"),
        id,
        email: (i % 17 != 9)
            .then(|| format!("{given_ascii}.{family_ascii}.{i:06}@example.org").to_lowercase()),
        display_name: (i % 19 != 4).then(|| format!("{given} {family}")),
        phones,
        ip_phone: format!("{}", 2000 + i),
        department: if i.is_multiple_of(2) {
            "default"
        } else {
            "online"
        }
        .to_string(),
        enabled: i % 10 != 7,
    }
}

/// Person `i`'s objectGUID: its text and the bytes Active Directory stores (the first three
/// fields little-endian), built separately so the reader's conversion is checked, not copied.
fn guid(i: usize) -> (String, Vec<u8>) {
    let (d1, d2, d3) = (0xa000_0000u32 | i as u32, 0x1234u16, 0x5678u16);
    let d4: [u8; 8] = [0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, (i % 251) as u8];
    let mut text = format!("{d1:08x}-{d2:04x}-{d3:04x}-{:02x}{:02x}-", d4[0], d4[1]);
    for b in &d4[2..] {
        let _ = write!(text, "{b:02x}");
    }
    let mut bytes = Vec::with_capacity(16);
    bytes.extend_from_slice(&d1.to_le_bytes());
    bytes.extend_from_slice(&d2.to_le_bytes());
    bytes.extend_from_slice(&d3.to_le_bytes());
    bytes.extend_from_slice(&d4);
    (text, bytes)
}

/// One `attr: value` line of LDIF, base64 when the value is not a safe string.
fn line(out: &mut impl std::io::Write, attr: &str, value: &[u8]) -> std::io::Result<()> {
    let safe = value.iter().all(|b| (0x20..0x7f).contains(b))
        && !value
            .first()
            .is_some_and(|b| matches!(b, b' ' | b':' | b'<'))
        && value.last().is_none_or(|b| *b != b' ');
    if safe {
        out.write_all(attr.as_bytes())?;
        out.write_all(b": ")?;
        out.write_all(value)?;
    } else {
        let encoded = base64::engine::general_purpose::STANDARD.encode(value);
        write!(out, "{attr}:: {encoded}")?;
    }
    out.write_all(b"\n")
}

fn write_tree(path: &Path, count: usize) -> anyhow::Result<Vec<Person>> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n"
    )?;
    for ou in ["people", "groups"] {
        writeln!(
            out,
            "dn: ou={ou},{BASE_DN}\nobjectClass: organizationalUnit\nou: {ou}\n"
        )?;
    }
    writeln!(
        out,
        "dn: ou=staff,ou=people,{BASE_DN}\nobjectClass: organizationalUnit\nou: staff\n"
    )?;
    writeln!(
        out,
        "dn: {READER_DN}\nobjectClass: person\ncn: reader\nsn: reader\nuserPassword: {READER_PASSWORD}\n"
    )?;
    writeln!(
        out,
        "dn: {REFERRAL_DN}\nobjectClass: referral\nobjectClass: extensibleObject\nou: partner\n\
         ref: ldap://elsewhere.invalid/{REFERRAL_DN}\n"
    )?;
    let mut people = Vec::with_capacity(count);
    for i in 0..count {
        let p = person(i);
        let (given, family) = p
            .display_name
            .as_deref()
            .and_then(|n| n.split_once(' '))
            .map(|(g, f)| (g.to_string(), f.to_string()))
            .unwrap_or_else(|| ("Nameless".to_string(), format!("Person {i}")));
        line(&mut out, "dn", p.dn.as_bytes())?;
        out.write_all(b"objectClass: inetOrgPerson\nobjectClass: user\n")?;
        writeln!(out, "uid: u{i:06}\nobjectCategory: person")?;
        line(&mut out, "cn", format!("{given} {family}").as_bytes())?;
        line(&mut out, "sn", family.as_bytes())?;
        line(&mut out, "givenName", given.as_bytes())?;
        if let Some(name) = &p.display_name {
            line(&mut out, "displayName", name.as_bytes())?;
        }
        if let Some(email) = &p.email {
            // Stored in mixed case: the reader lower-cases it.
            let (local, domain) = email.split_once('@').unwrap_or((email, ""));
            let stored = format!("{}@{}", capitalised(local), domain.to_uppercase());
            line(&mut out, "mail", stored.as_bytes())?;
        }
        for phone in &p.phones {
            line(&mut out, "telephoneNumber", phone.as_bytes())?;
        }
        line(&mut out, "ipPhone", p.ip_phone.as_bytes())?;
        line(&mut out, "departmentNumber", p.department.as_bytes())?;
        let control = match (p.enabled, i % 4) {
            (false, _) => 514,
            (true, 0) => 66048,
            (true, _) => 512,
        };
        writeln!(out, "userAccountControl: {control}")?;
        if i % 7 == 2 {
            line(&mut out, "objectGUID", &guid(i).1)?;
        }
        writeln!(out, "entryUUID: 5ca1ab1e-0000-4000-8000-{i:012x}\n")?;
        people.push(p);
    }
    let special = |out: &mut std::io::BufWriter<std::fs::File>, dn: &str, uid: &str| {
        writeln!(
            out,
            "dn: {dn}\nobjectClass: inetOrgPerson\nobjectClass: user\nuid: {uid}\ncn: {uid}\nsn: {uid}\n\
             objectCategory: person\nuserAccountControl: 512"
        )
    };
    special(&mut out, TWO_MAILS_DN, "two-mails")?;
    writeln!(
        out,
        "mail: first@example.org\nmail: second@example.org\ndisplayName: Two Mails\n"
    )?;
    special(&mut out, NOT_AN_ADDRESS_DN, "not-an-address")?;
    writeln!(out, "mail: nobody\n")?;
    special(&mut out, HUGE_DN, "huge")?;
    writeln!(out, "mail: huge@example.org")?;
    out.write_all(b"displayName: ")?;
    let chunk = [b'x'; 64 * 1024];
    for _ in 0..HUGE_VALUE_BYTES / chunk.len() {
        out.write_all(&chunk)?;
    }
    out.write_all(b"\n\n")?;
    // A nested group: the group of everyone holds two teams.
    let teams = 2.min(count);
    for team in 0..teams {
        writeln!(
            out,
            "dn: cn=team-{team},ou=groups,{BASE_DN}\nobjectClass: groupOfNames\ncn: team-{team}"
        )?;
        for p in people.iter().skip(team).step_by(2).take(20) {
            line(&mut out, "member", p.dn.as_bytes())?;
        }
        writeln!(out)?;
    }
    if teams > 0 {
        writeln!(
            out,
            "dn: cn=everyone,ou=groups,{BASE_DN}\nobjectClass: groupOfNames\ncn: everyone"
        )?;
        for team in 0..teams {
            writeln!(out, "member: cn=team-{team},ou=groups,{BASE_DN}")?;
        }
        writeln!(out)?;
    }
    out.flush()?;
    Ok(people)
}

fn capitalised(s: &str) -> String {
    s.split('.')
        .map(|part| {
            let mut c = part.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(".")
}
