//! Solidarity events: concerts, dinners, screenings and talks that raise funds for initiatives.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Timestamp;
use crate::handle::Handle;
use crate::validation::{ValidationErrors, check_web_url, clean};

/// Where an event happens: a city (never an exact address in the directory; organisers share
/// the venue with attendees themselves) or online.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventPlace {
    City {
        city: String,
        /// ISO 3166-1 alpha-2 country code.
        country: String,
        /// Optional public venue name (a club, a church hall) – organisers choose what to publish.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        venue: Option<String>,
    },
    Online {
        url: String,
    },
}

impl EventPlace {
    pub fn label(&self) -> String {
        match self {
            EventPlace::City {
                city,
                country,
                venue: Some(v),
            } => format!("{v}, {city} ({country})"),
            EventPlace::City {
                city,
                country,
                venue: None,
            } => format!("{city} ({country})"),
            EventPlace::Online { url } => format!("Online: {url}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub id: Uuid,
    /// The initiative that published the event.
    pub initiative_id: Uuid,
    pub title: String,
    /// Markdown.
    pub description: String,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    pub ends_at: Option<chrono::DateTime<chrono::Utc>>,
    /// IANA time zone the event is announced in, e.g. `Europe/Berlin`.
    pub timezone: String,
    pub place: EventPlace,
    pub organiser: String,
    /// Initiatives (on this node) the event raises funds for, besides its publisher.
    pub beneficiaries: Vec<Handle>,
    pub cancelled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    #[serde(default)]
    pub ends_at: Option<chrono::DateTime<chrono::Utc>>,
    pub timezone: String,
    pub place: EventPlace,
    pub organiser: String,
    #[serde(default)]
    pub beneficiaries: Vec<String>,
    #[serde(default)]
    pub cancelled: bool,
}

/// Fields of an event to change; absent fields stay as they are. `ends_at: null` removes the
/// end time.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventPatch {
    pub title: Option<String>,
    /// Markdown.
    pub description: Option<String>,
    pub starts_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    pub ends_at: Option<Option<chrono::DateTime<chrono::Utc>>>,
    pub timezone: Option<String>,
    pub place: Option<EventPlace>,
    pub organiser: Option<String>,
    pub beneficiaries: Option<Vec<String>>,
    /// `true` keeps the event listed, marked as cancelled.
    pub cancelled: Option<bool>,
}

fn some<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Most initiatives one event raises funds for, besides its publisher.
pub const MAX_BENEFICIARIES: usize = 20;

impl Event {
    pub fn new(
        id: Uuid,
        initiative_id: Uuid,
        input: EventInput,
        now: Timestamp,
    ) -> Result<Self, ValidationErrors> {
        let mut place = input.place;
        match &mut place {
            EventPlace::City {
                city,
                country,
                venue,
            } => {
                *city = clean(city);
                *country = country.trim().to_ascii_uppercase();
                if let Some(v) = venue {
                    *v = clean(v);
                }
            }
            EventPlace::Online { url } => *url = clean(url),
        }
        let mut e = ValidationErrors::new();
        e.max_items("beneficiaries", &input.beneficiaries, MAX_BENEFICIARIES);
        let mut beneficiaries = Vec::new();
        for (i, b) in input.beneficiaries.iter().enumerate() {
            match Handle::parse(b) {
                Ok(h) => beneficiaries.push(h),
                Err(_) => e.add(
                    format!("beneficiaries[{i}]"),
                    "invalid_handle",
                    "must be an initiative's handle",
                ),
            }
        }
        let event = Event {
            id,
            initiative_id,
            title: clean(&input.title),
            description: input.description.trim().to_string(),
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            timezone: input.timezone,
            place,
            organiser: clean(&input.organiser),
            beneficiaries,
            cancelled: input.cancelled,
            created_at: now,
            updated_at: now,
        };
        e.errors.extend(event.validate().errors);
        e.into_result(event)
    }

    /// Checks what an event must be to be stored, however it was made (here or on a peer).
    pub fn validate(&self) -> ValidationErrors {
        let mut e = ValidationErrors::new();
        e.text("title", &self.title, 140);
        e.no_control_chars("title", &self.title);
        e.max_len("description", &self.description, 5_000);
        e.text("organiser", &self.organiser, 140);
        e.no_control_chars("organiser", &self.organiser);
        if self.timezone.parse::<chrono_tz::Tz>().is_err() {
            e.add(
                "timezone",
                "invalid_timezone",
                "must be an IANA time zone such as Europe/Kyiv",
            );
        }
        e.time("starts_at", &self.starts_at);
        if let Some(end) = &self.ends_at {
            e.time("ends_at", end);
            if *end < self.starts_at {
                e.add("ends_at", "before_start", "must not be before the start");
            }
        }
        match &self.place {
            EventPlace::City {
                city,
                country,
                venue,
            } => {
                e.text("place.city", city, 80);
                e.no_control_chars("place.city", city);
                if !(country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase())) {
                    e.add(
                        "place.country",
                        "invalid_country",
                        "must be a two-letter ISO 3166 country code such as DE",
                    );
                }
                if let Some(v) = venue {
                    e.max_len("place.venue", v, 140);
                    e.no_control_chars("place.venue", v);
                }
            }
            EventPlace::Online { url } => {
                check_web_url(&mut e, "place.url", url);
            }
        }
        e.max_items("beneficiaries", &self.beneficiaries, MAX_BENEFICIARIES);
        e.time("created_at", &self.created_at);
        e.time("updated_at", &self.updated_at);
        e
    }

    /// The input that would give this event (what an edit starts from).
    pub fn to_input(&self) -> EventInput {
        EventInput {
            title: self.title.clone(),
            description: self.description.clone(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            timezone: self.timezone.clone(),
            place: self.place.clone(),
            organiser: self.organiser.clone(),
            beneficiaries: self.beneficiaries.iter().map(|h| h.to_string()).collect(),
            cancelled: self.cancelled,
        }
    }

    /// Applies an edit as a whole, under the same rules as a new event: on error nothing
    /// changes. The id and the creation time stay.
    pub fn apply(&mut self, patch: EventPatch, now: Timestamp) -> Result<(), ValidationErrors> {
        let mut input = self.to_input();
        if let Some(v) = patch.title {
            input.title = v;
        }
        if let Some(v) = patch.description {
            input.description = v;
        }
        if let Some(v) = patch.starts_at {
            input.starts_at = v;
        }
        if let Some(v) = patch.ends_at {
            input.ends_at = v;
        }
        if let Some(v) = patch.timezone {
            input.timezone = v;
        }
        if let Some(v) = patch.place {
            input.place = v;
        }
        if let Some(v) = patch.organiser {
            input.organiser = v;
        }
        if let Some(v) = patch.beneficiaries {
            input.beneficiaries = v;
        }
        if let Some(v) = patch.cancelled {
            input.cancelled = v;
        }
        let next = Event::new(self.id, self.initiative_id, input, now)?;
        *self = Event {
            created_at: self.created_at,
            ..next
        };
        Ok(())
    }

    /// The start in the event's own time zone, for people reading it (e.g. on Mastodon).
    pub fn local_start(&self) -> String {
        match self.timezone.parse::<chrono_tz::Tz>() {
            Ok(tz) => self
                .starts_at
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string(),
            Err(_) => self.starts_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn event_validation() {
        let input: EventInput = serde_json::from_value(serde_json::json!({
            "title": "Benefit concert",
            "starts_at": "2026-12-12T18:00:00Z",
            "timezone": "Europe/Berlin",
            "place": {"kind": "city", "city": "Berlin", "country": "de"},
            "organiser": "Soli Kollektiv",
            "beneficiaries": ["kharkiv-medics"]
        }))
        .unwrap();
        let ev = Event::new(Uuid::nil(), Uuid::nil(), input.clone(), Utc::now()).unwrap();
        assert_eq!(ev.local_start(), "2026-12-12 19:00 CET");
        let bad = EventInput {
            timezone: "Mars/Olympus".into(),
            ..input
        };
        assert_eq!(
            Event::new(Uuid::nil(), Uuid::nil(), bad, Utc::now())
                .unwrap_err()
                .errors[0]
                .field,
            "timezone"
        );
        // A year the stores cannot keep, and a link that is not a web address.
        let far: EventInput = serde_json::from_value(serde_json::json!({
            "title": "Benefit concert",
            "starts_at": "+10000-01-01T00:00:00Z",
            "timezone": "Europe/Berlin",
            "place": {"kind": "online", "url": "javascript:alert(1)"},
            "organiser": "Soli Kollektiv"
        }))
        .unwrap();
        let errors = Event::new(Uuid::nil(), Uuid::nil(), far, Utc::now()).unwrap_err();
        let fields: Vec<(&str, &str)> = errors
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect();
        assert_eq!(
            fields,
            [("starts_at", "out_of_range"), ("place.url", "invalid_url")]
        );
    }

    #[test]
    fn event_edits_keep_identity_and_rules() {
        let input: EventInput = serde_json::from_value(serde_json::json!({
            "title": "Benefit concert",
            "starts_at": "2026-12-12T18:00:00Z",
            "ends_at": "2026-12-12T21:00:00Z",
            "timezone": "Europe/Berlin",
            "place": {"kind": "city", "city": "Berlin", "country": "DE"},
            "organiser": "Soli Kollektiv"
        }))
        .unwrap();
        let created = Utc::now();
        let mut ev = Event::new(Uuid::now_v7(), Uuid::nil(), input, created).unwrap();
        let before = ev.clone();
        let patch: EventPatch = serde_json::from_value(
            serde_json::json!({"title": "  Winter concert ", "ends_at": null}),
        )
        .unwrap();
        let later = created + chrono::Duration::minutes(5);
        ev.apply(patch, later).unwrap();
        assert_eq!((ev.id, ev.created_at), (before.id, before.created_at));
        assert_eq!(ev.title, "Winter concert");
        assert_eq!(ev.ends_at, None);
        assert_eq!(ev.updated_at, later);
        // A bad edit changes nothing.
        let bad: EventPatch = serde_json::from_value(
            serde_json::json!({"title": "", "ends_at": "2026-12-01T00:00:00Z"}),
        )
        .unwrap();
        let kept = ev.clone();
        let errors = ev.apply(bad, later).unwrap_err();
        let fields: Vec<_> = errors.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "ends_at"]);
        assert_eq!(ev, kept);
    }
}
