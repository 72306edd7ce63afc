//! Updates: news and spending reports an initiative publishes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Timestamp;
use crate::money::Money;
use crate::validation::{ValidationErrors, clean};

/// One line of a spending report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineItem {
    pub what: String,
    pub amount: Money,
}

/// Most photos one update carries.
pub const MAX_PHOTOS: usize = 6;

/// A photo attached to an update: a file the node serves at `/media/{name}`, already resized
/// and re-encoded without any metadata (GPS positions in photos can reveal volunteers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Photo {
    /// The served file's name: 32 hex digits of its content hash and `.jpg`.
    #[schema(example = "3f2a0c9e4b1d5a6f7e8c9d0a1b2c3d4e.jpg")]
    pub name: String,
    /// A description for people who cannot see it.
    #[serde(default)]
    pub alt: String,
    pub width: u32,
    pub height: u32,
}

impl Photo {
    /// Whether `name` is a media file name the node could have made.
    pub fn is_valid_name(name: &str) -> bool {
        name.len() == 36
            && name.ends_with(".jpg")
            && name[..32]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UpdateKind {
    News,
    SpendingReport { items: Vec<LineItem> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Update {
    pub id: Uuid,
    pub initiative_id: Uuid,
    #[serde(flatten)]
    pub kind: UpdateKind,
    /// Markdown.
    pub body: String,
    pub need_id: Option<Uuid>,
    /// Photos shown with the update (uploaded through the web pages).
    #[serde(default)]
    pub photos: Vec<Photo>,
    /// When it becomes public. Reports from near the front are often published late on purpose.
    pub publish_at: chrono::DateTime<chrono::Utc>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Update {
    pub fn new(
        id: Uuid,
        initiative_id: Uuid,
        input: UpdateInput,
        now: Timestamp,
    ) -> Result<Self, ValidationErrors> {
        let publish_at = input.publish_at.unwrap_or(now);
        let mut e = ValidationErrors::new();
        if publish_at < now - chrono::Duration::minutes(5) {
            e.add(
                "publish_at",
                "in_the_past",
                "publication can be delayed, not backdated",
            );
        }
        let update = Update {
            id,
            initiative_id,
            kind: trimmed(input.kind),
            body: input.body.trim().to_string(),
            need_id: input.need_id,
            photos: input.photos,
            publish_at: publish_at.max(now),
            created_at: now,
            updated_at: now,
        };
        e.errors.extend(update.validate().errors);
        e.into_result(update)
    }

    pub fn is_published(&self, now: Timestamp) -> bool {
        self.publish_at <= now
    }

    /// The total of a spending report's line items per currency.
    pub fn report_totals(&self) -> Vec<Money> {
        let mut totals: Vec<Money> = Vec::new();
        if let UpdateKind::SpendingReport { items } = &self.kind {
            for item in items {
                match totals
                    .iter_mut()
                    .find(|t| t.currency == item.amount.currency)
                {
                    Some(t) => t.amount += item.amount.amount,
                    None => totals.push(item.amount.clone()),
                }
            }
        }
        totals
    }

    /// Replaces the text (and items); validated as a whole, on error nothing changes.
    pub fn edit(
        &mut self,
        body: Option<String>,
        kind: Option<UpdateKind>,
        now: Timestamp,
    ) -> Result<(), ValidationErrors> {
        let mut next = self.clone();
        if let Some(b) = body {
            next.body = b.trim().to_string();
        }
        if let Some(k) = kind {
            next.kind = trimmed(k);
        }
        next.updated_at = now;
        next.validate().into_result(())?;
        *self = next;
        Ok(())
    }

    /// Checks what an update must be to be stored, however it was made (here or on a peer).
    pub fn validate(&self) -> ValidationErrors {
        let mut e = ValidationErrors::new();
        e.time("publish_at", &self.publish_at);
        e.time("created_at", &self.created_at);
        e.time("updated_at", &self.updated_at);
        e.text("body", &self.body, 10_000);
        e.no_control_chars("body", &self.body);
        e.max_items("photos", &self.photos, MAX_PHOTOS);
        for (i, photo) in self.photos.iter().enumerate() {
            if !Photo::is_valid_name(&photo.name) {
                e.add(
                    format!("photos[{i}].name"),
                    "invalid_photo",
                    "is not the name of an uploaded photo",
                );
            }
            e.max_len(&format!("photos[{i}].alt"), &photo.alt, 1_500);
            e.no_control_chars(&format!("photos[{i}].alt"), &photo.alt);
            if !(1..=10_000).contains(&photo.width) || !(1..=10_000).contains(&photo.height) {
                e.add(
                    format!("photos[{i}]"),
                    "invalid_photo",
                    "has impossible dimensions",
                );
            }
        }
        if let UpdateKind::SpendingReport { items } = &self.kind {
            if items.is_empty() {
                e.add(
                    "items",
                    "required",
                    "a spending report lists at least one item",
                );
            }
            e.max_items("items", items, 100);
            for (i, item) in items.iter().enumerate() {
                let what = clean(&item.what);
                e.text(&format!("items[{i}].what"), &what, 200);
                item.amount
                    .validate(&format!("items[{i}].amount.amount"), &mut e);
            }
        }
        e
    }
}

/// The kind as it is stored: each report line's text without the spaces around it.
fn trimmed(kind: UpdateKind) -> UpdateKind {
    match kind {
        UpdateKind::SpendingReport { items } => UpdateKind::SpendingReport {
            items: items
                .into_iter()
                .map(|item| LineItem {
                    what: clean(&item.what),
                    ..item
                })
                .collect(),
        },
        news => news,
    }
}

// `deny_unknown_fields` does not combine with `flatten` in serde, so unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
pub struct UpdateInput {
    #[serde(flatten)]
    pub kind: UpdateKind,
    pub body: String,
    #[serde(default)]
    pub need_id: Option<Uuid>,
    /// Photos uploaded beforehand (see [`Photo`]).
    #[serde(default)]
    pub photos: Vec<Photo>,
    /// Publish later; by default at once.
    #[serde(default)]
    pub publish_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use chrono::Utc;

    #[test]
    fn spending_report_totals_and_delay() {
        let input: UpdateInput = serde_json::from_value(serde_json::json!({
            "kind": "spending_report",
            "body": "Bought two tourniquets",
            "items": [
                {"what": "CAT tourniquet", "amount": {"amount": "1200", "currency": "UAH"}},
                {"what": " CAT tourniquet\n", "amount": {"amount": "1200.50", "currency": "UAH"}}
            ],
            "publish_at": (Utc::now() + chrono::Duration::days(3)).to_rfc3339()
        }))
        .unwrap();
        let now = Utc::now();
        let mut u = Update::new(Uuid::nil(), Uuid::nil(), input, now).unwrap();
        assert_eq!(u.report_totals()[0].amount, 240050);
        assert!(!u.is_published(now));
        let lines = |u: &Update| match &u.kind {
            UpdateKind::SpendingReport { items } => {
                items.iter().map(|i| i.what.clone()).collect::<Vec<_>>()
            }
            UpdateKind::News => Vec::new(),
        };
        assert_eq!(
            lines(&u),
            ["CAT tourniquet", "CAT tourniquet"],
            "stored trimmed"
        );
        let edited = UpdateKind::SpendingReport {
            items: vec![LineItem {
                what: "  Fuel ".into(),
                amount: Money::new(50_000, Currency::try_from("UAH".to_string()).unwrap()),
            }],
        };
        u.edit(None, Some(edited), now).unwrap();
        assert_eq!(lines(&u), ["Fuel"], "also when edited");
    }

    #[test]
    fn empty_report_is_refused() {
        let input: UpdateInput = serde_json::from_value(
            serde_json::json!({"kind": "spending_report", "body": "x", "items": []}),
        )
        .unwrap();
        let e = Update::new(Uuid::nil(), Uuid::nil(), input, Utc::now()).unwrap_err();
        assert_eq!(e.errors[0].field, "items");
    }
}
