//! Realistic fictional listings in bulk: the demo initiatives as templates (contacts, donation
//! methods, languages), with generated names and texts in Ukrainian and English whose word
//! frequencies are skewed like real ones — a few words ("help", "допомога", "volunteers") are
//! in most listings, most words in few. Deterministic for a given seed.

use std::sync::Arc;

use chrono::{Duration, Utc};
use hromada_domain::{Category, Handle, Initiative, InitiativeStatus, Oblast, Region};
use hromada_store::{SearchQuery, Store};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const EN_COMMON: [&str; 24] = [
    "medical",
    "kits",
    "families",
    "evacuation",
    "repair",
    "shelter",
    "food",
    "children",
    "animals",
    "support",
    "equipment",
    "transport",
    "frontline",
    "community",
    "donations",
    "report",
    "winter",
    "water",
    "heating",
    "clinic",
    "school",
    "elderly",
    "supplies",
    "crew",
];
const EN_RARE: [&str; 24] = [
    "generator",
    "drones",
    "tourniquets",
    "insulin",
    "prosthetics",
    "starlink",
    "windows",
    "roofing",
    "blankets",
    "wheelchairs",
    "ambulance",
    "veterinary",
    "psychologist",
    "lawyer",
    "laptops",
    "batteries",
    "stoves",
    "firewood",
    "bandages",
    "boots",
    "radios",
    "trucks",
    "solar",
    "pharmacy",
];
const UK_COMMON: [&str; 16] = [
    "медична",
    "аптечки",
    "родини",
    "евакуація",
    "ремонт",
    "притулок",
    "їжа",
    "діти",
    "тварини",
    "підтримка",
    "спорядження",
    "громада",
    "звіт",
    "зима",
    "вода",
    "опалення",
];
const UK_RARE: [&str; 16] = [
    "генератор",
    "дрони",
    "турнікети",
    "інсулін",
    "протези",
    "вікна",
    "ковдри",
    "візки",
    "швидка",
    "ветеринар",
    "психолог",
    "юрист",
    "ноутбуки",
    "батареї",
    "буржуйки",
    "бинти",
];
const CITIES: [&str; 20] = [
    "Kharkiv",
    "Izium",
    "Kupiansk",
    "Balakliia",
    "Kherson",
    "Mykolaiv",
    "Odesa",
    "Zaporizhzhia",
    "Dnipro",
    "Kramatorsk",
    "Sloviansk",
    "Pokrovsk",
    "Sumy",
    "Chernihiv",
    "Kyiv",
    "Lviv",
    "Poltava",
    "Bucha",
    "Irpin",
    "Nikopol",
];

/// Picks a word with a rough Zipf skew: early words far more often than late ones.
fn zipf<'a>(rng: &mut StdRng, words: &[&'a str]) -> &'a str {
    let x: f64 = rng.r#gen();
    let i = ((words.len() as f64) * x * x * x) as usize;
    words[i.min(words.len() - 1)]
}

fn sentence(rng: &mut StdRng, words: usize) -> String {
    let mut out = Vec::with_capacity(words);
    for _ in 0..words {
        let w = match rng.gen_range(0..10) {
            0..=3 => zipf(rng, &EN_COMMON),
            4..=5 => zipf(rng, &UK_COMMON),
            6 => zipf(rng, &EN_RARE),
            7 => zipf(rng, &UK_RARE),
            _ => ["and", "for", "the", "with", "і", "для", "та", "з"][rng.gen_range(0..8)],
        };
        out.push(w);
    }
    out.join(" ")
}

/// Listing `n` built on `template`.
pub fn listing(template: &Initiative, n: usize, rng: &mut StdRng) -> Initiative {
    let mut i = template.clone();
    let city = CITIES[rng.gen_range(0..CITIES.len())];
    let oblast = Oblast::ALL[rng.gen_range(0..Oblast::ALL.len())];
    let topic = zipf(rng, &EN_RARE);
    i.id = uuid::Uuid::from_u128(rng.r#gen());
    i.handle = Handle::trusted(format!("bench-{n}"));
    i.origin = None;
    i.name = format!("{city} {topic} {} #{n}", zipf(rng, &EN_COMMON));
    let mut summary = sentence(rng, 14);
    // The hot words: each in roughly 60 %, 40 %, 60 % and 40 % of listings.
    if rng.gen_bool(0.6) {
        summary.push_str(" help");
    }
    if rng.gen_bool(0.4) {
        summary.push_str(" volunteers");
    }
    if rng.gen_bool(0.6) {
        summary.push_str(" допомога");
    }
    if rng.gen_bool(0.4) {
        summary.push_str(" волонтери");
    }
    i.summary = summary;
    i.description = (0..rng.gen_range(2..6))
        .map(|_| {
            let words = rng.gen_range(20..60);
            sentence(rng, words)
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    let mut categories: Vec<Category> = Category::ALL.to_vec();
    categories.shuffle(rng);
    categories.truncate(rng.gen_range(1..=3));
    i.categories = categories;
    i.tags = (0..rng.gen_range(1..4))
        .map(|_| zipf(rng, &EN_RARE).to_string())
        .collect();
    i.regions = vec![Region::Ukraine {
        oblast,
        city: Some(city.to_string()),
    }];
    i.status = InitiativeStatus::Published;
    let age = Duration::minutes(rng.gen_range(0..2 * 365 * 24 * 60));
    i.created_at = Utc::now() - age;
    i.updated_at = i.created_at + Duration::minutes(rng.gen_range(0..60 * 24 * 30));
    i.published_at = Some(i.created_at);
    i.submitter_contact = None;
    i.rejection_reason = None;
    i
}

/// The demo initiatives, read back from a throwaway in-memory node.
pub async fn templates() -> anyhow::Result<Vec<Initiative>> {
    let stores = hromada_server::open_store("sqlite::memory:").await?;
    let app = hromada_app::App::new(stores.directory.clone());
    let this_node = hromada_app::ThisNode::new("http://localhost")?;
    hromada_server::demo::seed(&app, &this_node, "bench-password-123").await?;
    let page = stores
        .directory
        .search_initiatives(&SearchQuery {
            statuses: vec![
                InitiativeStatus::Published,
                InitiativeStatus::Paused,
                InitiativeStatus::Pending,
                InitiativeStatus::Archived,
            ],
            per_page: 100,
            ..Default::default()
        })
        .await?;
    anyhow::ensure!(!page.items.is_empty(), "the demo data has no initiatives");
    Ok(page.items)
}

/// Inserts `count` listings through the store, `parallel` at a time; returns listings/s.
pub async fn fill(store: Arc<dyn Store>, count: usize, parallel: usize) -> anyhow::Result<f64> {
    let templates = Arc::new(templates().await?);
    let started = std::time::Instant::now();
    let workers = parallel.max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let store = store.clone();
        let templates = templates.clone();
        tasks.spawn(async move {
            let mut rng = StdRng::seed_from_u64(0x4852_4f4d + w as u64);
            let mut n = w;
            while n < count {
                let i = listing(&templates[n % templates.len()], n, &mut rng);
                store.insert_initiative(&i, None).await?;
                n += workers;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}
