//! Fixtures for the store suite: complete domain values with every field set, and helpers to
//! read back the change feed.

use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use hromada_domain::{
    AuditAction, AuditEntry, Category, Contact, ContactKind, Currency, DonationKind,
    DonationMethod, Event, EventPlace, FundingPlatform, Handle, Initiative, InitiativeStatus,
    LineItem, Money, Need, NeedStatus, Oblast, Photo, Region, Role, Update, UpdateKind, Urgency,
    User,
};
use hromada_store::{Change, SearchQuery, Store, TokenKind, TokenRecord};
use uuid::Uuid;

/// Now, at the precision both stores keep.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub fn uah() -> Currency {
    Currency::parse("UAH").unwrap()
}

/// A published local initiative with every field filled in, in English.
pub fn initiative(handle: &str) -> Initiative {
    let t = now();
    Initiative {
        id: Uuid::new_v4(),
        handle: Handle::parse(handle).unwrap(),
        origin: None,
        name: format!("Initiative {handle}"),
        summary: "A grassroots group".into(),
        description: "We help where we can.".into(),
        categories: vec![Category::Medical, Category::Equipment],
        tags: vec!["volunteers".into(), "тактична-медицина".into()],
        regions: vec![
            Region::Ukraine {
                oblast: Oblast::Kharkiv,
                city: Some("Izium".into()),
            },
            Region::Abroad {
                country: "PL".into(),
                city: None,
            },
        ],
        languages: vec!["uk".into(), "en".into()],
        website: Some("https://example.org/".into()),
        contacts: vec![
            Contact {
                kind: ContactKind::Email,
                value: "team@example.org".into(),
            },
            Contact {
                kind: ContactKind::Signal,
                value: "+380 67 000 0000".into(),
            },
            Contact {
                kind: ContactKind::Matrix,
                value: "@team:example.org".into(),
            },
        ],
        donation_methods: vec![
            DonationMethod {
                details: DonationKind::BankTransfer {
                    iban: "UA213223130000026007233566001".into(),
                    bic: Some("PBANUA2X".into()),
                    account_holder: "ГО Приклад".into(),
                    bank_name: Some("Example Bank".into()),
                },
                label: Some("Main account".into()),
                currency: Some(uah()),
                recurring: false,
            },
            DonationMethod {
                details: DonationKind::Jar {
                    url: "https://send.monobank.ua/jar/abc".into(),
                },
                label: None,
                currency: Some(uah()),
                recurring: false,
            },
            DonationMethod {
                details: DonationKind::Platform {
                    platform: FundingPlatform::Liberapay,
                    url: "https://liberapay.com/example".into(),
                },
                label: None,
                currency: Some(Currency::parse("EUR").unwrap()),
                recurring: false,
            },
            DonationMethod {
                details: DonationKind::Crypto {
                    network: "USDT (TRC-20)".into(),
                    address: "TXYZabc123".into(),
                },
                label: None,
                currency: None,
                recurring: false,
            },
        ],
        status: InitiativeStatus::Published,
        discoverable: true,
        manually_approves_followers: false,
        avatar: Some(Photo {
            name: "0123456789abcdef0123456789abcdef.jpg".into(),
            alt: String::new(),
            width: 400,
            height: 400,
        }),
        header: None,
        submitter_contact: Some("olena@example.org".into()),
        rejection_reason: None,
        created_at: t - Duration::days(3),
        updated_at: t,
        published_at: Some(t - Duration::days(2)),
        payment_changed_at: Some(t),
    }
}

/// A published initiative with the given text, for search cases.
pub fn listing(
    handle: &str,
    name: &str,
    summary: &str,
    description: &str,
    tags: &[&str],
) -> Initiative {
    Initiative {
        name: name.into(),
        summary: summary.into(),
        description: description.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        // Found by its words alone: place names are words too.
        regions: Vec::new(),
        ..initiative(handle)
    }
}

pub fn need(initiative_id: Uuid, title: &str, urgency: Urgency, status: NeedStatus) -> Need {
    let t = now();
    Need {
        id: Uuid::new_v4(),
        initiative_id,
        title: title.into(),
        description: "Details of the need".into(),
        category: Category::Equipment,
        target: Some(Money::new(4_000_000, uah())),
        raised: 125_050,
        deadline: NaiveDate::from_ymd_opt(2030, 12, 31),
        urgency,
        status,
        created_at: t,
        updated_at: t,
    }
}

pub fn news(initiative_id: Uuid, body: &str, publish_at: DateTime<Utc>) -> Update {
    let t = now();
    Update {
        id: Uuid::new_v4(),
        initiative_id,
        kind: UpdateKind::News,
        body: body.into(),
        need_id: None,
        // A photo, so every round trip through the store covers the photos column too.
        photos: vec![Photo {
            name: "0123456789abcdef0123456789abcdef.jpg".into(),
            alt: "Tourniquets on a table / Турнікети на столі".into(),
            width: 1600,
            height: 1200,
        }],
        publish_at,
        created_at: t,
        updated_at: t,
    }
}

pub fn report(initiative_id: Uuid, need_id: Option<Uuid>) -> Update {
    Update {
        kind: UpdateKind::SpendingReport {
            items: vec![
                LineItem {
                    what: "CAT tourniquet".into(),
                    amount: Money::new(120_000, uah()),
                },
                LineItem {
                    what: "Generator".into(),
                    amount: Money::new(3_000_050, uah()),
                },
            ],
        },
        need_id,
        photos: vec![Photo {
            name: "3f2a0c9e4b1d5a6f7e8c9d0a1b2c3d4e.jpg".into(),
            alt: "Генератор у кузові машини".into(),
            width: 1600,
            height: 1200,
        }],
        ..news(initiative_id, "Where the money went", now())
    }
}

pub fn event(
    initiative_id: Uuid,
    title: &str,
    starts_at: DateTime<Utc>,
    ends_at: Option<DateTime<Utc>>,
) -> Event {
    let t = now();
    Event {
        id: Uuid::new_v4(),
        initiative_id,
        title: title.into(),
        description: "Music and borscht".into(),
        starts_at,
        ends_at,
        timezone: "Europe/Berlin".into(),
        place: EventPlace::City {
            city: "Berlin".into(),
            country: "DE".into(),
            venue: Some("Club Soli".into()),
        },
        organiser: "Soli Kollektiv".into(),
        beneficiaries: Vec::new(),
        cancelled: false,
        created_at: t,
        updated_at: t,
    }
}

pub fn user(username: &str, role: Role) -> User {
    User {
        id: Uuid::new_v4(),
        username: username.into(),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
        maintains: Vec::new(),
        disabled: false,
        created_at: now(),
    }
}

pub fn token(user_id: Uuid, hash: &str) -> TokenRecord {
    TokenRecord {
        id: Uuid::new_v4(),
        user_id,
        hash: hash.into(),
        kind: TokenKind::Api,
        label: "script".into(),
        created_at: now(),
        expires_at: None,
        revoked_at: None,
    }
}

pub fn audit(action: AuditAction, subject: &str) -> AuditEntry {
    AuditEntry::new(now(), Some("moderator"), action, subject)
}

/// Every change in the feed, oldest first.
pub async fn all_changes(store: &dyn Store) -> Vec<Change> {
    store.changes_after(0, 10_000).await.unwrap()
}

/// The handles a search finds, in order.
pub async fn found(store: &dyn Store, query: SearchQuery) -> Vec<String> {
    store
        .search_initiatives(&query)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.handle.to_string())
        .collect()
}

pub fn text(words: &str) -> SearchQuery {
    SearchQuery {
        text: Some(words.into()),
        ..Default::default()
    }
}
