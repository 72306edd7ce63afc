//! Initiatives: the grassroots groups the directory lists.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Timestamp;
use crate::category::Category;
use crate::contact::{Contact, is_email};
use crate::donation::DonationMethod;
use crate::handle::Handle;
use crate::region::Region;
use crate::update::Photo;
use crate::validation::{ValidationErrors, check_web_url, clean};

pub const MAX_NAME: usize = 120;
pub const MAX_SUMMARY: usize = 500;
pub const MAX_DESCRIPTION: usize = 20_000;
pub const MAX_TAG: usize = 40;
/// Most regions, contacts or donation methods one initiative lists (each).
pub const MAX_LIST_ENTRIES: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InitiativeStatus {
    /// Submitted, waiting for a moderator. Not listed.
    Pending,
    /// Listed and federated.
    Published,
    /// Temporarily not collecting; still listed, marked as paused.
    Paused,
    /// No longer active; kept for the record, not listed in search.
    Archived,
    /// A submission a moderator turned down. Not listed.
    Rejected,
}

impl InitiativeStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Published => "published",
            Self::Paused => "paused",
            Self::Archived => "archived",
            Self::Rejected => "rejected",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Published,
            Self::Paused,
            Self::Archived,
            Self::Rejected,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    /// Whether the public sees the initiative (its page, its actor, search).
    pub fn is_public(self) -> bool {
        matches!(self, Self::Published | Self::Paused | Self::Archived)
    }

    /// The status changes the workflow allows. Approval and rejection are only for pending
    /// submissions; a rejected submission stays rejected (the submitter can send a new one).
    pub fn can_become(self, next: Self) -> bool {
        use InitiativeStatus::*;
        matches!(
            (self, next),
            (Pending, Published | Rejected)
                | (Published, Paused | Archived)
                | (Paused, Published | Archived)
                | (Archived, Published)
        )
    }
}

/// An initiative as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Initiative {
    pub id: Uuid,
    pub handle: Handle,
    /// `None` for the node's own listings; the origin node's domain for mirrored ones.
    pub origin: Option<String>,
    pub name: String,
    pub summary: String,
    /// Markdown.
    pub description: String,
    pub categories: Vec<Category>,
    pub tags: Vec<String>,
    pub regions: Vec<Region>,
    pub languages: Vec<String>,
    pub website: Option<String>,
    pub contacts: Vec<Contact>,
    pub donation_methods: Vec<DonationMethod>,
    pub status: InitiativeStatus,
    /// Whether fediverse software may list it in directories and search (`discoverable`/`indexable`).
    pub discoverable: bool,
    /// Whether follows wait for a maintainer's approval.
    pub manually_approves_followers: bool,
    /// The small square picture shown next to the name (the actor's `icon`).
    #[serde(default)]
    pub avatar: Option<Photo>,
    /// The wide picture at the top of the profile (the actor's `image`).
    #[serde(default)]
    pub header: Option<Photo>,
    /// How moderators can reach whoever submitted it. Never public.
    #[serde(skip_serializing)]
    #[schema(ignore)]
    pub submitter_contact: Option<String>,
    pub rejection_reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When its donation methods last changed after it was first published. Donors are told,
    /// and a vouch given before then did not see these details: a taken-over account's first
    /// move is to swap the IBAN.
    #[serde(default)]
    pub payment_changed_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Initiative {
    /// Whether `methods` send money somewhere these do not: a new destination, not a new label
    /// or a monthly option, is what donors and vouchers must hear about.
    pub fn gains_payment_destination(&self, methods: &[DonationMethod]) -> bool {
        methods.iter().any(|m| {
            !self
                .donation_methods
                .iter()
                .any(|old| old.details == m.details)
        })
    }

    /// A fresh submission: pending until a moderator approves it.
    pub fn submit(id: Uuid, input: ValidInitiative, now: Timestamp) -> Self {
        let ValidInitiative(i) = input;
        Self {
            id,
            handle: i.handle,
            origin: None,
            name: i.name,
            summary: i.summary,
            description: i.description,
            categories: i.categories,
            tags: i.tags,
            regions: i.regions,
            languages: i.languages,
            website: i.website,
            contacts: i.contacts,
            donation_methods: i.donation_methods,
            status: InitiativeStatus::Pending,
            discoverable: i.discoverable,
            manually_approves_followers: i.manually_approves_followers,
            avatar: None,
            header: None,
            submitter_contact: i.submitter_contact,
            rejection_reason: None,
            created_at: now,
            updated_at: now,
            published_at: None,
            payment_changed_at: None,
        }
    }

    pub fn is_local(&self) -> bool {
        self.origin.is_none()
    }

    /// Whether any donation method takes monthly donations.
    pub fn takes_recurring_donations(&self) -> bool {
        self.donation_methods.iter().any(|m| m.recurring)
    }

    /// Applies a partial edit. The edit is validated as a whole; on error nothing changes.
    pub fn apply(
        &mut self,
        patch: InitiativePatch,
        now: Timestamp,
    ) -> Result<(), ValidationErrors> {
        let mut input = InitiativeInput {
            handle: self.handle.to_string(),
            name: patch.name.unwrap_or_else(|| self.name.clone()),
            summary: patch.summary.unwrap_or_else(|| self.summary.clone()),
            description: patch
                .description
                .unwrap_or_else(|| self.description.clone()),
            categories: patch.categories.unwrap_or_else(|| {
                self.categories
                    .iter()
                    .map(|c| c.code().to_string())
                    .collect()
            }),
            tags: patch.tags.unwrap_or_else(|| self.tags.clone()),
            regions: patch.regions.unwrap_or_else(|| self.regions.clone()),
            languages: patch.languages.unwrap_or_else(|| self.languages.clone()),
            website: match patch.website {
                Some(w) => w,
                None => self.website.clone(),
            },
            contacts: patch.contacts.unwrap_or_else(|| self.contacts.clone()),
            donation_methods: patch
                .donation_methods
                .unwrap_or_else(|| self.donation_methods.clone()),
            discoverable: patch.discoverable.unwrap_or(self.discoverable),
            manually_approves_followers: patch
                .manually_approves_followers
                .unwrap_or(self.manually_approves_followers),
            submitter_contact: self.submitter_contact.clone(),
        };
        // The handle is the actor's identity on the fediverse and never changes.
        input.handle = self.handle.to_string();
        let ValidInitiative(v) = input.validate()?;
        self.name = v.name;
        self.summary = v.summary;
        self.description = v.description;
        self.categories = v.categories;
        self.tags = v.tags;
        self.regions = v.regions;
        self.languages = v.languages;
        self.website = v.website;
        self.contacts = v.contacts;
        if self.published_at.is_some() && self.gains_payment_destination(&v.donation_methods) {
            self.payment_changed_at = Some(now);
        }
        self.donation_methods = v.donation_methods;
        self.discoverable = v.discoverable;
        self.manually_approves_followers = v.manually_approves_followers;
        self.updated_at = now;
        Ok(())
    }

    /// Sets or removes (`None`) the avatar or the header picture.
    pub fn set_picture(&mut self, which: Picture, photo: Option<Photo>, now: Timestamp) {
        let slot = match which {
            Picture::Avatar => &mut self.avatar,
            Picture::Header => &mut self.header,
        };
        *slot = photo.map(|p| Photo {
            alt: String::new(),
            ..p
        });
        self.updated_at = now;
    }

    /// Moves to a new status if the workflow allows it.
    pub fn change_status(
        &mut self,
        next: InitiativeStatus,
        now: Timestamp,
    ) -> Result<(), ValidationErrors> {
        if !self.status.can_become(next) {
            return Err(ValidationErrors::single(
                "status",
                "invalid_transition",
                format!(
                    "an initiative that is {} cannot become {}",
                    self.status.code(),
                    next.code()
                ),
            ));
        }
        if next == InitiativeStatus::Published && self.published_at.is_none() {
            self.published_at = Some(now);
        }
        self.status = next;
        self.updated_at = now;
        Ok(())
    }
}

/// The two profile pictures of an initiative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Picture {
    /// Square, shown small next to the name (ActivityPub `icon`).
    Avatar,
    /// Wide, shown at the top of the profile (ActivityPub `image`).
    Header,
}

impl Picture {
    pub fn code(self) -> &'static str {
        match self {
            Picture::Avatar => "avatar",
            Picture::Header => "header",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Avatar, Self::Header]
            .into_iter()
            .find(|p| p.code() == code)
    }
}

/// What a submitter sends. Categories are strings here so an unknown one is reported as a
/// field error rather than as unreadable JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InitiativeInput {
    pub handle: String,
    pub name: String,
    pub summary: String,
    #[serde(default)]
    pub description: String,
    pub categories: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub regions: Vec<Region>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub donation_methods: Vec<DonationMethod>,
    #[serde(default = "yes")]
    pub discoverable: bool,
    #[serde(default)]
    pub manually_approves_followers: bool,
    /// How moderators can reach you about this submission (email or messenger). Never published.
    #[serde(default)]
    pub submitter_contact: Option<String>,
}

fn yes() -> bool {
    true
}

/// Fields to change; absent fields stay as they are. `website: null` removes the website.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InitiativePatch {
    pub name: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub categories: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub regions: Option<Vec<Region>>,
    pub languages: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    pub contacts: Option<Vec<Contact>>,
    pub donation_methods: Option<Vec<DonationMethod>>,
    pub discoverable: Option<bool>,
    pub manually_approves_followers: Option<bool>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// The checked form of [`InitiativeInput`], with categories resolved and text trimmed.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidInitiative(ValidFields);

#[derive(Debug, Clone, PartialEq)]
struct ValidFields {
    handle: Handle,
    name: String,
    summary: String,
    description: String,
    categories: Vec<Category>,
    tags: Vec<String>,
    regions: Vec<Region>,
    languages: Vec<String>,
    website: Option<String>,
    contacts: Vec<Contact>,
    donation_methods: Vec<DonationMethod>,
    discoverable: bool,
    manually_approves_followers: bool,
    submitter_contact: Option<String>,
}

impl ValidInitiative {
    pub fn handle(&self) -> &Handle {
        &self.0.handle
    }
}

impl InitiativeInput {
    /// Checks every field and returns all problems at once.
    pub fn validate(self) -> Result<ValidInitiative, ValidationErrors> {
        self.checked(true)
    }

    /// As [`InitiativeInput::validate`], for a listing received from its own node: a mistyped
    /// wallet address is kept (its page warns donors) rather than refusing the whole listing.
    pub fn validate_received(self) -> Result<ValidInitiative, ValidationErrors> {
        self.checked(false)
    }

    fn checked(self, wallet_checksums: bool) -> Result<ValidInitiative, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let handle = match Handle::parse(&self.handle) {
            Ok(h) => Some(h),
            Err(errors) => {
                e.errors.extend(errors.errors);
                None
            }
        };
        let name = clean(&self.name);
        e.text("name", &name, MAX_NAME);
        e.no_control_chars("name", &name);
        let summary = clean(&self.summary);
        e.text("summary", &summary, MAX_SUMMARY);
        e.no_control_chars("summary", &summary);
        let description = self.description.trim().to_string();
        e.max_len("description", &description, MAX_DESCRIPTION);
        e.no_control_chars("description", &description);

        let mut categories = Vec::new();
        if self.categories.is_empty() {
            e.add("categories", "required", "choose at least one category");
        }
        e.max_items("categories", &self.categories, 5);
        for (i, code) in self.categories.iter().enumerate() {
            match Category::from_code(code.trim()) {
                Some(c) if !categories.contains(&c) => categories.push(c),
                Some(_) => {}
                None => e.add(
                    format!("categories[{i}]"),
                    "unknown_category",
                    format!(
                        "`{code}` is not a category; choose from {}",
                        Category::ALL.map(|c| c.code()).join(", ")
                    ),
                ),
            }
        }

        let mut tags: Vec<String> = Vec::new();
        e.max_items("tags", &self.tags, 20);
        for (i, tag) in self.tags.iter().enumerate() {
            let tag = tag.trim().trim_start_matches('#').to_lowercase();
            if tag.is_empty()
                || tag.chars().count() > MAX_TAG
                || !tag
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            {
                e.add(
                    format!("tags[{i}]"),
                    "invalid_tag",
                    "a tag is one word of letters, digits, - or _ (at most 40)",
                );
            } else if !tags.contains(&tag) {
                tags.push(tag);
            }
        }

        let mut regions = self.regions;
        if regions.is_empty() {
            e.add(
                "regions",
                "required",
                "name at least one region where the initiative works",
            );
        }
        e.max_items("regions", &regions, MAX_LIST_ENTRIES);
        for (i, r) in regions.iter_mut().enumerate() {
            r.normalize();
            e.nest(&format!("regions[{i}]"), r.validate());
        }

        let mut languages: Vec<String> = Vec::new();
        e.max_items("languages", &self.languages, 10);
        for (i, lang) in self.languages.iter().enumerate() {
            let lang = lang.trim().to_ascii_lowercase();
            if (2..=3).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_lowercase()) {
                if !languages.contains(&lang) {
                    languages.push(lang);
                }
            } else {
                e.add(
                    format!("languages[{i}]"),
                    "invalid_language",
                    "use a two-letter language code such as uk or en",
                );
            }
        }

        let website = self
            .website
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(String::from);
        if let Some(w) = &website {
            check_web_url(&mut e, "website", w);
        }

        let mut contacts = self.contacts;
        e.max_items("contacts", &contacts, MAX_LIST_ENTRIES);
        for (i, c) in contacts.iter_mut().enumerate() {
            c.normalize();
            e.nest(&format!("contacts[{i}]"), c.validate());
        }

        let mut donation_methods = self.donation_methods;
        e.max_items("donation_methods", &donation_methods, MAX_LIST_ENTRIES);
        for (i, m) in donation_methods.iter_mut().enumerate() {
            m.normalize();
            e.nest(&format!("donation_methods[{i}]"), m.validate());
            if wallet_checksums {
                e.nest(&format!("donation_methods[{i}]"), m.wallet_typo());
            }
        }

        let submitter_contact = self
            .submitter_contact
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from);
        if let Some(s) = &submitter_contact {
            e.max_len("submitter_contact", s, 200);
            e.no_control_chars("submitter_contact", s);
            if !is_email(s) && !s.starts_with('@') && !s.starts_with('+') && !s.starts_with("http")
            {
                e.add(
                    "submitter_contact",
                    "invalid_contact",
                    "give an email address, a messenger @handle, a phone number or a link",
                );
            }
        }

        match handle {
            Some(handle) if e.is_empty() => Ok(ValidInitiative(ValidFields {
                handle,
                name,
                summary,
                description,
                categories,
                tags,
                regions,
                languages,
                website,
                contacts,
                donation_methods,
                discoverable: self.discoverable,
                manually_approves_followers: self.manually_approves_followers,
                submitter_contact,
            })),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    pub(crate) fn sample() -> InitiativeInput {
        serde_json::from_value(serde_json::json!({
            "handle": "kharkiv-medics",
            "name": "Kharkiv Medics",
            "summary": "Tactical medicine kits for volunteers near Kharkiv",
            "description": "We buy **IFAKs**.",
            "categories": ["medical", "equipment"],
            "tags": ["#IFAK", "tourniquets"],
            "regions": [{"kind": "ukraine", "oblast": "kharkiv", "city": "Kharkiv"}],
            "languages": ["uk", "en"],
            "donation_methods": [{"kind": "jar", "url": "https://send.monobank.ua/jar/abc", "currency": "UAH", "recurring": true}],
            "submitter_contact": "olena@example.org"
        }))
        .unwrap()
    }

    #[test]
    fn valid_submission_lands_pending() {
        let i = Initiative::submit(Uuid::nil(), sample().validate().unwrap(), Utc::now());
        assert_eq!(i.status, InitiativeStatus::Pending);
        assert_eq!(i.tags, vec!["ifak", "tourniquets"]);
        assert!(i.takes_recurring_donations());
        assert!(
            !serde_json::to_string(&i).unwrap().contains("olena@"),
            "submitter contact is private"
        );
    }

    #[test]
    fn reports_every_bad_field() {
        let mut input = sample();
        input.handle = "with space".into();
        input.categories = vec!["medical".into(), "astrology".into()];
        input.description = "x".repeat(MAX_DESCRIPTION + 1);
        input.donation_methods[0].details = crate::DonationKind::BankTransfer {
            iban: "UA00 0000".into(),
            bic: None,
            account_holder: "A".into(),
            bank_name: None,
        };
        let fields: Vec<String> = input
            .validate()
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "handle",
                "description",
                "categories[1]",
                "donation_methods[0].iban"
            ]
        );
    }

    #[test]
    fn patch_keeps_handle_and_validates_whole() {
        let mut i = Initiative::submit(Uuid::nil(), sample().validate().unwrap(), Utc::now());
        let before = i.clone();
        let bad = InitiativePatch {
            name: Some(String::new()),
            ..Default::default()
        };
        assert!(i.apply(bad, Utc::now()).is_err());
        assert_eq!(i, before, "a failed edit changes nothing");
        let ok = InitiativePatch {
            summary: Some("New summary".into()),
            website: Some(None),
            ..Default::default()
        };
        i.apply(ok, Utc::now()).unwrap();
        assert_eq!(i.summary, "New summary");
        assert_eq!(i.handle.as_str(), "kharkiv-medics");
    }

    #[test]
    fn changed_payment_details_of_a_published_initiative_are_dated() {
        let mut i = Initiative::submit(Uuid::nil(), sample().validate().unwrap(), Utc::now());
        let jar: DonationMethod = serde_json::from_value(serde_json::json!(
            {"kind": "jar", "url": "https://send.monobank.ua/jar/other"}
        ))
        .unwrap();
        let swap = |jar: &DonationMethod| InitiativePatch {
            donation_methods: Some(vec![jar.clone()]),
            ..Default::default()
        };
        // Before publication nobody relied on them yet.
        i.apply(swap(&jar), Utc::now()).unwrap();
        assert_eq!(i.payment_changed_at, None);
        i.change_status(InitiativeStatus::Published, Utc::now())
            .unwrap();
        let other_edit = InitiativePatch {
            summary: Some("New summary".into()),
            ..Default::default()
        };
        i.apply(other_edit, Utc::now()).unwrap();
        assert_eq!(i.payment_changed_at, None, "only the payment details count");
        let mut monthly = jar.clone();
        monthly.recurring = !monthly.recurring;
        i.apply(swap(&monthly), Utc::now()).unwrap();
        assert_eq!(
            i.payment_changed_at, None,
            "the same account, now monthly too"
        );
        let elsewhere: DonationMethod = serde_json::from_value(serde_json::json!(
            {"kind": "jar", "url": "https://send.monobank.ua/jar/elsewhere"}
        ))
        .unwrap();
        let at = Utc::now();
        i.apply(swap(&elsewhere), at).unwrap();
        assert_eq!(i.payment_changed_at, Some(at));
    }

    #[test]
    fn status_workflow() {
        let mut i = Initiative::submit(Uuid::nil(), sample().validate().unwrap(), Utc::now());
        assert!(
            i.change_status(InitiativeStatus::Paused, Utc::now())
                .is_err()
        );
        i.change_status(InitiativeStatus::Published, Utc::now())
            .unwrap();
        assert!(i.published_at.is_some());
        assert!(
            i.change_status(InitiativeStatus::Rejected, Utc::now())
                .is_err()
        );
    }
}
