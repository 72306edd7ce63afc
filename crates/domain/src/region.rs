//! Where an initiative works, at the level of an oblast and optionally a city.
//!
//! Never finer than a city: published positions of volunteers near the front put them at risk,
//! so the model has no field for an address or coordinates.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::ValidationErrors;

macro_rules! oblasts {
    ($($variant:ident => $code:literal, $en:literal, $uk:literal;)*) => {
        /// Ukraine's oblasts, plus Kyiv and Sevastopol cities and Crimea.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        pub enum Oblast { $(#[serde(rename = $code)] $variant,)* }

        impl Oblast {
            pub const ALL: &'static [Oblast] = &[$(Oblast::$variant,)*];
            pub fn code(self) -> &'static str { match self { $(Oblast::$variant => $code,)* } }
            pub fn name_en(self) -> &'static str { match self { $(Oblast::$variant => $en,)* } }
            pub fn name_uk(self) -> &'static str { match self { $(Oblast::$variant => $uk,)* } }
            pub fn from_code(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|o| o.code() == code)
            }
        }
    };
}

oblasts! {
    Cherkasy => "cherkasy", "Cherkasy oblast", "Черкаська область";
    Chernihiv => "chernihiv", "Chernihiv oblast", "Чернігівська область";
    Chernivtsi => "chernivtsi", "Chernivtsi oblast", "Чернівецька область";
    Crimea => "crimea", "Autonomous Republic of Crimea", "Автономна Республіка Крим";
    Dnipropetrovsk => "dnipropetrovsk", "Dnipropetrovsk oblast", "Дніпропетровська область";
    Donetsk => "donetsk", "Donetsk oblast", "Донецька область";
    IvanoFrankivsk => "ivano-frankivsk", "Ivano-Frankivsk oblast", "Івано-Франківська область";
    Kharkiv => "kharkiv", "Kharkiv oblast", "Харківська область";
    Kherson => "kherson", "Kherson oblast", "Херсонська область";
    Khmelnytskyi => "khmelnytskyi", "Khmelnytskyi oblast", "Хмельницька область";
    Kirovohrad => "kirovohrad", "Kirovohrad oblast", "Кіровоградська область";
    Kyiv => "kyiv", "Kyiv oblast", "Київська область";
    KyivCity => "kyiv-city", "Kyiv (city)", "Київ (місто)";
    Luhansk => "luhansk", "Luhansk oblast", "Луганська область";
    Lviv => "lviv", "Lviv oblast", "Львівська область";
    Mykolaiv => "mykolaiv", "Mykolaiv oblast", "Миколаївська область";
    Odesa => "odesa", "Odesa oblast", "Одеська область";
    Poltava => "poltava", "Poltava oblast", "Полтавська область";
    Rivne => "rivne", "Rivne oblast", "Рівненська область";
    Sevastopol => "sevastopol", "Sevastopol (city)", "Севастополь (місто)";
    Sumy => "sumy", "Sumy oblast", "Сумська область";
    Ternopil => "ternopil", "Ternopil oblast", "Тернопільська область";
    Vinnytsia => "vinnytsia", "Vinnytsia oblast", "Вінницька область";
    Volyn => "volyn", "Volyn oblast", "Волинська область";
    Zakarpattia => "zakarpattia", "Zakarpattia oblast", "Закарпатська область";
    Zaporizhzhia => "zaporizhzhia", "Zaporizhzhia oblast", "Запорізька область";
    Zhytomyr => "zhytomyr", "Zhytomyr oblast", "Житомирська область";
}

/// A region an initiative works in: an oblast of Ukraine, or a country abroad (ISO 3166-1 alpha-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Region {
    Ukraine {
        oblast: Oblast,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        city: Option<String>,
    },
    Abroad {
        /// ISO 3166-1 alpha-2 country code, e.g. `PL`.
        country: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        city: Option<String>,
    },
}

impl Region {
    /// The code used by the `region=` search filter: the oblast code, or `abroad`.
    pub fn filter_code(&self) -> &str {
        match self {
            Region::Ukraine { oblast, .. } => oblast.code(),
            Region::Abroad { .. } => "abroad",
        }
    }

    pub fn city(&self) -> Option<&str> {
        match self {
            Region::Ukraine { city, .. } | Region::Abroad { city, .. } => city.as_deref(),
        }
    }

    /// Whether `code` is something the `region=` filter understands.
    pub fn is_filter_code(code: &str) -> bool {
        code == "abroad" || Oblast::from_code(code).is_some()
    }

    pub fn label_en(&self) -> String {
        match self {
            Region::Ukraine { oblast, city } => with_city(city, oblast.name_en()),
            Region::Abroad { country, city } => with_city(city, country),
        }
    }

    pub fn label_uk(&self) -> String {
        match self {
            Region::Ukraine { oblast, city } => with_city(city, oblast.name_uk()),
            Region::Abroad { country, city } => with_city(city, country),
        }
    }

    pub(crate) fn normalize(&mut self) {
        match self {
            Region::Ukraine { city, .. } => normalize_city(city),
            Region::Abroad { country, city } => {
                *country = country.trim().to_ascii_uppercase();
                normalize_city(city);
            }
        }
    }

    pub(crate) fn validate(&self) -> ValidationErrors {
        let mut errors = ValidationErrors::new();
        if let Some(city) = self.city() {
            errors.max_len("city", city, 80);
            if city.chars().any(|c| c.is_ascii_digit()) {
                // Digits suggest a street address; the directory never stores positions that precise.
                errors.add(
                    "city",
                    "too_precise",
                    "give only a city or town, never an address",
                );
            }
        }
        if let Region::Abroad { country, .. } = self
            && !(country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase()))
        {
            errors.add(
                "country",
                "invalid_country",
                "must be a two-letter ISO 3166 country code such as PL",
            );
        }
        errors
    }
}

fn with_city(city: &Option<String>, area: &str) -> String {
    match city {
        Some(city) => format!("{city}, {area}"),
        None => area.to_string(),
    }
}

fn normalize_city(city: &mut Option<String>) {
    *city = city
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_json_shape() {
        let r: Region =
            serde_json::from_str(r#"{"kind":"ukraine","oblast":"kharkiv","city":"Izium"}"#)
                .unwrap();
        assert_eq!(r.filter_code(), "kharkiv");
        assert_eq!(r.label_uk(), "Izium, Харківська область");
        assert_eq!(Oblast::ALL.len(), 27);
    }

    #[test]
    fn refuses_addresses_and_bad_countries() {
        let r = Region::Ukraine {
            oblast: Oblast::Kharkiv,
            city: Some("vul. Sumska 12".into()),
        };
        assert_eq!(r.validate().errors[0].code, "too_precise");
        let r = Region::Abroad {
            country: "Poland".into(),
            city: None,
        };
        assert_eq!(r.validate().errors[0].code, "invalid_country");
    }
}
