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

impl Event {
    pub fn new(
        id: Uuid,
        initiative_id: Uuid,
        input: EventInput,
        now: Timestamp,
    ) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let title = clean(&input.title);
        e.text("title", &title, 140);
        e.no_control_chars("title", &title);
        let description = input.description.trim().to_string();
        e.max_len("description", &description, 5_000);
        let organiser = clean(&input.organiser);
        e.text("organiser", &organiser, 140);
        if input.timezone.parse::<chrono_tz::Tz>().is_err() {
            e.add(
                "timezone",
                "invalid_timezone",
                "must be an IANA time zone such as Europe/Kyiv",
            );
        }
        if let Some(end) = input.ends_at
            && end < input.starts_at
        {
            e.add("ends_at", "before_start", "must not be before the start");
        }
        let mut place = input.place;
        match &mut place {
            EventPlace::City {
                city,
                country,
                venue,
            } => {
                *city = clean(city);
                *country = country.trim().to_ascii_uppercase();
                e.text("place.city", city, 80);
                if !(country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase())) {
                    e.add(
                        "place.country",
                        "invalid_country",
                        "must be a two-letter ISO 3166 country code such as DE",
                    );
                }
                if let Some(v) = venue {
                    *v = clean(v);
                    e.max_len("place.venue", v, 140);
                }
            }
            EventPlace::Online { url } => {
                check_web_url(&mut e, "place.url", url);
            }
        }
        e.max_items("beneficiaries", &input.beneficiaries, 20);
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
        e.into_result(Event {
            id,
            initiative_id,
            title,
            description,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            timezone: input.timezone,
            place,
            organiser,
            beneficiaries,
            cancelled: input.cancelled,
            created_at: now,
            updated_at: now,
        })
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
    }
}
