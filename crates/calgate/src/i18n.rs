//! The pages in the reader's language: English, Italian, German, French and Spanish, from Fluent
//! catalogues (`locales/<lang>/<area>.ftl`, built into the binary). The language of a request is the
//! reader's choice (the `calgate_lang` cookie the language picker sets), else the browser's
//! `Accept-Language`, else the site's default; it is set for the handling of each request (a
//! task-local), so page code asks [`current`] instead of passing it through every call.
//!
//! A message missing from a catalogue falls back to English; a test fails when a catalogue
//! misses a key English has. Translated text is plain text: the templates escape it like any
//! other value.

use std::collections::HashMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    It,
    De,
    Fr,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 5] = [Lang::En, Lang::It, Lang::De, Lang::Fr, Lang::Es];

    /// The language tag (`it`), as `<html lang>` and the cookie carry it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::It => "it",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Es => "es",
        }
    }

    /// The language's own name, as the picker lists it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::It => "Italiano",
            Lang::De => "Deutsch",
            Lang::Fr => "Français",
            Lang::Es => "Español",
        }
    }

    /// A tag's language (`de-CH` → German), or `None` for one the pages are not written in.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The language's catalogue, one file per area of the pages (the frame and most pages, the
    /// settings form, guidance for error codes, the notices and confirmations of actions, the
    /// Directories page with the words of directory sync on other pages)
    /// (`locales/<lang>/<area>.ftl`).
    fn sources(self) -> &'static [&'static str] {
        macro_rules! areas {
            ($lang:literal) => {
                &[
                    include_str!(concat!("../locales/", $lang, "/pages.ftl")),
                    include_str!(concat!("../locales/", $lang, "/settings.ftl")),
                    include_str!(concat!("../locales/", $lang, "/guidance.ftl")),
                    include_str!(concat!("../locales/", $lang, "/notices.ftl")),
                    include_str!(concat!("../locales/", $lang, "/directories.ftl")),
                ]
            };
        }
        match self {
            Lang::En => areas!("en"),
            Lang::It => areas!("it"),
            Lang::De => areas!("de"),
            Lang::Fr => areas!("fr"),
            Lang::Es => areas!("es"),
        }
    }
}

/// The longest `Accept-Language` header read; the rest is ignored (a 10 KB header is no reason
/// to do 10 KB of work).
const MAX_ACCEPT_LANGUAGE: usize = 512;

/// The best language the browser asks for (`it-IT,it;q=0.9,en;q=0.8` → Italian), by quality;
/// `None` when it asks for none the pages are written in, or the header is nonsense.
pub fn from_accept_language(header: &str) -> Option<Lang> {
    let header = match header.char_indices().nth(MAX_ACCEPT_LANGUAGE) {
        Some((cut, _)) => &header[..cut],
        None => header,
    };
    let mut best: Option<(u16, Lang)> = None;
    for part in header.split(',').take(32) {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("").trim();
        let quality = pieces
            .find_map(|p| p.trim().strip_prefix("q="))
            .map_or(Some(1000), |q| {
                q.trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .map(|q| (q * 1000.0) as u16)
            });
        let (Some(lang), Some(quality)) = (Lang::parse(tag), quality) else {
            continue;
        };
        if quality == 0 {
            continue;
        }
        // Equal qualities: the first listed wins.
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

/// The language of a request: the picker's cookie, the browser's wish, the site's default.
pub fn negotiate(headers: &axum::http::HeaderMap, site_default: Lang) -> Lang {
    let cookie = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(&format!("{LANG_COOKIE}=")))
        .find_map(Lang::parse);
    cookie
        .or_else(|| {
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(from_accept_language)
        })
        .unwrap_or(site_default)
}

/// The cookie the language picker sets.
pub const LANG_COOKIE: &str = "calgate_lang";

tokio::task_local! {
    static LANG: Lang;
}

/// Runs `f` with `lang` as the current language.
pub async fn scope<F: std::future::Future>(lang: Lang, f: F) -> F::Output {
    LANG.scope(lang, f).await
}

/// The language of the request being handled (English outside one).
pub fn current() -> Lang {
    LANG.try_with(|l| *l).unwrap_or_default()
}

struct Catalog {
    bundles: HashMap<Lang, FluentBundle<FluentResource>>,
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut bundles = HashMap::new();
        for lang in Lang::ALL {
            let tag: unic_langid::LanguageIdentifier = lang
                .code()
                .parse()
                .unwrap_or_else(|_| unic_langid::LanguageIdentifier::default());
            let mut bundle = FluentBundle::new_concurrent(vec![tag]);
            // Plain text for HTML: no bidi isolation marks around arguments.
            bundle.set_use_isolating(false);
            // A catalogue with a syntax error keeps its good messages (a test rejects the
            // error itself).
            for source in lang.sources() {
                let resource = FluentResource::try_new(source.to_string())
                    .unwrap_or_else(|(partial, _)| partial);
                let _ = bundle.add_resource(resource);
            }
            bundles.insert(lang, bundle);
        }
        Catalog { bundles }
    })
}

/// Message `key` in `lang` with `args`; English when `lang` lacks it; the key itself when
/// English lacks it too (a test keeps that from happening).
pub fn text_in(lang: Lang, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let catalog = catalog();
    let args = (!args.is_empty()).then(|| {
        let mut a = FluentArgs::new();
        for (name, value) in args {
            a.set(*name, value.clone());
        }
        a
    });
    for l in [lang, Lang::En] {
        let Some(bundle) = catalog.bundles.get(&l) else {
            continue;
        };
        if let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return bundle
                .format_pattern(pattern, args.as_ref(), &mut errors)
                .into_owned();
        }
    }
    key.to_string()
}

/// Message `key` in the current language.
pub fn t(key: &str) -> String {
    text_in(current(), key, &[])
}

/// Message `key` in the current language with arguments.
pub fn t_with(key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    text_in(current(), key, args)
}

/// The message ids of a catalogue, and its syntax errors.
pub fn message_ids(lang: Lang) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut errors = 0;
    for source in lang.sources() {
        let resource = match FluentResource::try_new(source.to_string()) {
            Ok(resource) => resource,
            Err((resource, e)) => {
                errors += e.len();
                resource
            }
        };
        ids.extend(ids_of(&resource));
    }
    ids.sort();
    (ids, errors)
}

fn ids_of(resource: &FluentResource) -> impl Iterator<Item = String> + '_ {
    use fluent_syntax::ast::Entry;
    resource.entries().filter_map(|e| match e {
        Entry::Message(m) => Some(m.id.name.to_string()),
        _ => None,
    })
}

/// The messages whose ids start with `prefix`, in the current language, as JSON (the console's
/// script reads its words from the page this way).
pub fn messages_json(prefix: &str) -> String {
    let lang = current();
    let (ids, _) = message_ids(Lang::En);
    let map: serde_json::Map<String, serde_json::Value> = ids
        .into_iter()
        .filter(|id| id.starts_with(prefix))
        .map(|id| {
            let text = text_in(lang, &id, &[]);
            (id, serde_json::Value::String(text))
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_has_every_english_key_and_no_syntax_error() {
        let (english, errors) = message_ids(Lang::En);
        assert_eq!(errors, 0, "en.ftl has syntax errors");
        assert!(english.len() > 50, "{}", english.len());
        for lang in Lang::ALL {
            let (ids, errors) = message_ids(lang);
            assert_eq!(errors, 0, "{}.ftl has syntax errors", lang.code());
            let mut unique = ids.clone();
            unique.dedup();
            assert_eq!(
                unique.len(),
                ids.len(),
                "{}: a key in two areas",
                lang.code()
            );
            let missing: Vec<&String> = english.iter().filter(|k| !ids.contains(k)).collect();
            assert!(missing.is_empty(), "{}.ftl misses {missing:?}", lang.code());
            let extra: Vec<&String> = ids.iter().filter(|k| !english.contains(k)).collect();
            assert!(
                extra.is_empty(),
                "{}.ftl has keys English lacks: {extra:?}",
                lang.code()
            );
        }
    }

    #[test]
    fn accept_language_picks_the_best_written_language_and_survives_nonsense() {
        assert_eq!(
            from_accept_language("it-IT,it;q=0.9,en;q=0.8"),
            Some(Lang::It)
        );
        assert_eq!(
            from_accept_language("ja,de-CH;q=0.7,fr;q=0.5"),
            Some(Lang::De)
        );
        assert_eq!(from_accept_language("en;q=0.2, es;q=0.9"), Some(Lang::Es));
        assert_eq!(from_accept_language("fr;q=0"), None);
        assert_eq!(from_accept_language("ja, zh"), None);
        assert_eq!(from_accept_language(";;;,,q=abc,\u{0}"), None);
        assert_eq!(from_accept_language("de;q=2"), None);
        let huge = "x-".repeat(5_000) + ",it";
        assert_eq!(from_accept_language(&huge), None, "read only the start");
        let huge_then = "de,".to_string() + &"zz,".repeat(4_000);
        assert_eq!(from_accept_language(&huge_then), Some(Lang::De));
    }

    #[test]
    fn a_message_falls_back_to_english_and_takes_arguments() {
        assert_eq!(text_in(Lang::It, "nav-settings", &[]), "Impostazioni");
        assert_eq!(text_in(Lang::De, "nav-settings", &[]), "Einstellungen");
        assert_eq!(text_in(Lang::En, "no-such-key", &[]), "no-such-key");
        let until = text_in(
            Lang::Fr,
            "st-busy-until",
            &[("time", FluentValue::from("14:30"))],
        );
        assert_eq!(until, "En réunion jusqu'à 14:30");
    }
}
