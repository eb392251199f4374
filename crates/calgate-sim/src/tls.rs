//! A generated CA and a server certificate for `localhost` and `127.0.0.1` signed by it.
//! Clients trust the CA file (`ca_cert_pem_path`); nothing is ever installed system-wide.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// The PEM material a TLS listener needs.
#[derive(Debug)]
pub struct TlsMaterial {
    /// The server certificate followed by the CA certificate.
    pub cert_chain_pem: String,
    pub key_pem: String,
    pub ca_cert_pem_path: PathBuf,
}

/// Generates a fresh CA and server certificate; writes the CA to `dir/calgate-sim-ca.pem`.
pub fn generate(dir: &Path) -> anyhow::Result<TlsMaterial> {
    let ca_key = KeyPair::generate().context("generating the CA key")?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "calgate-sim test CA");
    ca_params.distinguished_name = ca_name;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).context("signing the CA")?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().context("generating the server key")?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "localhost");
    params.distinguished_name = name;
    let server_cert = params
        .signed_by(&server_key, &issuer)
        .context("signing the server certificate")?;

    let ca_pem = ca_cert.pem();
    let ca_cert_pem_path = dir.join("calgate-sim-ca.pem");
    std::fs::write(&ca_cert_pem_path, &ca_pem)
        .with_context(|| format!("writing {}", ca_cert_pem_path.display()))?;
    Ok(TlsMaterial {
        cert_chain_pem: format!("{}{}", server_cert.pem(), ca_pem),
        key_pem: server_key.serialize_pem(),
        ca_cert_pem_path,
    })
}
