//! Exchange versions (the seed's "Version" field) and what each allows. In the core so the
//! settings schema and the EWS wire crate share one enum without depending on each other.

use std::fmt;

/// The `RequestServerVersion` values calgate can send, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExchangeVersion {
    Exchange2007Sp1,
    Exchange2010,
    Exchange2010Sp1,
    Exchange2010Sp2,
    Exchange2013,
    /// 2013 SP1 or newer (2016, 2019, Subscription Edition, Exchange Online).
    Exchange2013Sp1,
}

impl ExchangeVersion {
    pub const ALL: [ExchangeVersion; 6] = [
        ExchangeVersion::Exchange2007Sp1,
        ExchangeVersion::Exchange2010,
        ExchangeVersion::Exchange2010Sp1,
        ExchangeVersion::Exchange2010Sp2,
        ExchangeVersion::Exchange2013,
        ExchangeVersion::Exchange2013Sp1,
    ];

    /// The schema's `ExchangeVersionType` spelling.
    pub fn wire_name(self) -> &'static str {
        match self {
            ExchangeVersion::Exchange2007Sp1 => "Exchange2007_SP1",
            ExchangeVersion::Exchange2010 => "Exchange2010",
            ExchangeVersion::Exchange2010Sp1 => "Exchange2010_SP1",
            ExchangeVersion::Exchange2010Sp2 => "Exchange2010_SP2",
            ExchangeVersion::Exchange2013 => "Exchange2013",
            ExchangeVersion::Exchange2013Sp1 => "Exchange2013_SP1",
        }
    }

    /// The settings/API spelling (`exchange2013_sp1`).
    pub fn setting_name(self) -> &'static str {
        match self {
            ExchangeVersion::Exchange2007Sp1 => "exchange2007_sp1",
            ExchangeVersion::Exchange2010 => "exchange2010",
            ExchangeVersion::Exchange2010Sp1 => "exchange2010_sp1",
            ExchangeVersion::Exchange2010Sp2 => "exchange2010_sp2",
            ExchangeVersion::Exchange2013 => "exchange2013",
            ExchangeVersion::Exchange2013Sp1 => "exchange2013_sp1",
        }
    }

    /// Parses either spelling.
    pub fn parse(s: &str) -> Option<ExchangeVersion> {
        ExchangeVersion::ALL
            .into_iter()
            .find(|v| v.wire_name() == s || v.setting_name() == s)
    }

    /// `GetMailTips` exists from Exchange 2010 on.
    pub fn supports_mail_tips(self) -> bool {
        self >= ExchangeVersion::Exchange2010
    }
}

impl fmt::Display for ExchangeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_parse_and_mail_tips_need_2010() {
        for v in ExchangeVersion::ALL {
            assert_eq!(ExchangeVersion::parse(v.wire_name()), Some(v));
            assert_eq!(ExchangeVersion::parse(v.setting_name()), Some(v));
        }
        assert_eq!(ExchangeVersion::parse("Exchange2016"), None);
        assert!(!ExchangeVersion::Exchange2007Sp1.supports_mail_tips());
        assert!(ExchangeVersion::Exchange2010.supports_mail_tips());
    }
}
