//! Windows authentication for EWS on premises: the NTLMv2 handshake, run by the `sspi` crate,
//! over connections of our own.
//!
//! NTLM authenticates a connection, not a request: the NEGOTIATE message, the server's
//! CHALLENGE and the AUTHENTICATE message must travel on one kept-alive connection, and requests
//! after it on that connection need no header. So each [`WindowsConnection`] is a client of its
//! own that keeps exactly one HTTP/1.1 connection (IIS does not do Windows authentication over
//! HTTP/2), used by one request at a time. A server that closed the connection answers the next
//! request 401 without a token, and the handshake runs again: that is not a refusal. Only a 401
//! to the AUTHENTICATE message is.
//!
//! The scheme is the server's: `NTLM` when offered (the default on-premises EWS offers
//! `Negotiate` and `NTLM`), else `Negotiate`, which carries the NTLM messages inside SPNEGO
//! (RFC 4178) as Windows clients send them: sspi's `Negotiate` package, limited to NTLM, writes
//! the NegTokenInit and NegTokenResp and the mechListMIC that Windows servers require from a
//! client whose AUTHENTICATE carries a MIC (RFC 4178 makes it optional there; Microsoft's SPNEGO
//! does not), and checks the server's mechListMIC in its final NegTokenResp when the answer
//! carries one. A server that answers the SPNEGO offer with a bare CHALLENGE gets a bare
//! AUTHENTICATE back. sspi parses the server's tokens; a malformed one is a typed error, never
//! a panic.

use std::fmt;

use base64::Engine as _;
use calgate_ews::{AuthChallenge, EwsError};
use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use sspi::ntlm::NtlmConfig;
use sspi::{
    AuthIdentity, BufferType, ClientRequestFlags, CredentialUse, Credentials, DataRepresentation,
    Negotiate, NegotiateConfig, Ntlm, SecurityBuffer, Sspi, SspiImpl, Username,
};

/// The scheme a handshake runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowsScheme {
    Ntlm,
    Negotiate,
}

impl WindowsScheme {
    /// What the server offers, `NTLM` first; `None` when it offers neither.
    pub fn offered(challenge: &AuthChallenge) -> Option<WindowsScheme> {
        if challenge.ntlm {
            Some(WindowsScheme::Ntlm)
        } else if challenge.negotiate {
            Some(WindowsScheme::Negotiate)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            WindowsScheme::Ntlm => "NTLM",
            WindowsScheme::Negotiate => "Negotiate",
        }
    }

    /// The `Authorization` value carrying `token`.
    pub fn header(self, token: &[u8]) -> Result<HeaderValue, EwsError> {
        let value = format!(
            "{} {}",
            self.name(),
            base64::engine::general_purpose::STANDARD.encode(token)
        );
        let mut header = HeaderValue::from_str(&value).map_err(|_| malformed("header"))?;
        header.set_sensitive(true);
        Ok(header)
    }

    /// The server's token in a 401 (`WWW-Authenticate: NTLM <base64>`), decoded; `Ok(None)` when
    /// the 401 carries no token for this scheme; an error when the token is not base64.
    pub fn token(self, headers: &HeaderMap) -> Result<Option<Vec<u8>>, EwsError> {
        for value in headers.get_all(reqwest::header::WWW_AUTHENTICATE) {
            let Ok(value) = value.to_str() else { continue };
            let Some((scheme, token)) = value.trim().split_once(' ') else {
                continue;
            };
            if scheme.eq_ignore_ascii_case(self.name()) && !token.trim().is_empty() {
                return base64::engine::general_purpose::STANDARD
                    .decode(token.trim())
                    .map(Some)
                    .map_err(|_| malformed("the NTLM challenge is not base64"));
            }
        }
        Ok(None)
    }
}

fn malformed(what: &str) -> EwsError {
    EwsError::Malformed {
        reason: format!("Windows authentication: {what}"),
    }
}

fn ntlm_error(e: sspi::Error) -> EwsError {
    // sspi's messages describe the token, never the password.
    EwsError::Malformed {
        reason: format!("Windows authentication: the server's token was refused: {e}"),
    }
}

/// A user name as sspi takes it: `DOMAIN\user` or a UPN (`user@domain`).
pub fn windows_username(user: &str) -> Result<Username, EwsError> {
    Username::parse(user).map_err(|_| EwsError::Credential {
        reason: "the Windows user name is neither DOMAIN\\user nor a UPN".into(),
        permanent: true,
    })
}

/// The client side of one NTLM handshake: bare under `NTLM`, inside SPNEGO under `Negotiate`.
pub struct NtlmHandshake {
    mechanism: Mechanism,
}

enum Mechanism {
    Ntlm {
        ntlm: Box<Ntlm>,
        credentials: Option<sspi::AuthIdentityBuffers>,
    },
    Spnego {
        negotiate: Box<Negotiate>,
        credentials: Option<sspi::CredentialsBuffers>,
        /// The server answered the SPNEGO offer with a bare CHALLENGE: it gets a bare
        /// AUTHENTICATE and sends no final SPNEGO token.
        bare: bool,
    },
}

impl fmt::Debug for NtlmHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NtlmHandshake").finish_non_exhaustive()
    }
}

/// A server's NTLM message starts with this signature (MS-NLMP 2.2.1).
const NTLM_SIGNATURE: &[u8] = b"NTLMSSP\0";

impl NtlmHandshake {
    /// Starts a handshake under `scheme` for `user` (`DOMAIN\user` or a UPN): the NEGOTIATE
    /// message, bare or in a SPNEGO NegTokenInit.
    pub fn start(
        scheme: WindowsScheme,
        user: &str,
        password: &SecretString,
    ) -> Result<(NtlmHandshake, Vec<u8>), EwsError> {
        let identity = AuthIdentity {
            username: windows_username(user)?,
            password: password.expose_secret().to_owned().into(),
        };
        let mechanism = match scheme {
            WindowsScheme::Ntlm => {
                let mut ntlm = Box::new(Ntlm::new());
                let credentials = ntlm
                    .acquire_credentials_handle()
                    .with_credential_use(CredentialUse::Outbound)
                    .with_auth_data(&identity)
                    .execute(&mut *ntlm)
                    .map_err(ntlm_error)?
                    .credentials_handle;
                Mechanism::Ntlm { ntlm, credentials }
            }
            WindowsScheme::Negotiate => {
                // NTLM only: no Kerberos, so no KDC lookup ever leaves this process.
                let config = NegotiateConfig::new(
                    Box::new(NtlmConfig::default()),
                    Some("ntlm".to_owned()),
                    String::new(),
                );
                let mut negotiate = Box::new(Negotiate::new_client(config).map_err(ntlm_error)?);
                let credentials = negotiate
                    .acquire_credentials_handle()
                    .with_credential_use(CredentialUse::Outbound)
                    .with_auth_data(&Credentials::AuthIdentity(identity))
                    .execute(&mut *negotiate)
                    .map_err(ntlm_error)?
                    .credentials_handle;
                Mechanism::Spnego {
                    negotiate,
                    credentials,
                    bare: false,
                }
            }
        };
        let mut handshake = NtlmHandshake { mechanism };
        let negotiate = handshake.step(Vec::new())?;
        Ok((handshake, negotiate))
    }

    /// The AUTHENTICATE message answering the server's CHALLENGE (bare or in a NegTokenResp).
    pub fn authenticate(&mut self, challenge: Vec<u8>) -> Result<Vec<u8>, EwsError> {
        let bare = challenge.starts_with(NTLM_SIGNATURE);
        let Mechanism::Spnego {
            bare: answered_bare,
            ..
        } = &mut self.mechanism
        else {
            return self.step(challenge);
        };
        if !bare {
            return self.step(spnego::whole(challenge)?);
        }
        *answered_bare = true;
        let wrapped = spnego::challenge_resp(challenge)
            .ok_or_else(|| malformed("the bare NTLM challenge could not be put in SPNEGO"))?;
        let answer = self.step(wrapped)?;
        spnego::response_token(&answer)
            .ok_or_else(|| malformed("no AUTHENTICATE message for a bare NTLM challenge"))
    }

    /// Ends the handshake with the server's last token, if the accepted answer carried one: under
    /// SPNEGO its final NegTokenResp must be accept-completed and its mechListMIC, if any, must
    /// verify; a bare NTLM server sends nothing worth reading.
    pub fn finish(&mut self, last: Option<Vec<u8>>) -> Result<(), EwsError> {
        match (&self.mechanism, last) {
            (Mechanism::Spnego { bare: false, .. }, Some(token)) => {
                self.step(spnego::whole(token)?).map(drop)
            }
            _ => Ok(()),
        }
    }

    fn step(&mut self, input: Vec<u8>) -> Result<Vec<u8>, EwsError> {
        match &mut self.mechanism {
            Mechanism::Ntlm { ntlm, credentials } => {
                initialize(&mut **ntlm, credentials, input).map_err(ntlm_error)
            }
            Mechanism::Spnego {
                negotiate,
                credentials,
                ..
            } => initialize(&mut **negotiate, credentials, input).map_err(ntlm_error),
        }
    }
}

/// One client step of an sspi security package: the token to send for the server's `input`.
fn initialize<S: Sspi + SspiImpl>(
    context: &mut S,
    credentials: &mut S::CredentialsHandle,
    input: Vec<u8>,
) -> Result<Vec<u8>, sspi::Error> {
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

/// The few SPNEGO tokens handled outside sspi, in picky-krb's types (sspi's own).
mod spnego {
    use calgate_ews::EwsError;
    use picky_asn1::wrapper::{
        ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2, OctetStringAsn1, Optional,
    };
    use picky_asn1_der::Asn1RawDer;
    use picky_asn1_x509::oids;
    use picky_krb::constants::gss_api::ACCEPT_INCOMPLETE;
    use picky_krb::gss_api::{MechType, NegTokenTarg, NegTokenTarg1};

    /// A bare CHALLENGE as the NegTokenResp a SPNEGO server would have sent: accept-incomplete,
    /// NTLMSSP, the CHALLENGE.
    pub(super) fn challenge_resp(challenge: Vec<u8>) -> Option<Vec<u8>> {
        let resp = NegTokenTarg1::from(NegTokenTarg {
            neg_result: Optional::from(Some(ExplicitContextTag0::from(Asn1RawDer(
                ACCEPT_INCOMPLETE.to_vec(),
            )))),
            supported_mech: Optional::from(Some(ExplicitContextTag1::from(MechType::from(
                oids::ntlm_ssp(),
            )))),
            response_token: Optional::from(Some(ExplicitContextTag2::from(OctetStringAsn1::from(
                challenge,
            )))),
            mech_list_mic: Optional::from(None),
        });
        picky_asn1_der::to_vec(&resp).ok()
    }

    /// `token` when it is one whole DER element: its length octets (short or long form) count
    /// exactly the bytes after them. picky's reader, which sspi uses, does not check the outer
    /// length against the input, so a token cut short could otherwise read as one without its
    /// tail.
    pub(super) fn whole(token: Vec<u8>) -> Result<Vec<u8>, EwsError> {
        let cut = || super::malformed("the server's SPNEGO token is cut short or too long");
        let first = *token.get(1).ok_or_else(cut)?;
        let (header, len) = if first < 0x80 {
            (2, usize::from(first))
        } else {
            let octets = usize::from(first & 0x7f);
            let bytes = token
                .get(2..2 + octets)
                .filter(|_| (1..=4).contains(&octets))
                .ok_or_else(cut)?;
            let len = bytes
                .iter()
                .fold(0usize, |len, &b| (len << 8) | usize::from(b));
            (2 + octets, len)
        };
        if header.checked_add(len) == Some(token.len()) {
            Ok(token)
        } else {
            Err(cut())
        }
    }

    /// The mechanism token inside a NegTokenResp.
    pub(super) fn response_token(resp: &[u8]) -> Option<Vec<u8>> {
        let resp: NegTokenTarg1 = picky_asn1_der::from_bytes(resp).ok()?;
        resp.0.response_token.0.map(|t| t.0.0)
    }
}

/// One connection of our own for Windows authentication, used by one request at a time.
#[derive(Debug)]
pub struct WindowsConnection {
    pub client: reqwest::Client,
    /// The handshake succeeded on the connection the client keeps.
    pub authenticated: bool,
}

/// The Windows connections of one transport (as many as requests it sends at once).
#[derive(Debug)]
pub struct WindowsConnections {
    connections: Vec<tokio::sync::Mutex<WindowsConnection>>,
    free: tokio::sync::Semaphore,
}

/// A connection leased to one request; dropping it gives it back.
#[derive(Debug)]
pub struct Leased<'a> {
    pub connection: tokio::sync::MutexGuard<'a, WindowsConnection>,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl WindowsConnections {
    /// Connections made by `client`, `n` of them (at least one).
    pub fn new<E>(
        n: usize,
        mut client: impl FnMut() -> Result<reqwest::Client, E>,
    ) -> Result<WindowsConnections, E> {
        let n = n.max(1);
        let clients = (0..n).map(|_| client()).collect::<Result<Vec<_>, E>>()?;
        Ok(WindowsConnections {
            connections: clients
                .into_iter()
                .map(|client| {
                    tokio::sync::Mutex::new(WindowsConnection {
                        client,
                        authenticated: false,
                    })
                })
                .collect(),
            free: tokio::sync::Semaphore::new(n),
        })
    }

    /// A free connection, waiting for one if all are busy.
    pub async fn acquire(&self) -> Leased<'_> {
        // The semaphore is never closed; a permit means one connection is unlocked, and it goes
        // back after the connection (fields drop in order).
        let permit = match self.free.acquire().await {
            Ok(permit) => permit,
            Err(_closed) => unreachable_closed(),
        };
        for connection in &self.connections {
            if let Ok(connection) = connection.try_lock() {
                return Leased {
                    connection,
                    _permit: permit,
                };
            }
        }
        // Not reached while permits and connections match; waiting is still correct.
        Leased {
            connection: self.connections[0].lock().await,
            _permit: permit,
        }
    }
}

fn unreachable_closed() -> ! {
    unreachable!("the semaphore of Windows connections is never closed")
}

#[cfg(test)]
mod tests {
    use super::*;

    use picky_asn1_x509::oids;
    use picky_krb::gss_api::{GssApiNegInit, NegTokenTarg1};
    use sspi::{SecurityStatus, ServerRequestFlags};

    fn password() -> SecretString {
        SecretString::from("pw")
    }

    #[test]
    fn a_garbage_challenge_is_a_typed_error() {
        let garbage = [
            Vec::new(),
            b"NTLMSSP\0".to_vec(),
            b"NTLMSSP\0\x02\0\0\0\xff\xff\xff\xff".to_vec(),
            vec![0xff; 300],
            // NegTokenResp: reject, and accept-incomplete without a token.
            vec![0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02],
            vec![0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x01],
            vec![0xa1, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30],
            vec![0x60, 0x03, 0x06, 0x01, 0x00],
        ];
        for scheme in [WindowsScheme::Ntlm, WindowsScheme::Negotiate] {
            for garbage in &garbage {
                let (mut handshake, first) =
                    NtlmHandshake::start(scheme, "CONTOSO\\attendant", &password())
                        .expect("first message");
                match scheme {
                    WindowsScheme::Ntlm => assert!(first.starts_with(NTLM_SIGNATURE)),
                    WindowsScheme::Negotiate => assert_eq!(first.first(), Some(&0x60)),
                }
                assert!(
                    matches!(
                        handshake.authenticate(garbage.clone()),
                        Err(EwsError::Malformed { .. })
                    ),
                    "{scheme:?} {garbage:02x?}"
                );
            }
        }
    }

    /// The NTLM NEGOTIATE message inside our NegTokenInit.
    fn mech_token(init: &[u8]) -> Vec<u8> {
        let mut sequence = init.to_vec();
        sequence[0] = 0x30;
        let init: GssApiNegInit = picky_asn1_der::from_bytes(&sequence).expect("NegTokenInit");
        assert_eq!(init.oid.0, oids::spnego());
        let init = init.neg_token_init.0;
        let mechs = init.mech_types.0.expect("mechTypes").0;
        assert_eq!(
            mechs.0.iter().map(|m| &m.0).collect::<Vec<_>>(),
            [&oids::ntlm_ssp()]
        );
        init.mech_token.0.expect("mechToken").0.0
    }

    /// An sspi NTLM server's CHALLENGE to `negotiate`, and the server context.
    fn server_challenge(negotiate: Vec<u8>) -> (Ntlm, Vec<u8>) {
        let mut server = Ntlm::new();
        let challenge = accept(&mut server, negotiate);
        (server, challenge)
    }

    fn accept(server: &mut Ntlm, token: Vec<u8>) -> Vec<u8> {
        let mut credentials = server
            .acquire_credentials_handle()
            .with_credential_use(CredentialUse::Inbound)
            .execute(server)
            .expect("server credentials")
            .credentials_handle;
        let mut input = [SecurityBuffer::new(token, BufferType::Token)];
        let mut output = [SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let builder = server
            .accept_security_context()
            .with_credentials_handle(&mut credentials)
            .with_context_requirements(ServerRequestFlags::empty())
            .with_target_data_representation(DataRepresentation::Native)
            .with_input(&mut input)
            .with_output(&mut output);
        let result = server
            .accept_security_context_impl(builder)
            .expect("accept")
            .resolve_to_result()
            .expect("accepted");
        assert!(matches!(
            result.status,
            SecurityStatus::ContinueNeeded | SecurityStatus::CompleteNeeded
        ));
        let [out] = output;
        out.buffer
    }

    #[test]
    fn negotiate_wraps_ntlm_in_spnego_and_takes_the_challenge_either_way() {
        // Wrapped: the AUTHENTICATE goes back in a NegTokenResp with a mechListMIC.
        let (mut handshake, init) =
            NtlmHandshake::start(WindowsScheme::Negotiate, "CONTOSO\\attendant", &password())
                .expect("NegTokenInit");
        let (mut server, challenge) = server_challenge(mech_token(&init));
        let wrapped = spnego::challenge_resp(challenge).expect("NegTokenResp");
        let resp = handshake.authenticate(wrapped).expect("AUTHENTICATE");
        let resp: NegTokenTarg1 = picky_asn1_der::from_bytes(&resp).expect("NegTokenResp");
        assert!(resp.0.mech_list_mic.0.is_some(), "Windows requires it");
        let authenticate = resp.0.response_token.0.expect("AUTHENTICATE").0.0;
        assert!(authenticate.starts_with(b"NTLMSSP\0\x03\0\0\0"));
        accept(&mut server, authenticate);
        // No final token, or garbage for one.
        assert!(handshake.finish(None).is_ok());
        for last in [
            vec![0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02],
            vec![0x00; 3],
        ] {
            assert!(matches!(
                handshake.finish(Some(last)),
                Err(EwsError::Malformed { .. })
            ));
        }

        // Bare: a server that answers SPNEGO with a bare CHALLENGE gets a bare AUTHENTICATE.
        let (mut handshake, init) = NtlmHandshake::start(
            WindowsScheme::Negotiate,
            "attendant@contoso.com",
            &password(),
        )
        .expect("NegTokenInit");
        let (mut server, challenge) = server_challenge(mech_token(&init));
        let authenticate = handshake.authenticate(challenge).expect("AUTHENTICATE");
        assert!(authenticate.starts_with(b"NTLMSSP\0\x03\0\0\0"));
        accept(&mut server, authenticate);
        assert!(
            handshake.finish(Some(vec![0xff])).is_ok(),
            "nothing to read"
        );
    }

    #[test]
    fn a_cut_or_corrupted_spnego_challenge_is_a_typed_error_or_an_answer() {
        let (_, init) =
            NtlmHandshake::start(WindowsScheme::Negotiate, "CONTOSO\\attendant", &password())
                .expect("NegTokenInit");
        let (_, challenge) = server_challenge(mech_token(&init));
        let good = spnego::challenge_resp(challenge).expect("NegTokenResp");
        for cut in 0..good.len() {
            let (mut handshake, _) =
                NtlmHandshake::start(WindowsScheme::Negotiate, "CONTOSO\\attendant", &password())
                    .expect("NegTokenInit");
            assert!(matches!(
                handshake.authenticate(good[..cut].to_vec()),
                Err(EwsError::Malformed { .. })
            ));
        }
        for i in 0..good.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[i] ^= flip;
                let (mut handshake, _) = NtlmHandshake::start(
                    WindowsScheme::Negotiate,
                    "CONTOSO\\attendant",
                    &password(),
                )
                .expect("NegTokenInit");
                // A flip inside the challenge's payload may still read; none may panic.
                let _ = handshake.authenticate(bad);
            }
        }
    }

    #[test]
    fn tokens_are_read_from_the_right_scheme() {
        let mut headers = HeaderMap::new();
        headers.append("www-authenticate", HeaderValue::from_static("Negotiate"));
        headers.append(
            "www-authenticate",
            HeaderValue::from_static("NTLM TlRMTVNTUAAC"),
        );
        assert_eq!(
            WindowsScheme::Ntlm.token(&headers).expect("base64"),
            Some(b"NTLMSSP\0\x02".to_vec()).map(|mut v| {
                v.truncate(9);
                v
            })
        );
        assert_eq!(
            WindowsScheme::Negotiate.token(&headers).expect("none"),
            None
        );
        headers.append(
            "www-authenticate",
            HeaderValue::from_static("Negotiate !!!"),
        );
        assert!(WindowsScheme::Negotiate.token(&headers).is_err());
    }
}
