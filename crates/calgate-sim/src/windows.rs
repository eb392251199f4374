//! Windows authentication on the EWS endpoint: which schemes the server offers
//! (`--ews-auth basic,ntlm,negotiate,bearer`) and the NTLM handshake, run by the `sspi` crate.
//!
//! NTLM authenticates the connection, not the request: the NEGOTIATE and AUTHENTICATE messages
//! and every later request must arrive on one kept-alive connection. Connections are told apart
//! by the peer's address (axum's `ConnectInfo`), which is unique while the connection is open.
//! `Negotiate` carries the same raw NTLM messages here (as IIS accepts them); a SPNEGO-wrapped
//! token is not understood and gets a fresh challenge. A failed AUTHENTICATE counts toward the
//! account's lockout exactly like a wrong Basic password.
//!
//! Known limit of sspi 0.23's server side: the password is proven through the AUTHENTICATE
//! message's MIC only (the NTProofStr is not compared), so a client that sends no MIC is not
//! checked. Every client the suite drives (exchangelib/pyspnego, sspi) sends one.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sspi::{
    AuthIdentity, BufferType, CredentialUse, DataRepresentation, Ntlm, SecurityBuffer,
    SecurityStatus, ServerRequestFlags, Sspi, SspiEx, SspiImpl, Username,
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
    /// The CHALLENGE went out; the context waits for the AUTHENTICATE message.
    Challenged(Box<Ntlm>),
    /// The handshake succeeded for this account (lower-case UPN).
    Authenticated(String),
}

/// The NTLM state of every connection that started a handshake.
#[derive(Default)]
pub struct WindowsConnections {
    inner: Mutex<HashMap<SocketAddr, ConnectionAuth>>,
}

impl fmt::Debug for WindowsConnections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WindowsConnections").finish_non_exhaustive()
    }
}

/// What one `Authorization: NTLM|Negotiate …` header led to.
#[derive(Debug)]
pub enum HandshakeStep {
    /// Send this CHALLENGE token (base64) with a 401.
    Challenge(String),
    /// The AUTHENTICATE message was read; the caller checks the password with `verify`.
    Authenticate(PendingLogon),
    /// The token was not understood (garbage, out of order, SPNEGO): answer a plain 401.
    Refused,
}

/// An AUTHENTICATE message whose user is known and whose response is not checked yet.
#[derive(Debug)]
pub struct PendingLogon {
    ntlm: Box<Ntlm>,
    /// The user as the client sent it: `(account, domain)`, domain empty for a UPN.
    pub user: String,
    pub domain: String,
}

impl PendingLogon {
    /// Whether the NTLMv2 response (and its MIC) was computed with `password`.
    pub fn verify(mut self, password: &str) -> bool {
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
}

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

impl WindowsConnections {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, ConnectionAuth>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The account this connection authenticated as, if it did.
    pub fn authenticated(&self, peer: SocketAddr) -> Option<String> {
        match self.lock().get(&peer) {
            Some(ConnectionAuth::Authenticated(upn)) => Some(upn.clone()),
            _ => None,
        }
    }

    /// Records that the handshake on `peer` succeeded for `upn`.
    pub fn set_authenticated(&self, peer: SocketAddr, upn: String) {
        self.lock().insert(peer, ConnectionAuth::Authenticated(upn));
    }

    /// One step of the handshake on `peer` with the base64 token of an `Authorization` header.
    pub fn step(&self, peer: SocketAddr, token_b64: &str) -> HandshakeStep {
        use base64::Engine;
        let Ok(token) = base64::engine::general_purpose::STANDARD.decode(token_b64.trim()) else {
            return HandshakeStep::Refused;
        };
        match message_type(&token) {
            Some(1) => {
                let mut ntlm = Box::new(Ntlm::new());
                match accept(&mut ntlm, token) {
                    Ok((SecurityStatus::ContinueNeeded, challenge)) => {
                        self.lock().insert(peer, ConnectionAuth::Challenged(ntlm));
                        HandshakeStep::Challenge(
                            base64::engine::general_purpose::STANDARD.encode(challenge),
                        )
                    }
                    _ => HandshakeStep::Refused,
                }
            }
            Some(3) => {
                let Some(ConnectionAuth::Challenged(mut ntlm)) = self.lock().remove(&peer) else {
                    return HandshakeStep::Refused;
                };
                match accept(&mut ntlm, token) {
                    Ok((SecurityStatus::CompleteNeeded, _)) => {}
                    _ => return HandshakeStep::Refused,
                }
                let Ok(names) = ntlm.query_context_names() else {
                    return HandshakeStep::Refused;
                };
                let (user, domain) = match names.username.parts() {
                    sspi::UsernameParts::UserPrincipalName(p) => {
                        (p.upn().to_owned(), String::new())
                    }
                    sspi::UsernameParts::DownLevelLogonName(p) => (
                        p.account_name().to_owned(),
                        p.netbios_domain().unwrap_or_default().to_owned(),
                    ),
                };
                HandshakeStep::Authenticate(PendingLogon { ntlm, user, domain })
            }
            _ => HandshakeStep::Refused,
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

    #[test]
    fn garbage_tokens_are_refused_without_panic() {
        let c = WindowsConnections::default();
        let peer: SocketAddr = "127.0.0.1:1".parse().expect("address");
        for token in ["", "!!!", "TlRMTVNTUAAB", "TlRMTVNTUAADAAAA", "YIIB"] {
            assert!(matches!(c.step(peer, token), HandshakeStep::Refused));
        }
    }
}
