//! Needs: what an initiative is raising money or collecting goods for right now.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Timestamp;
use crate::category::Category;
use crate::money::Money;
use crate::validation::{ValidationErrors, clean};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Low,
    Normal,
    High,
    Critical,
}

impl Urgency {
    pub fn code(self) -> &'static str {
        match self {
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::High => "high",
            Urgency::Critical => "critical",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Low, Self::Normal, Self::High, Self::Critical]
            .into_iter()
            .find(|u| u.code() == code)
    }

    /// Urgent needs are announced to the node's own followers too.
    pub fn is_urgent(self) -> bool {
        self >= Urgency::High
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NeedStatus {
    Open,
    Funded,
    Delivered,
    Cancelled,
}

impl NeedStatus {
    pub fn code(self) -> &'static str {
        match self {
            NeedStatus::Open => "open",
            NeedStatus::Funded => "funded",
            NeedStatus::Delivered => "delivered",
            NeedStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Open, Self::Funded, Self::Delivered, Self::Cancelled]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Need {
    pub id: Uuid,
    pub initiative_id: Uuid,
    pub title: String,
    /// Markdown.
    pub description: String,
    pub category: Category,
    /// What the need costs; `None` for needs that are not about money (e.g. volunteers, goods).
    pub target: Option<Money>,
    /// Raised so far, in the target's currency, as minor units.
    #[schema(value_type = String)]
    #[serde(serialize_with = "ser_minor", deserialize_with = "de_minor")]
    pub raised: i64,
    pub deadline: Option<NaiveDate>,
    pub urgency: Urgency,
    pub status: NeedStatus,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

fn ser_minor<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::money::format_amount(*v))
}

fn de_minor<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    crate::money::parse_amount(&String::deserialize(d)?).map_err(serde::de::Error::custom)
}

impl Need {
    pub fn new(
        id: Uuid,
        initiative_id: Uuid,
        input: NeedInput,
        now: Timestamp,
    ) -> Result<Self, ValidationErrors> {
        let mut need = Need {
            id,
            initiative_id,
            title: String::new(),
            description: String::new(),
            category: Category::Other,
            target: None,
            raised: 0,
            deadline: None,
            urgency: Urgency::Normal,
            status: NeedStatus::Open,
            created_at: now,
            updated_at: now,
        };
        need.apply(
            NeedPatch {
                title: Some(input.title),
                description: Some(input.description),
                category: Some(input.category),
                target: Some(input.target),
                raised: input.raised,
                deadline: Some(input.deadline),
                urgency: Some(input.urgency),
                status: None,
            },
            now,
        )?;
        Ok(need)
    }

    /// Percentage funded, 0–100, when there is a money target.
    pub fn progress_percent(&self) -> Option<u8> {
        let target = self.target.as_ref()?.amount;
        if target <= 0 {
            return None;
        }
        Some(((self.raised.max(0) as i128 * 100 / target as i128).min(100)) as u8)
    }

    /// Applies an edit as a whole: on error nothing changes.
    pub fn apply(&mut self, patch: NeedPatch, now: Timestamp) -> Result<(), ValidationErrors> {
        let mut next = self.clone();
        let mut e = ValidationErrors::new();
        if let Some(t) = patch.title {
            next.title = clean(&t);
        }
        if let Some(d) = patch.description {
            next.description = d.trim().to_string();
        }
        if let Some(c) = patch.category {
            match Category::from_code(c.trim()) {
                Some(c) => next.category = c,
                None => e.add(
                    "category",
                    "unknown_category",
                    format!("`{c}` is not a category"),
                ),
            }
        }
        if let Some(t) = patch.target {
            // What was raised was counted in the old currency: it cannot just carry over.
            let currency_changed = matches!((&self.target, &t),
                (Some(old), Some(new)) if old.currency != new.currency);
            if self.raised > 0 && currency_changed && patch.raised.is_none() {
                e.add(
                    "raised",
                    "currency_changed",
                    "the currency changed: give the amount raised in the new currency too",
                );
            }
            next.target = t;
        }
        if let Some(r) = patch.raised {
            match crate::money::parse_amount(&r) {
                Ok(v) => next.raised = v,
                Err(m) => e.add("raised", "invalid_amount", m),
            }
        }
        if let Some(d) = patch.deadline {
            // An old need may keep a deadline that has passed; one set now cannot be past.
            if d != self.deadline && d.is_some_and(|d| d < now.date_naive()) {
                e.add("deadline", "deadline_passed", "must not be in the past");
            }
            next.deadline = d;
        }
        if let Some(u) = patch.urgency {
            next.urgency = u;
        }
        if let Some(s) = patch.status {
            next.status = s;
        }
        next.updated_at = now;
        e.errors.extend(next.validate().errors);
        e.into_result(())?;
        *self = next;
        Ok(())
    }

    /// Checks what a need must be to be stored, however it was made (here or on a peer).
    pub fn validate(&self) -> ValidationErrors {
        let mut e = ValidationErrors::new();
        e.text("title", &self.title, 140);
        e.no_control_chars("title", &self.title);
        e.max_len("description", &self.description, 5_000);
        if let Some(t) = &self.target {
            t.validate("target.amount", &mut e);
        }
        if self.raised < 0 {
            e.add("raised", "negative", "must not be negative");
        }
        if self.raised > 0 && self.target.is_none() {
            e.add(
                "raised",
                "no_target",
                "set a target amount before recording what was raised",
            );
        }
        if let Some(d) = &self.deadline {
            e.date("deadline", d);
        }
        e.time("created_at", &self.created_at);
        e.time("updated_at", &self.updated_at);
        e
    }
}

/// A new need. Amounts are decimal strings, e.g. `"1500.00"`.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub category: String,
    #[serde(default)]
    pub target: Option<Money>,
    #[serde(default)]
    pub raised: Option<String>,
    #[serde(default)]
    pub deadline: Option<NaiveDate>,
    #[serde(default = "normal")]
    pub urgency: Urgency,
}

fn normal() -> Urgency {
    Urgency::Normal
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<Money>)]
    pub target: Option<Option<Money>>,
    /// Raised so far, e.g. `"12500.00"`.
    pub raised: Option<String>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<NaiveDate>)]
    pub deadline: Option<Option<NaiveDate>>,
    pub urgency: Option<Urgency>,
    pub status: Option<NeedStatus>,
}

fn some<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn need_progress_and_validation() {
        let input: NeedInput = serde_json::from_value(serde_json::json!({
            "title": "Generator for the field hospital",
            "category": "equipment",
            "target": {"amount": "40000", "currency": "UAH"},
            "raised": "10000.00",
            "urgency": "critical"
        }))
        .unwrap();
        let mut need = Need::new(Uuid::nil(), Uuid::nil(), input, Utc::now()).unwrap();
        assert_eq!(need.progress_percent(), Some(25));
        assert!(need.urgency.is_urgent());
        let before = need.clone();
        assert!(
            need.apply(
                NeedPatch {
                    raised: Some("-5".into()),
                    ..Default::default()
                },
                Utc::now()
            )
            .is_err()
        );
        assert_eq!(need, before);
        need.apply(
            NeedPatch {
                raised: Some("50000".into()),
                status: Some(NeedStatus::Funded),
                ..Default::default()
            },
            Utc::now(),
        )
        .unwrap();
        assert_eq!(need.progress_percent(), Some(100));

        // A new currency: the amount raised must come in it too, or 50,000 UAH would read as
        // 50,000 EUR.
        let in_euros = |raised: Option<&str>| NeedPatch {
            target: Some(Some(
                serde_json::from_str(r#"{"amount": "1000", "currency": "EUR"}"#).unwrap(),
            )),
            raised: raised.map(String::from),
            ..Default::default()
        };
        let refused = need.clone().apply(in_euros(None), Utc::now()).unwrap_err();
        assert_eq!(refused.errors[0].code, "currency_changed");
        need.apply(in_euros(Some("1100")), Utc::now()).unwrap();
        assert_eq!(need.progress_percent(), Some(100));
    }

    #[test]
    fn a_deadline_set_now_cannot_be_past_but_an_old_one_may_stay() {
        let created = Utc::now() - chrono::Duration::days(30);
        let input: NeedInput = serde_json::from_value(serde_json::json!({
            "title": "Tyres", "category": "evacuation",
            "deadline": (created + chrono::Duration::days(7)).date_naive()
        }))
        .unwrap();
        let mut need = Need::new(Uuid::nil(), Uuid::nil(), input.clone(), created).unwrap();
        // Today the deadline has passed: other fields can still be changed, the deadline kept.
        let now = Utc::now();
        let kept = NeedPatch {
            title: Some("Winter tyres".into()),
            deadline: Some(need.deadline),
            urgency: Some(Urgency::Critical),
            ..Default::default()
        };
        need.apply(kept, now).unwrap();
        assert_eq!(need.title, "Winter tyres");
        let yesterday = (now - chrono::Duration::days(1)).date_naive();
        let moved = NeedPatch {
            deadline: Some(Some(yesterday)),
            ..Default::default()
        };
        let refused = need.apply(moved, now).unwrap_err();
        assert_eq!(refused.errors[0].code, "deadline_passed");
        assert!(Need::new(Uuid::nil(), Uuid::nil(), input, now).is_err());
    }
}
