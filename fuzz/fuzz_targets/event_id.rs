//! Any `Last-Event-ID` a stream client may send, through the one id reader. It must answer an id
//! or `None`, never panic; an id it accepts is written back (`Display`) as text that reads back
//! to the same id, and an id written by the gateway always reads back to itself.

#![no_main]

use calgate_engine::EventId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The header value as a client sends it.
    if let Ok(text) = std::str::from_utf8(data)
        && let Some(id) = EventId::parse(text)
    {
        let written = id.to_string();
        assert_eq!(
            EventId::parse(&written),
            Some(id),
            "{text:?} -> {written:?}"
        );
    }
    // Any id the gateway may write reads back as itself.
    if let (Some(epoch), Some(seq)) = (data.get(..8), data.get(8..16))
        && let (Ok(epoch), Ok(seq)) = (epoch.try_into(), seq.try_into())
    {
        let id = EventId {
            epoch: u64::from_le_bytes(epoch),
            seq: u64::from_le_bytes(seq),
        };
        assert_eq!(EventId::parse(&id.to_string()), Some(id), "{id:?}");
    }
});
