//! Just enough PEM reading to tell an administrator, before any sign-in, that a pasted
//! certificate bundle holds what it must: a certificate and an unencrypted private key.
//! The DER inside is only checked to be a well-framed ASN.1 SEQUENCE; deep parsing is left to
//! the TLS and JWT libraries that use it.

use base64::Engine;
use zeroize::Zeroize;

/// What a PEM text contains.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct PemSummary {
    pub certificates: usize,
    pub private_keys: usize,
    pub encrypted_keys: usize,
}

/// Why a PEM text could not be read. Messages never quote the input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PemProblem {
    NoBlocks,
    Unterminated,
    BadBase64,
    NotDer,
}

impl PemProblem {
    pub fn message(&self) -> &'static str {
        match self {
            PemProblem::NoBlocks => "no PEM block (-----BEGIN …-----) found",
            PemProblem::Unterminated => "a PEM block has no matching -----END …----- line",
            PemProblem::BadBase64 => "a PEM block's body is not valid base64",
            PemProblem::NotDer => "a PEM block does not hold DER data",
        }
    }
}

pub(crate) fn summarize(text: &str) -> Result<PemSummary, PemProblem> {
    let mut summary = PemSummary::default();
    let mut blocks = 0;
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        let mut legacy_encrypted = false;
        let mut terminated = false;
        for line in lines.by_ref() {
            if line == end {
                terminated = true;
                break;
            }
            if line.contains(':') {
                // RFC 1421 headers (Proc-Type: 4,ENCRYPTED) of legacy encrypted keys.
                legacy_encrypted |= line.contains("ENCRYPTED");
                continue;
            }
            body.push_str(line);
        }
        if !terminated {
            body.zeroize();
            return Err(PemProblem::Unterminated);
        }
        blocks += 1;
        let decoded = base64::engine::general_purpose::STANDARD.decode(body.as_bytes());
        body.zeroize();
        let mut der = decoded.map_err(|_| PemProblem::BadBase64)?;
        let framed = is_der_sequence(&der);
        der.zeroize();
        if !framed {
            return Err(PemProblem::NotDer);
        }
        match label {
            "CERTIFICATE" | "TRUSTED CERTIFICATE" => summary.certificates += 1,
            "ENCRYPTED PRIVATE KEY" => summary.encrypted_keys += 1,
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" if legacy_encrypted => {
                summary.encrypted_keys += 1
            }
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => summary.private_keys += 1,
            _ => {}
        }
    }
    if blocks == 0 {
        return Err(PemProblem::NoBlocks);
    }
    Ok(summary)
}

/// A DER SEQUENCE whose length header matches the data.
fn is_der_sequence(der: &[u8]) -> bool {
    let [0x30, first, rest @ ..] = der else {
        return false;
    };
    let (len, rest) = if *first < 0x80 {
        (usize::from(*first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return false;
        }
        let (len_bytes, rest) = rest.split_at(n);
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    len == rest.len()
}
