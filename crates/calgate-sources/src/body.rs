//! Reading an HTTP answer's body with a size cap, shared by the EWS and Graph sources.
//!
//! The cap is checked against the declared length before anything is read and against what
//! arrived after every chunk, so a server cannot make calgate hold more than the cap. The buffer
//! is sized once from the declared length: growing it by doubling copied every large answer
//! about twice over.

/// The first allocation when the server does not declare a length (chunked answers).
const INITIAL_BYTES: usize = 64 * 1024;

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// Declared or delivered beyond the cap.
    TooLarge,
    /// The read failed part-way (a timeout, a reset connection).
    Failed(reqwest::Error),
}

/// The whole body, at most `cap` bytes.
pub async fn read_capped(
    response: &mut reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, BodyError> {
    let declared = response.content_length();
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(BodyError::TooLarge);
    }
    let expected = declared.map_or(INITIAL_BYTES, |n| usize::try_from(n).unwrap_or(cap));
    let mut body = Vec::with_capacity(expected.min(cap));
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > cap {
                    return Err(BodyError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(BodyError::Failed(e)),
        }
    }
}
