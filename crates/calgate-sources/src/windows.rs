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
//! `Negotiate` and `NTLM`), else `Negotiate` carrying the same NTLM messages, which Windows
//! accepts. sspi parses the CHALLENGE; a malformed one is a typed error, never a panic.

use std::fmt;

use base64::Engine as _;
use calgate_ews::{AuthChallenge, EwsError};
use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use sspi::{
    AuthIdentity, BufferType, ClientRequestFlags, CredentialUse, DataRepresentation, Ntlm,
    SecurityBuffer, Sspi, SspiImpl, Username,
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
        reason: format!("Windows authentication: the server's NTLM challenge was refused: {e}"),
    }
}

/// A user name as sspi takes it: `DOMAIN\user` or a UPN (`user@domain`).
pub fn windows_username(user: &str) -> Result<Username, EwsError> {
    Username::parse(user).map_err(|_| EwsError::Credential {
        reason: "the Windows user name is neither DOMAIN\\user nor a UPN".into(),
        permanent: true,
    })
}

/// The client side of one NTLM handshake.
pub struct NtlmHandshake {
    ntlm: Ntlm,
    credentials: Option<sspi::AuthIdentityBuffers>,
}

impl fmt::Debug for NtlmHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NtlmHandshake").finish_non_exhaustive()
    }
}

impl NtlmHandshake {
    /// Starts a handshake for `user` (`DOMAIN\user` or a UPN): the NEGOTIATE message.
    pub fn start(
        user: &str,
        password: &SecretString,
    ) -> Result<(NtlmHandshake, Vec<u8>), EwsError> {
        let identity = AuthIdentity {
            username: windows_username(user)?,
            password: password.expose_secret().to_owned().into(),
        };
        let mut ntlm = Ntlm::new();
        let credentials = ntlm
            .acquire_credentials_handle()
            .with_credential_use(CredentialUse::Outbound)
            .with_auth_data(&identity)
            .execute(&mut ntlm)
            .map_err(ntlm_error)?
            .credentials_handle;
        let mut handshake = NtlmHandshake { ntlm, credentials };
        let negotiate = handshake.step(None)?;
        Ok((handshake, negotiate))
    }

    /// The AUTHENTICATE message answering the server's CHALLENGE.
    pub fn authenticate(&mut self, challenge: Vec<u8>) -> Result<Vec<u8>, EwsError> {
        self.step(Some(challenge))
    }

    fn step(&mut self, input: Option<Vec<u8>>) -> Result<Vec<u8>, EwsError> {
        let mut input = [SecurityBuffer::new(
            input.unwrap_or_default(),
            BufferType::Token,
        )];
        let mut output = [SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let mut builder = self
            .ntlm
            .initialize_security_context()
            .with_credentials_handle(&mut self.credentials)
            .with_context_requirements(ClientRequestFlags::empty())
            .with_target_data_representation(DataRepresentation::Native)
            .with_input(&mut input)
            .with_output(&mut output);
        self.ntlm
            .initialize_security_context_impl(&mut builder)
            .map_err(ntlm_error)?
            .resolve_to_result()
            .map_err(ntlm_error)?;
        let [out] = output;
        Ok(out.buffer)
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

    #[test]
    fn a_garbage_challenge_is_a_typed_error() {
        let password = SecretString::from("pw");
        for garbage in [
            Vec::new(),
            b"NTLMSSP\0".to_vec(),
            b"NTLMSSP\0\x02\0\0\0\xff\xff\xff\xff".to_vec(),
            vec![0xff; 300],
        ] {
            let (mut handshake, negotiate) =
                NtlmHandshake::start("CONTOSO\\attendant", &password).expect("negotiate message");
            assert!(negotiate.starts_with(b"NTLMSSP\0"));
            assert!(matches!(
                handshake.authenticate(garbage),
                Err(EwsError::Malformed { .. })
            ));
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
