//! The credentials an administrator configures. Secrets are `SecretString`: redacted in `Debug`,
//! zeroized on drop, never `Serialize`, and exposed only at the moment they go on the wire.

use std::fmt;

use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha1::{Digest, Sha1};

use crate::entra::{GrantError, b64url};

/// Username and password for HTTP Basic (on-premises Exchange).
#[derive(Clone)]
pub struct BasicCredential {
    /// The service account (`DOMAIN\user` or a UPN).
    pub username: String,
    /// Its password.
    pub password: SecretString,
}

impl fmt::Debug for BasicCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicCredential")
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

impl BasicCredential {
    /// A credential from its parts.
    pub fn new(username: impl Into<String>, password: SecretString) -> Self {
        Self {
            username: username.into(),
            password,
        }
    }

    /// The `Authorization` header value, itself a secret.
    pub fn header_value(&self) -> SecretString {
        let raw = format!("{}:{}", self.username, self.password.expose_secret());
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw.as_bytes());
        SecretString::from(format!("Basic {encoded}"))
    }
}

/// How an application (app-only, client credentials) proves who it is.
#[derive(Clone)]
pub enum AppSecret {
    /// A client secret from the app registration.
    ClientSecret(SecretString),
    /// A certificate uploaded to the app registration and its private key.
    Certificate(ClientCertificate),
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClientSecret(_) => f.write_str("ClientSecret([REDACTED])"),
            Self::Certificate(c) => f.debug_tuple("Certificate").field(c).finish(),
        }
    }
}

/// A certificate credential: signs RS256 `client_assertion` JWTs whose `x5t` header names the
/// certificate by its SHA-1 thumbprint, as Entra ID expects.
#[derive(Clone)]
pub struct ClientCertificate {
    private_key_pem: SecretString,
    thumbprint: [u8; 20],
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("thumbprint", &self.thumbprint_hex())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

impl ClientCertificate {
    /// From the certificate (PEM, the first `CERTIFICATE` block) and its RSA private key (PEM,
    /// PKCS#8 or PKCS#1). Both are checked now so a bad upload fails at save time.
    pub fn from_pem(
        certificate_pem: &str,
        private_key_pem: SecretString,
    ) -> Result<Self, GrantError> {
        let der = first_pem_block(certificate_pem, "CERTIFICATE").ok_or_else(|| {
            GrantError::Settings("the certificate is not a PEM CERTIFICATE".into())
        })?;
        jsonwebtoken::EncodingKey::from_rsa_pem(private_key_pem.expose_secret().as_bytes())
            .map_err(|_| {
                GrantError::Settings("the private key is not an RSA key in PEM form".into())
            })?;
        let thumbprint: [u8; 20] = Sha1::digest(&der).into();
        Ok(Self {
            private_key_pem,
            thumbprint,
        })
    }

    /// The SHA-1 thumbprint in upper-case hex, as the Azure portal shows it.
    pub fn thumbprint_hex(&self) -> String {
        self.thumbprint.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// A signed assertion for `audience` (the token endpoint), valid for ten minutes.
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: Timestamp,
    ) -> Result<SecretString, GrantError> {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(
            self.private_key_pem.expose_secret().as_bytes(),
        )
        .map_err(|_| {
            GrantError::Settings("the private key is not an RSA key in PEM form".into())
        })?;
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.x5t = Some(b64url(&self.thumbprint));
        let now_s = now.as_second();
        let claims = AssertionClaims {
            aud: audience,
            iss: client_id,
            sub: client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: now_s,
            iat: now_s,
            exp: (now + SignedDuration::from_mins(10)).as_second(),
        };
        jsonwebtoken::encode(&header, &claims, &key)
            .map(SecretString::from)
            .map_err(|e| {
                GrantError::Settings(format!(
                    "cannot sign the client assertion: {}",
                    signing_failure(&e)
                ))
            })
    }
}

/// A signing failure in words that cannot contain key material.
fn signing_failure(e: &jsonwebtoken::errors::Error) -> &'static str {
    match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidKeyFormat => "invalid key format",
        jsonwebtoken::errors::ErrorKind::InvalidRsaKey(_) => "invalid RSA key",
        _ => "signing failed",
    }
}

/// The DER bytes of the first PEM block with `label`.
pub(crate) fn first_pem_block(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem.get(start..)?.find(&end)?;
    let body: String = pem
        .get(start..stop)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_and_debug_keep_the_password_out_of_sight() {
        let cred = BasicCredential::new("CONTOSO\\svc", SecretString::from("S3cret!pw"));
        assert_eq!(
            cred.header_value().expose_secret(),
            "Basic Q09OVE9TT1xzdmM6UzNjcmV0IXB3"
        );
        let shown = format!(
            "{cred:?} {:?}",
            AppSecret::ClientSecret(SecretString::from("S3cret!pw"))
        );
        assert!(!shown.contains("S3cret"), "{shown}");
    }

    #[test]
    fn pem_blocks_are_found_and_garbage_is_refused() {
        let pem = "junk\n-----BEGIN CERTIFICATE-----\nAAEC\nAw==\n-----END CERTIFICATE-----\n";
        assert_eq!(first_pem_block(pem, "CERTIFICATE"), Some(vec![0, 1, 2, 3]));
        assert_eq!(
            first_pem_block(
                "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----",
                "CERTIFICATE"
            ),
            None
        );
        assert!(ClientCertificate::from_pem("nothing", SecretString::from("x")).is_err());
    }
}
