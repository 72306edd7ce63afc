//! HTML forms: reading `application/x-www-form-urlencoded` bodies, and the initiative form
//! shared by the submission page and the maintainer's dashboard, with the mapping between the
//! domain's field paths (`donation_methods[1].iban`) and the form's field names (`dm2.iban`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use hromada_domain::{
    Category, Contact, ContactKind, Currency, DonationKind, DonationMethod, FundingPlatform,
    Initiative, InitiativeInput, InitiativePatch, Oblast, Region,
};

use super::i18n::Translator;
use super::render::FieldErrors;

/// A form body as name/value pairs (names may repeat, as checkboxes do).
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

/// Most fields a form is read with: the largest of ours (an initiative with 10 rows of each
/// kind) has a few hundred; the rest of a longer body is ignored rather than costing each
/// lookup a scan through hundreds of thousands of pairs.
const MAX_FIELDS: usize = 2_000;

/// Most rows of regions, contacts or donation methods one initiative form carries.
pub const MAX_ROWS: usize = hromada_domain::initiative::MAX_LIST_ENTRIES;

impl FormData {
    pub fn parse(body: &[u8]) -> Self {
        FormData(
            url::form_urlencoded::parse(body)
                .take(MAX_FIELDS)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether an "add another …" button sent the form: it is shown again with the row
    /// added, neither checked nor saved.
    pub fn asks_for_more_rows(&self) -> bool {
        !self.get("more").is_empty()
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && !v.is_empty())
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| (r.status(), r.body_text()).into_response())?;
        let form = FormData::parse(&bytes);
        // Nobody types NUL characters, and PostgreSQL cannot store them.
        if form
            .0
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err((
                axum::http::StatusCode::BAD_REQUEST,
                "the form holds a NUL character",
            )
                .into_response());
        }
        Ok(form)
    }
}

pub struct RegionRow {
    pub p: String,
    pub area: String,
    pub country: String,
    pub city: String,
}

pub struct ContactRow {
    pub p: String,
    pub kind: String,
    pub value: String,
}

#[derive(Default)]
pub struct MethodRow {
    pub p: String,
    pub kind: String,
    pub label: String,
    pub currency: String,
    pub recurring: bool,
    pub iban: String,
    pub bic: String,
    pub account_holder: String,
    pub bank_name: String,
    pub number: String,
    pub holder: String,
    pub url: String,
    pub account: String,
    pub platform: String,
    pub network: String,
    pub address: String,
}

/// The initiative form's values, as shown (again) to the person filling it in.
pub struct InitiativeForm {
    pub handle: String,
    pub name: String,
    pub summary: String,
    pub description: String,
    pub categories: Vec<String>,
    pub tags: String,
    pub languages: String,
    pub website: String,
    pub submitter_contact: String,
    pub regions: Vec<RegionRow>,
    pub contacts: Vec<ContactRow>,
    pub methods: Vec<MethodRow>,
    pub category_options: Vec<(&'static str, &'static str)>,
    pub area_options: Vec<(&'static str, &'static str)>,
}

pub const CONTACT_KINDS: [&str; 10] = [
    "email",
    "phone",
    "signal",
    "telegram",
    "matrix",
    "instagram",
    "facebook",
    "fediverse",
    "website",
    "other",
];
pub const METHOD_KINDS: [&str; 6] = [
    "bank_transfer",
    "card",
    "jar",
    "paypal",
    "platform",
    "crypto",
];
pub const PLATFORMS: [&str; 4] = ["liberapay", "open_collective", "patreon", "other"];

fn blank_region(i: usize) -> RegionRow {
    RegionRow {
        p: format!("region{i}"),
        area: String::new(),
        country: String::new(),
        city: String::new(),
    }
}

fn blank_contact(i: usize) -> ContactRow {
    ContactRow {
        p: format!("contact{i}"),
        kind: "email".into(),
        value: String::new(),
    }
}

fn blank_method(i: usize) -> MethodRow {
    MethodRow {
        p: format!("dm{i}"),
        ..Default::default()
    }
}

fn code_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

impl InitiativeForm {
    /// An empty form, with `rows` blank rows for regions, contacts and donation methods.
    pub fn empty(t: &Translator) -> Self {
        InitiativeForm {
            handle: String::new(),
            name: String::new(),
            summary: String::new(),
            description: String::new(),
            categories: Vec::new(),
            tags: String::new(),
            languages: "uk".into(),
            website: String::new(),
            submitter_contact: String::new(),
            regions: (0..2).map(blank_region).collect(),
            contacts: (0..2).map(blank_contact).collect(),
            methods: (0..2).map(blank_method).collect(),
            category_options: Category::ALL
                .iter()
                .map(|c| (c.code(), t.category(c.code())))
                .collect(),
            area_options: Oblast::ALL
                .iter()
                .map(|o| (o.code(), t.oblast(o.code())))
                .chain(std::iter::once(("abroad", t.tr("search.abroad"))))
                .collect(),
        }
    }

    /// The form filled with a stored initiative, plus one blank row of each list to add more.
    pub fn from_initiative(t: &Translator, i: &Initiative) -> Self {
        let mut f = Self::empty(t);
        f.handle = i.handle.to_string();
        f.name = i.name.clone();
        f.summary = i.summary.clone();
        f.description = i.description.clone();
        f.categories = i.categories.iter().map(|c| c.code().to_string()).collect();
        f.tags = i.tags.join(", ");
        f.languages = i.languages.join(", ");
        f.website = i.website.clone().unwrap_or_default();
        f.regions = i
            .regions
            .iter()
            .enumerate()
            .map(|(n, r)| {
                let mut row = blank_region(n);
                match r {
                    Region::Ukraine { oblast, city } => {
                        row.area = oblast.code().into();
                        row.city = city.clone().unwrap_or_default();
                    }
                    Region::Abroad { country, city } => {
                        row.area = "abroad".into();
                        row.country = country.clone();
                        row.city = city.clone().unwrap_or_default();
                    }
                }
                row
            })
            .collect();
        f.regions.push(blank_region(f.regions.len()));
        f.contacts = i
            .contacts
            .iter()
            .enumerate()
            .map(|(n, c)| ContactRow {
                p: format!("contact{n}"),
                kind: code_of(&c.kind),
                value: c.value.clone(),
            })
            .collect();
        f.contacts.push(blank_contact(f.contacts.len()));
        f.methods = i
            .donation_methods
            .iter()
            .enumerate()
            .map(|(n, m)| {
                let mut row = blank_method(n);
                row.label = m.label.clone().unwrap_or_default();
                row.currency = m
                    .currency
                    .as_ref()
                    .map(|c| c.to_string())
                    .unwrap_or_default();
                row.recurring = m.recurring;
                match &m.details {
                    DonationKind::BankTransfer {
                        iban,
                        bic,
                        account_holder,
                        bank_name,
                    } => {
                        row.kind = "bank_transfer".into();
                        row.iban = iban.clone();
                        row.bic = bic.clone().unwrap_or_default();
                        row.account_holder = account_holder.clone();
                        row.bank_name = bank_name.clone().unwrap_or_default();
                    }
                    DonationKind::Card { number, holder } => {
                        row.kind = "card".into();
                        row.number = number.clone();
                        row.holder = holder.clone().unwrap_or_default();
                    }
                    DonationKind::Jar { url } => {
                        row.kind = "jar".into();
                        row.url = url.clone();
                    }
                    DonationKind::Paypal { account } => {
                        row.kind = "paypal".into();
                        row.account = account.clone();
                    }
                    DonationKind::Platform { platform, url } => {
                        row.kind = "platform".into();
                        row.platform = code_of(platform);
                        row.url = url.clone();
                    }
                    DonationKind::Crypto { network, address } => {
                        row.kind = "crypto".into();
                        row.network = network.clone();
                        row.address = address.clone();
                    }
                }
                row
            })
            .collect();
        f.methods.push(blank_method(f.methods.len()));
        f
    }

    /// Reads the posted form. Rows are kept as typed (for showing again), numbered as posted.
    pub fn from_form(t: &Translator, form: &FormData) -> Self {
        let mut f = Self::empty(t);
        let g = |k: &str| form.get(k).to_string();
        f.handle = g("handle");
        f.name = g("name");
        f.summary = g("summary");
        f.description = g("description");
        f.categories = form
            .all("categories")
            .into_iter()
            .map(String::from)
            .collect();
        f.tags = g("tags");
        f.languages = g("languages");
        f.website = g("website");
        f.submitter_contact = g("submitter_contact");
        // The rows sent (`dm0.…`, `dm1.…`), and one more when the form asked for another
        // (the "add" buttons, which work without JavaScript).
        let rows = |prefix: &str| {
            let sent: std::collections::HashSet<usize> = form
                .0
                .iter()
                .filter_map(|(k, _)| k.strip_prefix(prefix)?.split_once('.')?.0.parse().ok())
                .collect();
            let count = (0..MAX_ROWS).take_while(|i| sent.contains(i)).count();
            let more = form.get("more") == prefix;
            (count + usize::from(more)).min(MAX_ROWS)
        };
        f.regions = (0..rows("region"))
            .map(|i| RegionRow {
                p: format!("region{i}"),
                area: g(&format!("region{i}.area")),
                country: g(&format!("region{i}.country")),
                city: g(&format!("region{i}.city")),
            })
            .collect();
        f.contacts = (0..rows("contact"))
            .map(|i| ContactRow {
                p: format!("contact{i}"),
                kind: g(&format!("contact{i}.kind")),
                value: g(&format!("contact{i}.value")),
            })
            .collect();
        f.methods = (0..rows("dm"))
            .map(|i| {
                let h = |k: &str| g(&format!("dm{i}.{k}"));
                MethodRow {
                    p: format!("dm{i}"),
                    kind: h("kind"),
                    label: h("label"),
                    currency: h("currency"),
                    recurring: form.has(&format!("dm{i}.recurring")),
                    iban: h("iban"),
                    bic: h("bic"),
                    account_holder: h("account_holder"),
                    bank_name: h("bank_name"),
                    number: h("number"),
                    holder: h("holder"),
                    url: h("url"),
                    account: h("account"),
                    platform: h("platform"),
                    network: h("network"),
                    address: h("address"),
                }
            })
            .collect();
        if f.regions.is_empty() {
            f.regions.push(blank_region(0));
        }
        if f.contacts.is_empty() {
            f.contacts.push(blank_contact(0));
        }
        if f.methods.is_empty() {
            f.methods.push(blank_method(0));
        }
        f
    }

    /// The domain input, the form errors found while building it, and the mapping back.
    pub fn to_input(&self, t: &Translator) -> (InitiativeInput, FieldErrors, FieldMap) {
        let mut errors = FieldErrors::default();
        let mut map = FieldMap::default();
        let opt = |s: &str| Some(s.trim().to_string()).filter(|v| !v.is_empty());
        let split = |s: &str, separators: &[char]| {
            s.split(separators)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        };
        // Tags are separated by commas, as the label says: "перша допомога" is one tag with a
        // space (refused with a message), not two tags made up behind the maintainer's back.
        let tags = split(&self.tags, &[',', ';']);
        let list = |s: &str| split(s, &[',', ' ', ';']);
        let mut regions = Vec::new();
        for (i, r) in self.regions.iter().enumerate() {
            let area = r.area.trim();
            if area.is_empty() {
                continue;
            }
            let region = if area == "abroad" {
                Region::Abroad {
                    country: r.country.clone(),
                    city: opt(&r.city),
                }
            } else if let Some(oblast) = Oblast::from_code(area) {
                Region::Ukraine {
                    oblast,
                    city: opt(&r.city),
                }
            } else {
                errors.add(format!("region{i}.area"), t.tr("error.invalid"));
                continue;
            };
            map.regions.push(i);
            regions.push(region);
        }
        let mut contacts = Vec::new();
        for (i, c) in self.contacts.iter().enumerate() {
            if c.value.trim().is_empty() {
                continue;
            }
            match serde_json::from_value::<ContactKind>(serde_json::json!(c.kind)) {
                Ok(kind) => {
                    map.contacts.push(i);
                    contacts.push(Contact {
                        kind,
                        value: c.value.clone(),
                    });
                }
                Err(_) => errors.add(format!("contact{i}.kind"), t.tr("error.invalid")),
            }
        }
        let mut methods = Vec::new();
        for (i, m) in self.methods.iter().enumerate() {
            if m.kind.trim().is_empty() {
                continue;
            }
            let details = match m.kind.as_str() {
                "bank_transfer" => DonationKind::BankTransfer {
                    iban: m.iban.clone(),
                    bic: opt(&m.bic),
                    account_holder: m.account_holder.clone(),
                    bank_name: opt(&m.bank_name),
                },
                "card" => DonationKind::Card {
                    number: m.number.clone(),
                    holder: opt(&m.holder),
                },
                "jar" => DonationKind::Jar { url: m.url.clone() },
                "paypal" => DonationKind::Paypal {
                    account: m.account.clone(),
                },
                "platform" => DonationKind::Platform {
                    platform: serde_json::from_value(serde_json::json!(m.platform))
                        .unwrap_or(FundingPlatform::Other),
                    url: m.url.clone(),
                },
                "crypto" => DonationKind::Crypto {
                    network: m.network.clone(),
                    address: m.address.clone(),
                },
                _ => {
                    errors.add(format!("dm{i}.kind"), t.tr("error.invalid"));
                    continue;
                }
            };
            let currency = match opt(&m.currency) {
                None => None,
                Some(c) => match Currency::parse(&c) {
                    Ok(c) => Some(c),
                    Err(_) => {
                        errors.add(format!("dm{i}.currency"), t.tr("error.invalid_currency"));
                        None
                    }
                },
            };
            map.methods.push(i);
            methods.push(DonationMethod {
                details,
                label: opt(&m.label),
                currency,
                recurring: m.recurring,
            });
        }
        let input = InitiativeInput {
            handle: self.handle.trim().to_string(),
            name: self.name.clone(),
            summary: self.summary.clone(),
            description: self.description.clone(),
            categories: self.categories.clone(),
            tags,
            regions,
            languages: list(&self.languages),
            website: opt(&self.website),
            contacts,
            donation_methods: methods,
            discoverable: true,
            manually_approves_followers: false,
            submitter_contact: opt(&self.submitter_contact),
        };
        (input, errors, map)
    }

    pub fn to_patch(&self, t: &Translator) -> (InitiativePatch, FieldErrors, FieldMap) {
        let (i, errors, map) = self.to_input(t);
        let patch = InitiativePatch {
            name: Some(i.name),
            summary: Some(i.summary),
            description: Some(i.description),
            categories: Some(i.categories),
            tags: Some(i.tags),
            regions: Some(i.regions),
            languages: Some(i.languages),
            website: Some(i.website),
            contacts: Some(i.contacts),
            donation_methods: Some(i.donation_methods),
            discoverable: None,
            manually_approves_followers: None,
        };
        (patch, errors, map)
    }

    pub fn has_category(&self, code: &&str) -> bool {
        self.categories.iter().any(|c| c == code)
    }
}

/// Which form row each list entry of the domain input came from.
#[derive(Debug, Default)]
pub struct FieldMap {
    regions: Vec<usize>,
    contacts: Vec<usize>,
    methods: Vec<usize>,
}

impl FieldMap {
    /// `donation_methods[1].iban` → `dm2.iban`; `categories[0]` → `categories`.
    pub fn form_field(&self, path: &str) -> Option<String> {
        let (head, rest) = match path.split_once('.') {
            Some((h, r)) => (h, Some(r)),
            None => (path, None),
        };
        let (list, index) = match head.split_once('[') {
            Some((l, i)) => (l, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (head, None),
        };
        let row = |rows: &Vec<usize>, prefix: &str, default_field: &str| {
            let i = index.and_then(|i| rows.get(i).copied()).unwrap_or(0);
            Some(format!("{prefix}{i}.{}", rest.unwrap_or(default_field)))
        };
        match list {
            "regions" => row(&self.regions, "region", "area"),
            "contacts" => row(&self.contacts, "contact", "value"),
            "donation_methods" => row(&self.methods, "dm", "kind"),
            "categories" | "tags" | "languages" => Some(list.to_string()),
            "handle" | "name" | "summary" | "description" | "website" | "submitter_contact" => {
                Some(list.to_string())
            }
            _ => None,
        }
    }
}

impl FieldErrors {
    /// The messages of a field in a row (`dm2` + `iban`).
    pub fn at(&self, prefix: &str, field: &str) -> String {
        self.get(&format!("{prefix}.{field}"))
    }

    pub fn has_at(&self, prefix: &str, field: &str) -> bool {
        self.has(&format!("{prefix}.{field}"))
    }
}

/// The locale key naming a donation method kind.
pub fn method_key(kind: &str) -> &'static str {
    match kind {
        "bank_transfer" => "donate.kind.bank_transfer",
        "card" => "donate.kind.card",
        "jar" => "donate.kind.jar",
        "paypal" => "donate.kind.paypal",
        "platform" => "donate.kind.platform",
        _ => "donate.kind.crypto",
    }
}

/// The locale key of a contact kind's name.
pub fn contact_key(kind: &str) -> &'static str {
    match kind {
        "email" => "contact.email",
        "phone" => "contact.phone",
        "signal" => "contact.signal",
        "telegram" => "contact.telegram",
        "matrix" => "contact.matrix",
        "instagram" => "contact.instagram",
        "facebook" => "contact.facebook",
        "fediverse" => "contact.fediverse",
        "website" => "contact.website",
        _ => "contact.other",
    }
}

/// The locale key of a funding platform's name.
pub fn platform_key(platform: &str) -> &'static str {
    match platform {
        "liberapay" => "platform.liberapay",
        "open_collective" => "platform.open_collective",
        "patreon" => "platform.patreon",
        _ => "contact.other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_rows() {
        let map = FieldMap {
            regions: vec![1],
            contacts: vec![0, 2],
            methods: vec![1, 3],
        };
        assert_eq!(
            map.form_field("donation_methods[1].iban").unwrap(),
            "dm3.iban"
        );
        assert_eq!(map.form_field("regions[0].city").unwrap(), "region1.city");
        assert_eq!(
            map.form_field("contacts[1].value").unwrap(),
            "contact2.value"
        );
        assert_eq!(map.form_field("regions").unwrap(), "region0.area");
        assert_eq!(map.form_field("categories[3]").unwrap(), "categories");
        assert_eq!(map.form_field("name").unwrap(), "name");
        assert_eq!(map.form_field("nonsense"), None);
    }

    #[test]
    fn posted_rows_become_input() {
        let t = super::super::i18n::Lang::from_code("en").unwrap().t();
        let body = "handle=x&name=N&categories=medical&categories=food&tags=a,+b&region0.area=&region1.area=kharkiv&region1.city=Izium\
                    &dm0.kind=&dm1.kind=bank_transfer&dm1.iban=UA21&dm1.account_holder=H&dm1.currency=uah&dm1.recurring=1&contact0.kind=email&contact0.value=";
        let form = InitiativeForm::from_form(&t, &FormData::parse(body.as_bytes()));
        assert_eq!(form.regions.len(), 2);
        let (input, errors, map) = form.to_input(&t);
        assert!(errors.is_empty());
        assert_eq!(input.categories, ["medical", "food"]);
        assert_eq!(input.tags, ["a", "b"]);
        assert_eq!(input.regions.len(), 1);
        assert!(input.contacts.is_empty());
        assert!(input.donation_methods[0].recurring);
        assert_eq!(
            map.form_field("donation_methods[0].iban").unwrap(),
            "dm1.iban"
        );
    }

    #[test]
    fn tags_are_split_at_commas_and_languages_at_spaces_too() {
        let t = super::super::i18n::Lang::from_code("en").unwrap().t();
        let body = "tags=%D0%BF%D0%B5%D1%80%D1%88%D0%B0+%D0%B4%D0%BE%D0%BF%D0%BE%D0%BC%D0%BE%D0%B3%D0%B0,+drones&languages=uk+en";
        let form = InitiativeForm::from_form(&t, &FormData::parse(body.as_bytes()));
        let (input, ..) = form.to_input(&t);
        assert_eq!(input.tags, ["перша допомога", "drones"]);
        assert_eq!(input.languages, ["uk", "en"]);
    }

    #[test]
    fn an_add_button_brings_one_more_row_up_to_the_most() {
        let t = super::super::i18n::Lang::from_code("en").unwrap().t();
        let rows = |body: &str| {
            let form = FormData::parse(body.as_bytes());
            assert!(form.asks_for_more_rows() == body.contains("more="));
            InitiativeForm::from_form(&t, &form).methods.len()
        };
        assert_eq!(rows("dm0.kind=jar&dm1.kind="), 2);
        assert_eq!(rows("dm0.kind=jar&dm1.kind=&more=dm"), 3);
        assert_eq!(rows("dm0.kind=jar&more=contact"), 1);
        let full: String = (0..MAX_ROWS).map(|i| format!("dm{i}.kind=&")).collect();
        assert_eq!(rows(&format!("{full}more=dm")), MAX_ROWS);
        // A body with more fields than any form of ours is read up to the limit only.
        let flood = "a=1&".repeat(MAX_FIELDS + 10);
        assert_eq!(FormData::parse(flood.as_bytes()).0.len(), MAX_FIELDS);
    }
}
