//! How busy a calendar says a person is during an event.

use serde::{Deserialize, Serialize};

/// The free/busy type of an event, as EWS (`LegacyFreeBusyType`) and Graph (`freeBusyStatus`) report it.
///
/// `NoData` stands for anything the source did not or could not say: an unknown value from a newer
/// server, a missing field, an error. It is never treated as free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusyType {
    Free,
    Tentative,
    Busy,
    Oof,
    WorkingElsewhere,
    NoData,
}

impl BusyType {
    /// Overlap precedence: when events overlap, the higher rank decides the state.
    /// OOF > Busy > WorkingElsewhere > Tentative > Free. `NoData` ranks just below OOF so that an
    /// unknown slot is never hidden by a weaker kind and never shows as free.
    pub fn rank(self) -> u8 {
        match self {
            BusyType::Free => 0,
            BusyType::Tentative => 1,
            BusyType::WorkingElsewhere => 2,
            BusyType::Busy => 3,
            BusyType::NoData => 4,
            BusyType::Oof => 5,
        }
    }

    /// Parses the names EWS and Graph use, case-insensitively (`Busy`, `OOF`, `workingElsewhere`,
    /// `NoData`, `unknown`). Anything unrecognised becomes `NoData`, never `Free`.
    pub fn parse_lenient(s: &str) -> BusyType {
        let t = s.trim();
        if t.eq_ignore_ascii_case("free") {
            BusyType::Free
        } else if t.eq_ignore_ascii_case("tentative") {
            BusyType::Tentative
        } else if t.eq_ignore_ascii_case("busy") {
            BusyType::Busy
        } else if t.eq_ignore_ascii_case("oof") {
            BusyType::Oof
        } else if t.eq_ignore_ascii_case("workingelsewhere")
            || t.eq_ignore_ascii_case("working_elsewhere")
        {
            BusyType::WorkingElsewhere
        } else {
            BusyType::NoData
        }
    }

    /// The EWS `LegacyFreeBusyType` spelling.
    pub fn ews_name(self) -> &'static str {
        match self {
            BusyType::Free => "Free",
            BusyType::Tentative => "Tentative",
            BusyType::Busy => "Busy",
            BusyType::Oof => "OOF",
            BusyType::WorkingElsewhere => "WorkingElsewhere",
            BusyType::NoData => "NoData",
        }
    }

    /// The digit of an EWS `MergedFreeBusy` string or a Graph `availabilityView`.
    pub fn merged_digit(self) -> char {
        match self {
            BusyType::Free => '0',
            BusyType::Tentative => '1',
            BusyType::Busy => '2',
            BusyType::Oof => '3',
            BusyType::WorkingElsewhere => '4',
            BusyType::NoData => '5',
        }
    }

    /// The inverse of [`BusyType::merged_digit`]; unknown digits are `NoData`.
    pub fn from_merged_digit(c: char) -> BusyType {
        match c {
            '0' => BusyType::Free,
            '1' => BusyType::Tentative,
            '2' => BusyType::Busy,
            '3' => BusyType::Oof,
            '4' => BusyType::WorkingElsewhere,
            _ => BusyType::NoData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_parsing_never_invents_free() {
        let table = [
            ("Free", BusyType::Free),
            ("free", BusyType::Free),
            ("Tentative", BusyType::Tentative),
            ("Busy", BusyType::Busy),
            ("OOF", BusyType::Oof),
            ("oof", BusyType::Oof),
            ("WorkingElsewhere", BusyType::WorkingElsewhere),
            ("workingElsewhere", BusyType::WorkingElsewhere),
            ("NoData", BusyType::NoData),
            ("unknown", BusyType::NoData),
            ("", BusyType::NoData),
            ("Freeish", BusyType::NoData),
        ];
        for (input, want) in table {
            assert_eq!(BusyType::parse_lenient(input), want, "input {input:?}");
        }
    }

    #[test]
    fn merged_digits_round_trip() {
        for b in [
            BusyType::Free,
            BusyType::Tentative,
            BusyType::Busy,
            BusyType::Oof,
            BusyType::WorkingElsewhere,
            BusyType::NoData,
        ] {
            assert_eq!(BusyType::from_merged_digit(b.merged_digit()), b);
        }
        assert_eq!(BusyType::from_merged_digit('9'), BusyType::NoData);
    }
}
