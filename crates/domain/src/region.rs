//! Where an initiative works, at the level of an oblast and optionally a city.
//!
//! Never finer than a city: published positions of volunteers near the front put them at risk,
//! so the model has no field for an address or coordinates.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::ValidationErrors;

macro_rules! oblasts {
    ($($variant:ident => $code:literal, $en:literal, $uk:literal, $places:literal;)*) => {
        /// Ukraine's oblasts, plus Kyiv and Sevastopol cities and Crimea.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        pub enum Oblast { $(#[serde(rename = $code)] $variant,)* }

        impl Oblast {
            pub const ALL: &'static [Oblast] = &[$(Oblast::$variant,)*];
            pub fn code(self) -> &'static str { match self { $(Oblast::$variant => $code,)* } }
            pub fn name_en(self) -> &'static str { match self { $(Oblast::$variant => $en,)* } }
            pub fn name_uk(self) -> &'static str { match self { $(Oblast::$variant => $uk,)* } }
            /// Names a donor may search for the oblast by, besides its own: its centre (with
            /// the case forms whose stem the search cannot reach from the nominative, as
            /// Львів / Львова), its colloquial name (Харківщина) and English spellings,
            /// older ones included (Kiev, Odessa) because donors abroad still type them.
            pub fn place_names(self) -> &'static str { match self { $(Oblast::$variant => $places,)* } }
            pub fn from_code(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|o| o.code() == code)
            }
        }
    };
}

oblasts! {
    Cherkasy => "cherkasy", "Cherkasy oblast", "Черкаська область", "Черкаси Черкащина Cherkasy";
    Chernihiv => "chernihiv", "Chernihiv oblast", "Чернігівська область", "Чернігів Чернігівщина Chernihiv";
    Chernivtsi => "chernivtsi", "Chernivtsi oblast", "Чернівецька область", "Чернівці Буковина Chernivtsi";
    Crimea => "crimea", "Autonomous Republic of Crimea", "Автономна Республіка Крим", "Крим Сімферополь Сімферополя Crimea Simferopol";
    Dnipropetrovsk => "dnipropetrovsk", "Dnipropetrovsk oblast", "Дніпропетровська область", "Дніпро Дніпропетровщина Дніпропетровськ Dnipro Dnipropetrovsk";
    Donetsk => "donetsk", "Donetsk oblast", "Донецька область", "Донецьк Донеччина Донбас Donetsk Donbas";
    IvanoFrankivsk => "ivano-frankivsk", "Ivano-Frankivsk oblast", "Івано-Франківська область", "Івано-Франківськ Прикарпаття Ivano-Frankivsk";
    Kharkiv => "kharkiv", "Kharkiv oblast", "Харківська область", "Харків Харківщина Kharkiv Kharkov";
    Kherson => "kherson", "Kherson oblast", "Херсонська область", "Херсон Херсонщина Kherson";
    Khmelnytskyi => "khmelnytskyi", "Khmelnytskyi oblast", "Хмельницька область", "Хмельницький Хмельниччина Khmelnytskyi";
    Kirovohrad => "kirovohrad", "Kirovohrad oblast", "Кіровоградська область", "Кропивницький Кіровоградщина Kropyvnytskyi";
    Kyiv => "kyiv", "Kyiv oblast", "Київська область", "Київ Києва Київщина Kyiv Kiev";
    KyivCity => "kyiv-city", "Kyiv (city)", "Київ (місто)", "Київ Києва Kyiv Kiev";
    Luhansk => "luhansk", "Luhansk oblast", "Луганська область", "Луганськ Луганщина Донбас Luhansk Donbas";
    Lviv => "lviv", "Lviv oblast", "Львівська область", "Львів Львова Львівщина Lviv Lvov";
    Mykolaiv => "mykolaiv", "Mykolaiv oblast", "Миколаївська область", "Миколаїв Миколаївщина Mykolaiv Nikolaev";
    Odesa => "odesa", "Odesa oblast", "Одеська область", "Одеса Одещина Odesa Odessa";
    Poltava => "poltava", "Poltava oblast", "Полтавська область", "Полтава Полтавщина Poltava";
    Rivne => "rivne", "Rivne oblast", "Рівненська область", "Рівне Рівненщина Rivne";
    Sevastopol => "sevastopol", "Sevastopol (city)", "Севастополь (місто)", "Севастополь Севастополя Крим Sevastopol Crimea";
    Sumy => "sumy", "Sumy oblast", "Сумська область", "Суми Сумах Сумщина Sumy";
    Ternopil => "ternopil", "Ternopil oblast", "Тернопільська область", "Тернопіль Тернополя Тернопільщина Ternopil";
    Vinnytsia => "vinnytsia", "Vinnytsia oblast", "Вінницька область", "Вінниця Вінниччина Vinnytsia";
    Volyn => "volyn", "Volyn oblast", "Волинська область", "Луцьк Волинь Lutsk";
    Zakarpattia => "zakarpattia", "Zakarpattia oblast", "Закарпатська область", "Ужгород Закарпаття Uzhhorod Transcarpathia";
    Zaporizhzhia => "zaporizhzhia", "Zaporizhzhia oblast", "Запорізька область", "Запоріжжя Zaporizhzhia Zaporizhia Zaporozhye";
    Zhytomyr => "zhytomyr", "Zhytomyr oblast", "Житомирська область", "Житомир Житомирщина Zhytomyr";
}

impl Oblast {
    /// The names donors abroad type for the oblast's place, where they differ from the
    /// Ukrainian and English ones: German, Polish, Czech, French and Russian, the languages of
    /// the largest communities that give to Ukrainian initiatives directly. A name with
    /// diacritics comes a second time without them, as it is often typed (from before both stores
    /// folded them: [`crate::search::fold_diacritics`]). Words that are also common words elsewhere are left out
    /// (Polish "Luck" for Łuck).
    pub fn names_abroad(self) -> &'static str {
        match self {
            Oblast::Cherkasy => "Tscherkassy Czerkasy Čerkasy Cerkasy Tcherkassy Черкассы",
            Oblast::Chernihiv => {
                "Tschernihiw Czernihów Czernihow Černihiv Cernihiv Tchernihiv Чернигов"
            }
            Oblast::Chernivtsi => {
                "Czernowitz Tscherniwzi Bukowina Czerniowce Černovice Cernovice Tchernivtsi Черновцы Буковина"
            }
            Oblast::Crimea => "Krim Krym Crimée Crimee Symferopol Крым Симферополь",
            Oblast::Dnipropetrovsk => {
                "Dnjepr Dniepr Dniepropetrowsk Dněpr Dnepr Днепр Днепропетровск"
            }
            Oblast::Donetsk => "Donezk Donbass Donieck Doněck Doneck Донецк Донбасс",
            Oblast::IvanoFrankivsk => "Iwano-Frankiwsk Ивано-Франковск",
            Oblast::Kharkiv => "Charkiw Charków Charkow Charkov Харьков",
            Oblast::Kherson => "Cherson Chersoń",
            Oblast::Khmelnytskyi => "Chmelnyzkyj Chmielnicki Chmelnyckyj Khmelnytsky Хмельницкий",
            Oblast::Kirovohrad => {
                "Kropywnyzkyj Kropywnycki Kropyvnyckyj Kirovograd Кропивницкий Кировоград"
            }
            Oblast::Kyiv | Oblast::KyivCity => "Kiew Kijów Kijow Kyjev Киев",
            Oblast::Luhansk => "Donbass Ługańsk Lugansk Louhansk Луганск Донбасс",
            Oblast::Lviv => "Lemberg Lwiw Lwów Lwow Львов",
            Oblast::Mykolaiv => "Mykolajiw Mikołajów Mikolajow Mykolajiv Mykolaïv Николаев",
            Oblast::Odesa => "Oděsa Одесса",
            Oblast::Poltava => "Poltawa Połtawa",
            Oblast::Rivne => "Riwne Równe Rowne Rovno Ровно",
            Oblast::Sevastopol => "Sewastopol Sébastopol Sebastopol Krim Krym Крым",
            Oblast::Sumy => "Soumy Сумы",
            Oblast::Ternopil => "Tarnopol Тернополь",
            Oblast::Vinnytsia => "Winnyzja Winnica Vinnycja Винница",
            Oblast::Volyn => "Wolhynien Luzk Wołyń Wolyn Łuck Volyň Волынь Луцк",
            Oblast::Zakarpattia => {
                "Transkarpatien Uschhorod Zakarpacie Użhorod Uzhorod Užhorod Oujhorod Transcarpatie Закарпатье"
            }
            Oblast::Zaporizhzhia => {
                "Saporischschja Zaporoże Zaporoze Záporoží Zaporozi Zaporijia Запорожье"
            }
            Oblast::Zhytomyr => "Schytomyr Żytomierz Zytomierz Žytomyr Zytomyr Jytomyr",
        }
    }
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

    /// The words a search finds the region by: the oblast's names in both languages,
    /// [`Oblast::place_names`] and [`Oblast::names_abroad`], and the city as given (abroad,
    /// only the city: a country code as a word would match unrelated two-letter prefixes).
    pub fn search_words(&self) -> String {
        let city = self.city().unwrap_or_default();
        match self {
            Region::Ukraine { oblast, .. } => format!(
                "{} {} {} {} {city}",
                oblast.name_uk(),
                oblast.name_en(),
                oblast.place_names(),
                oblast.names_abroad()
            ),
            Region::Abroad { .. } => city.to_string(),
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
    fn a_region_is_found_by_its_centre_and_the_city_given() {
        let izium = Region::Ukraine {
            oblast: Oblast::Kharkiv,
            city: Some("Izium".into()),
        };
        let words = izium.search_words();
        for word in [
            "Харківська",
            "Kharkiv",
            "Харків",
            "Харківщина",
            "Charkiw",
            "Charków",
            "Charkow",
            "Харьков",
            "Izium",
        ] {
            assert!(words.split(' ').any(|w| w == word), "{word} in {words:?}");
        }
        let berlin = Region::Abroad {
            country: "DE".into(),
            city: Some("Berlin".into()),
        };
        assert_eq!(berlin.search_words(), "Berlin");
        for oblast in Oblast::ALL {
            assert!(!oblast.place_names().is_empty(), "{oblast:?}");
            assert!(!oblast.names_abroad().is_empty(), "{oblast:?}");
        }
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
