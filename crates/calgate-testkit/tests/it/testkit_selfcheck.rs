//! The validator itself must say no to a wrong document, or every "validates" check is hollow.

use calgate_testkit::{EwsDocument, validate_ews};

#[test]
fn schema_validator_accepts_a_known_good_response_and_rejects_a_broken_one() {
    let good = std::fs::read_to_string(
        calgate_testkit::shared_dir().join("ews-validate/msdocs-gua-response.xml"),
    )
    .expect("fixture");
    validate_ews(EwsDocument::Envelope, &good).expect("msdocs response is schema-valid");
    let broken = good.replace("FreeBusyViewType", "FreeBusyViewTypo");
    assert!(validate_ews(EwsDocument::Envelope, &broken).is_err());
}
