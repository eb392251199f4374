//! Windows authentication on the EWS endpoint: which schemes the server offers
//! (`--ews-auth basic,ntlm,negotiate,bearer`) and the NTLM handshake, run by the `sspi` crate.
//!
//! NTLM authenticates the connection, not the request: the NEGOTIATE and AUTHENTICATE messages
//! and every later request must arrive on one kept-alive connection. Connections are told apart
//! by the peer's address (axum's `ConnectInfo`), which is unique while the connection is open;
//! the server tells this table when a connection opens and closes, so an entry lives exactly as
//! long as its connection (and a reused address starts afresh).
//!
//! `Negotiate` takes NTLM in either form and answers in the form the client used: bare NTLM
//! messages (as IIS accepts them), or NTLM inside SPNEGO (RFC 4178), which is what Windows
//! clients send: a NegTokenInit in the GSS-API wrapper offering NTLMSSP, answered by a
//! NegTokenResp (accept-incomplete, NTLMSSP, the CHALLENGE); the AUTHENTICATE comes back in a
//! NegTokenResp with a mechListMIC, which is required, as Windows requires it from a client whose
//! AUTHENTICATE carries a MIC; the final NegTokenResp (accept-completed, our mechListMIC) goes out
//! with the answer. A SPNEGO token that offers no NTLM is refused with a fresh challenge. The
//! SPNEGO types and their DER are picky-krb's (the crates sspi itself uses); the MICs are sspi's
//! NTLM signatures. sspi's own `Negotiate` server is not used: it reads the NegTokenInit through
//! a picky-krb wrapper that panics on a malformed body, and it wants the password before the
//! AUTHENTICATE message names the user, whose failures the accounts must count. A failed AUTHENTICATE counts toward the account's lockout exactly like a
//! wrong Basic password; a missing or wrong mechListMIC after a right password is a refusal that
//! does not.
//!
//! Known limit of sspi 0.23's server side: the password is proven through the AUTHENTICATE
//! message's MIC only (the NTProofStr is not compared), so a client that sends no MIC is not
//! checked. Every client the suite drives (exchangelib/pyspnego, sspi) sends one.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Mutex;

use picky_asn1::wrapper::{
    ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2, ExplicitContextTag3,
    OctetStringAsn1, Optional,
};
use picky_asn1_der::Asn1RawDer;
use picky_asn1_x509::oids;
use picky_krb::constants::gss_api::{ACCEPT_COMPLETE, ACCEPT_INCOMPLETE};
use picky_krb::gss_api::{GssApiNegInit, MechType, MechTypeList, NegTokenTarg, NegTokenTarg1};
use serde::{Deserialize, Serialize};
use sspi::{
    AuthIdentity, BufferType, CredentialUse, DataRepresentation, Ntlm, SecurityBuffer,
    SecurityBufferRef, SecurityStatus, ServerRequestFlags, Sspi, SspiEx, SspiImpl, Username,
};

/// The schemes the EWS endpoint offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EwsAuth {
    pub basic: bool,
    pub ntlm: bool,
    pub negotiate: bool,
    pub bearer: bool,
}

impl Default for EwsAuth {
    /// What the simulator offered before Windows authentication: Basic and Bearer.
    fn default() -> EwsAuth {
        EwsAuth {
            basic: true,
            ntlm: false,
            negotiate: false,
            bearer: true,
        }
    }
}

impl EwsAuth {
    /// Whether a Windows scheme is offered.
    pub fn windows(&self) -> bool {
        self.ntlm || self.negotiate
    }
}

impl FromStr for EwsAuth {
    type Err = String;

    fn from_str(s: &str) -> Result<EwsAuth, String> {
        let mut auth = EwsAuth {
            basic: false,
            ntlm: false,
            negotiate: false,
            bearer: false,
        };
        for word in s.split(',').map(str::trim) {
            match word.to_ascii_lowercase().as_str() {
                "basic" => auth.basic = true,
                "ntlm" => auth.ntlm = true,
                "negotiate" => auth.negotiate = true,
                "bearer" => auth.bearer = true,
                other => {
                    return Err(format!(
                        "unknown EWS authentication scheme {other:?} (basic, ntlm, negotiate, bearer)"
                    ));
                }
            }
        }
        if auth
            == (EwsAuth {
                basic: false,
                ntlm: false,
                negotiate: false,
                bearer: false,
            })
        {
            return Err("at least one EWS authentication scheme is needed".to_owned());
        }
        Ok(auth)
    }
}

/// Where one connection's NTLM handshake stands.
enum ConnectionAuth {
    /// SPNEGO chose NTLM, but the client's first token was for another mechanism or absent: its
    /// NEGOTIATE message comes in a NegTokenResp. Holds the DER of the client's mechanism list.
    NtlmSelected { mech_types: Vec<u8> },
    /// The CHALLENGE went out; the context waits for the AUTHENTICATE message. `spnego` holds the
    /// DER of the client's mechanism list when the tokens are SPNEGO-wrapped.
    Challenged {
        ntlm: Box<Ntlm>,
        spnego: Option<Vec<u8>>,
    },
    /// The handshake succeeded for this account (lower-case UPN).
    Authenticated(String),
}

/// One open connection: which one it is (addresses are reused) and its handshake, if any.
struct Slot {
    connection: u64,
    auth: Option<ConnectionAuth>,
}

#[derive(Default)]
struct Table {
    slots: HashMap<SocketAddr, Slot>,
    opened: u64,
}

/// The NTLM state of every open connection.
#[derive(Default)]
pub struct WindowsConnections {
    inner: Mutex<Table>,
}

impl fmt::Debug for WindowsConnections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WindowsConnections").finish_non_exhaustive()
    }
}

/// An open connection, as [`WindowsConnections::opened`] numbered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionId(u64);

/// What one `Authorization: NTLM|Negotiate …` header led to.
#[derive(Debug)]
pub enum HandshakeStep {
    /// Send this token (base64: a CHALLENGE, bare or in a NegTokenResp) with a 401.
    Challenge(String),
    /// The AUTHENTICATE message was read; the caller checks the password with `verify`.
    Authenticate(PendingLogon),
    /// The token was not understood (garbage, out of order, no NTLM offered): answer a plain 401.
    Refused,
}

/// What the SPNEGO exchange still needs once the password is proven.
#[derive(Debug)]
struct SpnegoEnd {
    /// The DER of the client's mechanism list, which the mechListMICs sign.
    mech_types: Vec<u8>,
    mech_list_mic: Option<Vec<u8>>,
}

/// An AUTHENTICATE message whose user is known and whose response is not checked yet.
#[derive(Debug)]
pub struct PendingLogon {
    ntlm: Box<Ntlm>,
    /// The user as the client sent it: `(account, domain)`, domain empty for a UPN.
    pub user: String,
    pub domain: String,
    spnego: Option<SpnegoEnd>,
}

/// The client's SPNEGO mechListMIC was missing or did not verify.
#[derive(Debug)]
pub struct MechListMicRefused;

impl PendingLogon {
    /// Whether the tokens were SPNEGO-wrapped.
    pub fn spnego(&self) -> bool {
        self.spnego.is_some()
    }

    /// Whether the NTLMv2 response (and its MIC) was computed with `password`.
    pub fn verify(&mut self, password: &str) -> bool {
        let Ok(username) = Username::new(
            &self.user,
            Some(self.domain.as_str()).filter(|d| !d.is_empty()),
        ) else {
            return false;
        };
        let identity = AuthIdentity {
            username,
            password: password.to_owned().into(),
        };
        if self.ntlm.custom_set_auth_identity(identity).is_err() {
            return false;
        }
        matches!(
            self.ntlm.complete_auth_token(&mut []),
            Ok(SecurityStatus::Ok)
        )
    }

    /// Ends a logon whose password `verify` proved: for SPNEGO, checks the client's mechListMIC
    /// and returns the final token (base64 NegTokenResp: accept-completed and our mechListMIC)
    /// for the answer; bare NTLM has none.
    pub fn finish(mut self) -> Result<Option<String>, MechListMicRefused> {
        use base64::Engine;
        let Some(end) = self.spnego.take() else {
            return Ok(None);
        };
        let mut mic = end.mech_list_mic.ok_or(MechListMicRefused)?;
        let mut signed = end.mech_types.clone();
        let mut message = [
            SecurityBufferRef::data_buf(&mut signed),
            SecurityBufferRef::token_buf(&mut mic),
        ];
        self.ntlm
            .verify_signature(&mut message, 0)
            .map_err(|_| MechListMicRefused)?;
        let mut signed = end.mech_types;
        let mut ours = vec![0; NTLM_SIGNATURE_LEN];
        let mut message = [
            SecurityBufferRef::data_buf(&mut signed),
            SecurityBufferRef::token_buf(&mut ours),
        ];
        self.ntlm
            .make_signature(0, &mut message, 0)
            .map_err(|_| MechListMicRefused)?;
        let token =
            neg_token_resp(&ACCEPT_COMPLETE, false, None, Some(ours)).ok_or(MechListMicRefused)?;
        Ok(Some(
            base64::engine::general_purpose::STANDARD.encode(token),
        ))
    }
}

/// An NTLM signature: version, checksum, sequence number (MS-NLMP 2.2.2.9).
const NTLM_SIGNATURE_LEN: usize = 16;

fn accept(ntlm: &mut Ntlm, token: Vec<u8>) -> Result<(SecurityStatus, Vec<u8>), sspi::Error> {
    let mut credentials = ntlm
        .acquire_credentials_handle()
        .with_credential_use(CredentialUse::Inbound)
        .execute(ntlm)?
        .credentials_handle;
    let mut input = [SecurityBuffer::new(token, BufferType::Token)];
    let mut output = [SecurityBuffer::new(Vec::new(), BufferType::Token)];
    let builder = ntlm
        .accept_security_context()
        .with_credentials_handle(&mut credentials)
        .with_context_requirements(ServerRequestFlags::empty())
        .with_target_data_representation(DataRepresentation::Native)
        .with_input(&mut input)
        .with_output(&mut output);
    let result = ntlm
        .accept_security_context_impl(builder)?
        .resolve_to_result()?;
    let [out] = output;
    Ok((result.status, out.buffer))
}

/// The NTLM message type (1, 2 or 3) of a token, if it is NTLM at all.
fn message_type(token: &[u8]) -> Option<u32> {
    let rest = token.strip_prefix(b"NTLMSSP\0")?;
    let bytes: [u8; 4] = rest.get(..4)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

/// A NEGOTIATE message answered: a fresh server context and its CHALLENGE.
fn challenge(negotiate: Vec<u8>) -> Option<(Box<Ntlm>, Vec<u8>)> {
    if message_type(&negotiate) != Some(1) {
        return None;
    }
    let mut ntlm = Box::new(Ntlm::new());
    match accept(&mut ntlm, negotiate) {
        Ok((SecurityStatus::ContinueNeeded, challenge)) => Some((ntlm, challenge)),
        _ => None,
    }
}

/// The AUTHENTICATE message read into `ntlm`'s context: the logon to check.
fn authenticate(
    mut ntlm: Box<Ntlm>,
    token: Vec<u8>,
    spnego: Option<SpnegoEnd>,
) -> Option<PendingLogon> {
    if message_type(&token) != Some(3) {
        return None;
    }
    match accept(&mut ntlm, token) {
        Ok((SecurityStatus::CompleteNeeded, _)) => {}
        _ => return None,
    }
    let names = ntlm.query_context_names().ok()?;
    let (user, domain) = match names.username.parts() {
        sspi::UsernameParts::UserPrincipalName(p) => (p.upn().to_owned(), String::new()),
        sspi::UsernameParts::DownLevelLogonName(p) => (
            p.account_name().to_owned(),
            p.netbios_domain().unwrap_or_default().to_owned(),
        ),
    };
    Some(PendingLogon {
        ntlm,
        user,
        domain,
        spnego,
    })
}

/// A SPNEGO token from a client, read.
enum SpnegoToken {
    Init {
        mech_types: MechTypeList,
        mech_token: Option<Vec<u8>>,
    },
    Resp {
        response_token: Option<Vec<u8>>,
        mech_list_mic: Option<Vec<u8>>,
    },
}

/// DER tag of the GSS-API InitialContextToken (`[APPLICATION 0]`, constructed).
const INITIAL_CONTEXT_TOKEN: u8 = 0x60;
/// DER tag of a NegTokenResp (`[1]`, constructed) inside a NegotiationToken.
const NEG_TOKEN_RESP: u8 = 0xa1;
/// DER tag of a SEQUENCE.
const SEQUENCE: u8 = 0x30;

/// Whether `token` is one whole DER element: its length octets (short or long form) count
/// exactly the bytes that follow them. picky's reader does not check that the outer length
/// matches the input, so a token cut short could otherwise read as one without its tail.
fn whole_der(token: &[u8]) -> bool {
    let Some(&first) = token.get(1) else {
        return false;
    };
    let (header, len) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let octets = usize::from(first & 0x7f);
        let Some(bytes) = token
            .get(2..2 + octets)
            .filter(|_| (1..=4).contains(&octets))
        else {
            return false;
        };
        let len = bytes
            .iter()
            .fold(0usize, |len, &b| (len << 8) | usize::from(b));
        (2 + octets, len)
    };
    header.checked_add(len) == Some(token.len())
}

/// A SPNEGO token read with picky's types: `None` for anything else, garbage included.
fn read_spnego(token: &[u8]) -> Option<SpnegoToken> {
    if !whole_der(token) {
        return None;
    }
    match *token.first()? {
        INITIAL_CONTEXT_TOKEN => {
            // `[APPLICATION 0] IMPLICIT SEQUENCE { thisMech, innerContextToken }`: read as the
            // SEQUENCE it stands for (picky-krb's own wrapper for it panics on bad content).
            let mut sequence = token.to_vec();
            *sequence.first_mut()? = SEQUENCE;
            let init: GssApiNegInit = picky_asn1_der::from_bytes(&sequence).ok()?;
            if init.oid.0 != oids::spnego() {
                return None;
            }
            let init = init.neg_token_init.0;
            Some(SpnegoToken::Init {
                mech_types: init.mech_types.0?.0,
                mech_token: init.mech_token.0.map(|t| t.0.0),
            })
        }
        NEG_TOKEN_RESP => {
            let resp: NegTokenTarg1 = picky_asn1_der::from_bytes(token).ok()?;
            let resp = resp.0;
            Some(SpnegoToken::Resp {
                response_token: resp.response_token.0.map(|t| t.0.0),
                mech_list_mic: resp.mech_list_mic.0.map(|t| t.0.0),
            })
        }
        _ => None,
    }
}

/// A NegTokenResp: `state` (a whole DER ENUMERATED), NTLMSSP as the chosen mechanism when
/// `select`, and the optional token and mechListMIC.
fn neg_token_resp(
    state: &[u8],
    select: bool,
    token: Option<Vec<u8>>,
    mic: Option<Vec<u8>>,
) -> Option<Vec<u8>> {
    let resp = NegTokenTarg1::from(NegTokenTarg {
        neg_result: Optional::from(Some(ExplicitContextTag0::from(Asn1RawDer(state.to_vec())))),
        supported_mech: Optional::from(
            select.then(|| ExplicitContextTag1::from(MechType::from(oids::ntlm_ssp()))),
        ),
        response_token: Optional::from(
            token.map(|t| ExplicitContextTag2::from(OctetStringAsn1::from(t))),
        ),
        mech_list_mic: Optional::from(
            mic.map(|m| ExplicitContextTag3::from(OctetStringAsn1::from(m))),
        ),
    });
    picky_asn1_der::to_vec(&resp).ok()
}

fn encode(token: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(token)
}

impl WindowsConnections {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A connection from `peer` opened: whatever an earlier connection from that address left
    /// is forgotten.
    pub fn opened(&self, peer: SocketAddr) -> ConnectionId {
        let mut table = self.lock();
        table.opened += 1;
        let connection = table.opened;
        table.slots.insert(
            peer,
            Slot {
                connection,
                auth: None,
            },
        );
        ConnectionId(connection)
    }

    /// The connection `id` from `peer` closed: its entry goes.
    pub fn closed(&self, peer: SocketAddr, id: ConnectionId) {
        let mut table = self.lock();
        if table
            .slots
            .get(&peer)
            .is_some_and(|slot| slot.connection == id.0)
        {
            table.slots.remove(&peer);
        }
    }

    /// How many connections the table holds.
    pub fn len(&self) -> usize {
        self.lock().slots.len()
    }

    /// Whether the table holds no connection.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn take(&self, peer: SocketAddr) -> Option<ConnectionAuth> {
        self.lock()
            .slots
            .get_mut(&peer)
            .and_then(|slot| slot.auth.take())
    }

    fn put(&self, peer: SocketAddr, auth: ConnectionAuth) {
        // A connection the server did not announce (a test driving the router alone) gets an
        // entry of its own; `closed` never matches it.
        self.lock()
            .slots
            .entry(peer)
            .or_insert(Slot {
                connection: 0,
                auth: None,
            })
            .auth = Some(auth);
    }

    /// The account this connection authenticated as, if it did.
    pub fn authenticated(&self, peer: SocketAddr) -> Option<String> {
        match self
            .lock()
            .slots
            .get(&peer)
            .and_then(|slot| slot.auth.as_ref())
        {
            Some(ConnectionAuth::Authenticated(upn)) => Some(upn.clone()),
            _ => None,
        }
    }

    /// Records that the handshake on `peer` succeeded for `upn`.
    pub fn set_authenticated(&self, peer: SocketAddr, upn: String) {
        self.put(peer, ConnectionAuth::Authenticated(upn));
    }

    /// One step of the handshake on `peer` with the base64 token of an `Authorization` header;
    /// `negotiate` when the scheme is `Negotiate` (the only one that may carry SPNEGO).
    pub fn step(&self, peer: SocketAddr, negotiate: bool, token_b64: &str) -> HandshakeStep {
        use base64::Engine;
        let Ok(token) = base64::engine::general_purpose::STANDARD.decode(token_b64.trim()) else {
            return HandshakeStep::Refused;
        };
        let step = if message_type(&token).is_some() {
            self.ntlm_step(peer, token)
        } else if negotiate {
            match read_spnego(&token) {
                Some(SpnegoToken::Init {
                    mech_types,
                    mech_token,
                }) => self.spnego_init(peer, mech_types, mech_token),
                Some(SpnegoToken::Resp {
                    response_token,
                    mech_list_mic,
                }) => self.spnego_resp(peer, response_token, mech_list_mic),
                None => None,
            }
        } else {
            None
        };
        step.unwrap_or(HandshakeStep::Refused)
    }

    /// A bare NTLM message.
    fn ntlm_step(&self, peer: SocketAddr, token: Vec<u8>) -> Option<HandshakeStep> {
        if message_type(&token) == Some(3) {
            let Some(ConnectionAuth::Challenged { ntlm, spnego: None }) = self.take(peer) else {
                return None;
            };
            return authenticate(ntlm, token, None).map(HandshakeStep::Authenticate);
        }
        let (ntlm, challenge) = challenge(token)?;
        self.put(peer, ConnectionAuth::Challenged { ntlm, spnego: None });
        Some(HandshakeStep::Challenge(encode(&challenge)))
    }

    /// A NegTokenInit: NTLM is chosen when offered; its NEGOTIATE message, when it came along
    /// as the client's first choice, is answered at once.
    fn spnego_init(
        &self,
        peer: SocketAddr,
        mech_types: MechTypeList,
        mech_token: Option<Vec<u8>>,
    ) -> Option<HandshakeStep> {
        let ntlm_ssp = oids::ntlm_ssp();
        let position = mech_types.0.iter().position(|m| m.0 == ntlm_ssp)?;
        let der = picky_asn1_der::to_vec(&mech_types).ok()?;
        let (reply, auth) = match mech_token.filter(|_| position == 0) {
            Some(negotiate) => {
                let (ntlm, challenge) = challenge(negotiate)?;
                let reply = neg_token_resp(&ACCEPT_INCOMPLETE, true, Some(challenge), None)?;
                (
                    reply,
                    ConnectionAuth::Challenged {
                        ntlm,
                        spnego: Some(der),
                    },
                )
            }
            None => (
                neg_token_resp(&ACCEPT_INCOMPLETE, true, None, None)?,
                ConnectionAuth::NtlmSelected { mech_types: der },
            ),
        };
        self.put(peer, auth);
        Some(HandshakeStep::Challenge(encode(&reply)))
    }

    /// A NegTokenResp: the NEGOTIATE message after NTLM was chosen, or the AUTHENTICATE message.
    fn spnego_resp(
        &self,
        peer: SocketAddr,
        response_token: Option<Vec<u8>>,
        mech_list_mic: Option<Vec<u8>>,
    ) -> Option<HandshakeStep> {
        let token = response_token?;
        match self.take(peer)? {
            ConnectionAuth::NtlmSelected { mech_types } => {
                let (ntlm, challenge) = challenge(token)?;
                let reply = neg_token_resp(&ACCEPT_INCOMPLETE, false, Some(challenge), None)?;
                self.put(
                    peer,
                    ConnectionAuth::Challenged {
                        ntlm,
                        spnego: Some(mech_types),
                    },
                );
                Some(HandshakeStep::Challenge(encode(&reply)))
            }
            ConnectionAuth::Challenged {
                ntlm,
                spnego: Some(mech_types),
            } => {
                let end = SpnegoEnd {
                    mech_types,
                    mech_list_mic,
                };
                authenticate(ntlm, token, Some(end)).map(HandshakeStep::Authenticate)
            }
            _ => None,
        }
    }
}

/// The account a Windows user name stands for in a tenant of mail domain `domain`: a UPN as
/// is; `CONTOSO\ann` (the domain's first label, or the whole domain) as `ann@contoso.com`.
pub fn account_of(user: &str, netbios: &str, domain: &str) -> Option<String> {
    if netbios.is_empty() {
        return user.contains('@').then(|| user.to_ascii_lowercase());
    }
    let first = domain.split('.').next().unwrap_or(domain);
    (netbios.eq_ignore_ascii_case(first) || netbios.eq_ignore_ascii_case(domain)).then(|| {
        format!(
            "{}@{}",
            user.to_ascii_lowercase(),
            domain.to_ascii_lowercase()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_lists_parse_and_refuse_unknown_words() {
        let auth: EwsAuth = "ntlm, Negotiate".parse().expect("valid list");
        assert!(auth.ntlm && auth.negotiate && !auth.basic && !auth.bearer);
        assert!("kerberos".parse::<EwsAuth>().is_err());
        assert!("".parse::<EwsAuth>().is_err());
    }

    #[test]
    fn down_level_names_map_to_the_tenant_domain() {
        assert_eq!(
            account_of("Attendant", "CONTOSO", "contoso.com").as_deref(),
            Some("attendant@contoso.com")
        );
        assert_eq!(account_of("a", "FABRIKAM", "contoso.com"), None);
        assert_eq!(
            account_of("A@Contoso.com", "", "contoso.com").as_deref(),
            Some("a@contoso.com")
        );
    }

    use base64::Engine as _;
    use sspi::ntlm::NtlmConfig;
    use sspi::{ClientRequestFlags, Credentials, Negotiate, NegotiateConfig};

    const PASSWORD: &str = "Attendant-Passw0rd";

    fn b64(token: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(token)
    }

    fn unb64(token: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(token)
            .expect("base64")
    }

    /// A Windows-like client: sspi's Negotiate package (SPNEGO), NTLM only, or bare NTLM.
    enum Client {
        Spnego(Box<Negotiate>, Option<sspi::CredentialsBuffers>),
        Bare(Box<Ntlm>, Option<sspi::AuthIdentityBuffers>),
    }

    fn identity(password: &str) -> AuthIdentity {
        AuthIdentity {
            username: Username::parse("CONTOSO\\attendant").expect("user"),
            password: password.to_owned().into(),
        }
    }

    fn spnego_client(password: &str) -> Client {
        let config = NegotiateConfig::new(
            Box::new(NtlmConfig::default()),
            Some("ntlm".to_owned()),
            String::new(),
        );
        let mut negotiate = Box::new(Negotiate::new_client(config).expect("client"));
        let credentials = negotiate
            .acquire_credentials_handle()
            .with_credential_use(CredentialUse::Outbound)
            .with_auth_data(&Credentials::AuthIdentity(identity(password)))
            .execute(&mut *negotiate)
            .expect("credentials")
            .credentials_handle;
        Client::Spnego(negotiate, credentials)
    }

    fn bare_client(password: &str) -> Client {
        let mut ntlm = Box::new(Ntlm::new());
        let credentials = ntlm
            .acquire_credentials_handle()
            .with_credential_use(CredentialUse::Outbound)
            .with_auth_data(&identity(password))
            .execute(&mut *ntlm)
            .expect("credentials")
            .credentials_handle;
        Client::Bare(ntlm, credentials)
    }

    fn init<S: Sspi + SspiImpl>(
        context: &mut S,
        credentials: &mut S::CredentialsHandle,
        input: Vec<u8>,
    ) -> sspi::Result<Vec<u8>> {
        let mut input = [SecurityBuffer::new(input, BufferType::Token)];
        let mut output = [SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let mut builder = context
            .initialize_security_context()
            .with_credentials_handle(credentials)
            .with_context_requirements(ClientRequestFlags::empty())
            .with_target_data_representation(DataRepresentation::Native)
            .with_input(&mut input)
            .with_output(&mut output);
        context
            .initialize_security_context_impl(&mut builder)?
            .resolve_to_result()?;
        let [out] = output;
        Ok(out.buffer)
    }

    impl Client {
        fn step(&mut self, input: Vec<u8>) -> sspi::Result<Vec<u8>> {
            match self {
                Client::Spnego(c, creds) => init(&mut **c, creds, input),
                Client::Bare(c, creds) => init(&mut **c, creds, input),
            }
        }
    }

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Runs a handshake to the AUTHENTICATE message; the logon and its token as sent.
    fn to_logon(c: &WindowsConnections, client: &mut Client, at: SocketAddr) -> PendingLogon {
        let first = client.step(Vec::new()).expect("first token");
        let HandshakeStep::Challenge(challenge) = c.step(at, true, &b64(&first)) else {
            panic!("no challenge");
        };
        let last = client.step(unb64(&challenge)).expect("authenticate");
        match c.step(at, true, &b64(&last)) {
            HandshakeStep::Authenticate(logon) => logon,
            other => panic!("no logon: {other:?}"),
        }
    }

    #[test]
    fn spnego_and_bare_ntlm_both_sign_in_under_negotiate() {
        let c = WindowsConnections::default();
        let mut client = spnego_client(PASSWORD);
        let first = client.step(Vec::new()).expect("NegTokenInit");
        assert_eq!(
            first.first(),
            Some(&INITIAL_CONTEXT_TOKEN),
            "SPNEGO-wrapped"
        );
        let HandshakeStep::Challenge(challenge) = c.step(peer(1), true, &b64(&first)) else {
            panic!("no challenge");
        };
        // Answered in the client's form: a NegTokenResp choosing NTLMSSP.
        let challenge = unb64(&challenge);
        assert_eq!(challenge.first(), Some(&NEG_TOKEN_RESP));
        let resp: NegTokenTarg1 = picky_asn1_der::from_bytes(&challenge).expect("NegTokenResp");
        assert_eq!(
            resp.0.supported_mech.0.map(|m| m.0.0),
            Some(oids::ntlm_ssp())
        );
        let authenticate = client.step(challenge).expect("AUTHENTICATE");
        let HandshakeStep::Authenticate(mut logon) = c.step(peer(1), true, &b64(&authenticate))
        else {
            panic!("no logon");
        };
        assert!(logon.spnego());
        assert_eq!(
            account_of(&logon.user, &logon.domain, "contoso.com").as_deref(),
            Some("attendant@contoso.com")
        );
        assert!(logon.verify(PASSWORD));
        let last = logon
            .finish()
            .expect("mechListMIC verified")
            .expect("final");
        // The client checks our mechListMIC in the final token.
        client.step(unb64(&last)).expect("final token accepted");

        let mut bare = bare_client(PASSWORD);
        let mut logon = to_logon(&c, &mut bare, peer(2));
        assert!(!logon.spnego());
        assert!(logon.verify(PASSWORD));
        assert!(matches!(logon.finish(), Ok(None)));
    }

    #[test]
    fn a_wrong_password_fails_the_proof_in_either_form() {
        let c = WindowsConnections::default();
        for (port, mut client) in [(1, spnego_client("wrong")), (2, bare_client("wrong"))] {
            let mut logon = to_logon(&c, &mut client, peer(port));
            assert!(!logon.verify(PASSWORD));
        }
    }

    #[test]
    fn a_spnego_authenticate_without_its_mech_list_mic_is_refused() {
        let c = WindowsConnections::default();
        let mut client = spnego_client(PASSWORD);
        let first = client.step(Vec::new()).expect("NegTokenInit");
        let HandshakeStep::Challenge(challenge) = c.step(peer(1), true, &b64(&first)) else {
            panic!("no challenge");
        };
        let authenticate = client.step(unb64(&challenge)).expect("AUTHENTICATE");
        let mut resp: NegTokenTarg1 = picky_asn1_der::from_bytes(&authenticate).expect("resp");
        assert!(resp.0.mech_list_mic.0.is_some(), "sspi sends a mechListMIC");
        resp.0.mech_list_mic = Optional::from(None);
        let stripped = picky_asn1_der::to_vec(&resp).expect("DER");
        let HandshakeStep::Authenticate(mut logon) = c.step(peer(1), true, &b64(&stripped)) else {
            panic!("no logon");
        };
        assert!(logon.verify(PASSWORD));
        assert!(logon.finish().is_err());
    }

    /// A NegTokenInit offering `mechs`, with `token` as the optimistic mechanism token.
    fn neg_token_init(mechs: Vec<MechType>, token: Option<Vec<u8>>) -> Vec<u8> {
        use picky_asn1::wrapper::Asn1SequenceOf;
        use picky_krb::gss_api::NegTokenInit;
        let init = GssApiNegInit {
            oid: oids::spnego().into(),
            neg_token_init: ExplicitContextTag0::from(NegTokenInit {
                mech_types: Optional::from(Some(ExplicitContextTag0::from(Asn1SequenceOf::from(
                    mechs,
                )))),
                req_flags: Optional::from(None),
                mech_token: Optional::from(
                    token.map(|t| ExplicitContextTag2::from(OctetStringAsn1::from(t))),
                ),
                mech_list_mic: Optional::from(None),
            }),
        };
        let mut der = picky_asn1_der::to_vec(&init).expect("DER");
        der[0] = INITIAL_CONTEXT_TOKEN;
        der
    }

    #[test]
    fn ntlm_offered_second_is_chosen_and_its_negotiate_follows() {
        let c = WindowsConnections::default();
        let mut bare = bare_client(PASSWORD);
        let negotiate = bare.step(Vec::new()).expect("NEGOTIATE");
        let init = neg_token_init(
            vec![oids::krb5().into(), oids::ntlm_ssp().into()],
            Some(b"krb".to_vec()),
        );
        let HandshakeStep::Challenge(select) = c.step(peer(1), true, &b64(&init)) else {
            panic!("NTLM not chosen");
        };
        let select: NegTokenTarg1 = picky_asn1_der::from_bytes(&unb64(&select)).expect("resp");
        assert!(select.0.response_token.0.is_none());
        assert_eq!(
            select.0.supported_mech.0.map(|m| m.0.0),
            Some(oids::ntlm_ssp())
        );
        let resp = neg_token_resp(&ACCEPT_INCOMPLETE, false, Some(negotiate), None).expect("DER");
        assert!(matches!(
            c.step(peer(1), true, &b64(&resp)),
            HandshakeStep::Challenge(_)
        ));
    }

    #[test]
    fn a_spnego_offer_without_ntlm_is_refused() {
        let c = WindowsConnections::default();
        let init = neg_token_init(
            vec![oids::krb5().into(), oids::ms_krb5().into()],
            Some(b"krb".to_vec()),
        );
        assert!(matches!(
            c.step(peer(1), true, &b64(&init)),
            HandshakeStep::Refused
        ));
        // SPNEGO is a Negotiate token: under `NTLM` even a good one is refused.
        let mut client = spnego_client(PASSWORD);
        let first = client.step(Vec::new()).expect("NegTokenInit");
        assert!(matches!(
            c.step(peer(2), false, &b64(&first)),
            HandshakeStep::Refused
        ));
    }

    #[test]
    fn garbage_tokens_are_refused_without_panic() {
        let c = WindowsConnections::default();
        let at = peer(1);
        for token in [
            "",
            "!!!",
            "TlRMTVNTUAAB",
            "TlRMTVNTUAADAAAA",
            "YIIB",
            "oQcwBaADCgEC",
        ] {
            for negotiate in [false, true] {
                assert!(matches!(
                    c.step(at, negotiate, token),
                    HandshakeStep::Refused
                ));
            }
        }
        // Every cut and many corruptions of a good NegTokenInit and NegTokenResp: refused or
        // answered, never a panic.
        let mut client = spnego_client(PASSWORD);
        let init = client.step(Vec::new()).expect("NegTokenInit");
        let HandshakeStep::Challenge(challenge) = c.step(peer(9), true, &b64(&init)) else {
            panic!("no challenge");
        };
        let authenticate = client.step(unb64(&challenge)).expect("AUTHENTICATE");
        let kerberos_only = neg_token_init(vec![oids::krb5().into()], None);
        for good in [init, authenticate, kerberos_only] {
            for cut in 0..good.len() {
                let step = c.step(at, true, &b64(&good[..cut]));
                assert!(
                    matches!(step, HandshakeStep::Refused),
                    "{cut}/{}: {step:?} {:02x?}",
                    good.len(),
                    &good[..cut.min(40)]
                );
            }
            for i in 0..good.len() {
                for flip in [0x01, 0x80, 0xff] {
                    let mut bad = good.clone();
                    bad[i] ^= flip;
                    let _ = c.step(at, true, &b64(&bad));
                }
            }
        }
    }

    #[test]
    fn the_table_forgets_closed_connections() {
        let c = WindowsConnections::default();
        let mut ids = Vec::new();
        for port in 1..=3 {
            ids.push(c.opened(peer(port)));
            let mut client = spnego_client(PASSWORD);
            let mut logon = to_logon(&c, &mut client, peer(port));
            assert!(logon.verify(PASSWORD));
            c.set_authenticated(peer(port), "attendant@contoso.com".to_owned());
        }
        assert_eq!(c.len(), 3);
        c.closed(peer(1), ids[0]);
        assert_eq!(c.len(), 2);
        assert_eq!(c.authenticated(peer(1)), None);
        // A new connection from a reused address starts unauthenticated, and the old
        // connection's late close does not remove it.
        let reused = c.opened(peer(2));
        assert_eq!(c.authenticated(peer(2)), None);
        c.closed(peer(2), ids[1]);
        assert_eq!(c.len(), 2);
        c.closed(peer(2), reused);
        c.closed(peer(3), ids[2]);
        assert!(c.is_empty());
    }
}
