//! Demo data: fictional initiatives in Ukrainian and English, entered through the same use
//! cases as real ones, so the demo exercises validation and the change feed too.

use chrono::Duration;
use hromada_app::{App, AppError, ThisNode};
use hromada_domain::trust::VouchInput;
use hromada_domain::{
    EventInput, InitiativeInput, InitiativeStatus, NeedInput, Role, UpdateInput, User,
};
use serde::Deserialize;

const DATA: &str = include_str!("demo/data.json");

/// The demo logins. All share one password.
pub const DEMO_USERS: [(&str, Role); 3] = [
    ("admin", Role::Admin),
    ("moderator", Role::Moderator),
    ("maintainer", Role::Maintainer),
];

pub const DEFAULT_DEMO_PASSWORD: &str = "hromada-demo";

#[derive(Deserialize)]
struct DemoData {
    initiatives: Vec<DemoInitiative>,
}

#[derive(Deserialize)]
struct DemoInitiative {
    status: InitiativeStatus,
    #[serde(default)]
    maintainer: Option<String>,
    /// The demo collective's vouch, so the demo shows a verified listing and its explanation.
    #[serde(default)]
    vouch: Option<VouchInput>,
    input: InitiativeInput,
    needs: Vec<DemoNeed>,
    updates: Vec<UpdateInput>,
    events: Vec<DemoEvent>,
}

#[derive(Deserialize)]
struct DemoNeed {
    #[serde(default)]
    deadline_in_days: Option<i64>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct DemoEvent {
    starts_in_days: i64,
    hours: i64,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

/// What was seeded, for the start-up message.
#[derive(Debug)]
pub struct DemoSummary {
    pub initiatives: usize,
}

/// Seeds an empty node with the demo users and all demo listings; `node` is the node whose
/// moderator vouches for some of them.
pub async fn seed(app: &App, node: &ThisNode, password: &str) -> Result<DemoSummary, AppError> {
    seed_only(app, node, password, |_| true).await
}

/// Seeds an empty node with the demo users and those demo listings whose handle `include` accepts.
pub async fn seed_only(
    app: &App,
    node: &ThisNode,
    password: &str,
    include: impl Fn(&str) -> bool,
) -> Result<DemoSummary, AppError> {
    let data: DemoData =
        serde_json::from_str(DATA).map_err(|e| AppError::Internal(format!("demo data: {e}")))?;
    let mut users = Vec::new();
    for (name, role) in DEMO_USERS {
        users.push(app.create_user(None, name, role, password).await?);
    }
    let moderator = users
        .iter()
        .find(|u| u.role == Role::Moderator)
        .cloned()
        .ok_or(AppError::NotFound("user"))?;
    let today = hromada_app::now();
    let chosen: Vec<DemoInitiative> = data
        .initiatives
        .into_iter()
        .filter(|d| include(&d.input.handle))
        .collect();
    let count = chosen.len();
    for demo in chosen {
        let handle = demo.input.handle.clone();
        let initiative = app.submit(None, demo.input).await?;
        if let Some(name) = &demo.maintainer {
            app.add_maintainer(None, name, &handle).await?;
        }
        // Content is added while published, as maintainers would, before any later pause.
        let publish = demo.status != InitiativeStatus::Pending;
        if publish {
            app.approve(&moderator, &handle).await?;
        }
        let editor: &User = &moderator;
        for need in demo.needs {
            let mut json = need.rest;
            if let Some(days) = need.deadline_in_days {
                let deadline = (today + Duration::days(days)).date_naive();
                json.insert("deadline".into(), serde_json::json!(deadline));
            }
            let input: NeedInput = from_json(json)?;
            app.add_need(editor, &handle, input).await?;
        }
        for update in demo.updates {
            app.post_update(editor, &handle, update).await?;
        }
        for event in demo.events {
            let mut json = event.rest;
            let start = today + Duration::days(event.starts_in_days);
            json.insert("starts_at".into(), serde_json::json!(start));
            json.insert(
                "ends_at".into(),
                serde_json::json!(start + Duration::hours(event.hours)),
            );
            let input: EventInput = from_json(json)?;
            app.add_event(editor, &handle, input).await?;
        }
        if let (true, Some(vouch)) = (publish, demo.vouch) {
            app.vouch(&moderator, node, &handle, vouch).await?;
        }
        if publish && demo.status != InitiativeStatus::Published {
            app.set_status(&moderator, &handle, demo.status, Some("demo"))
                .await?;
        }
        tracing::debug!(%handle, id = %initiative.id, "demo initiative seeded");
    }
    Ok(DemoSummary { initiatives: count })
}

fn from_json<T: serde::de::DeserializeOwned>(
    map: serde_json::Map<String, serde_json::Value>,
) -> Result<T, AppError> {
    serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| AppError::Internal(format!("demo data: {e}")))
}
