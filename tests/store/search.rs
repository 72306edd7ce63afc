//! Search: Ukrainian and English words, prefixes, AND, ranking, place names, every filter,
//! pages.

use std::future::Future;

use chrono::Duration;
use hromada_domain::{
    Category, DonationKind, DonationMethod, Initiative, InitiativeStatus, NeedStatus, Oblast,
    Region, Urgency,
};
use hromada_store::{OriginFilter, SearchQuery, Store};

use crate::support::{found, initiative, listing, need, now, text};

async fn insert_all(store: &dyn Store, initiatives: &[Initiative]) {
    for i in initiatives {
        store.insert_initiative(i, None).await.unwrap();
    }
}

fn sorted(mut handles: Vec<String>) -> Vec<String> {
    handles.sort();
    handles
}

async fn directory(store: &dyn Store) {
    insert_all(
        store,
        &[
            listing(
                "kharkiv-medics",
                "Медики Харкова",
                "Тактична медицина для волонтерів",
                "Купуємо турнікети та генератори для стабпунктів.",
                &["медицина"],
            ),
            listing(
                "kyiv-power",
                "Kyiv Power",
                "Generators for hospitals",
                "We deliver generators and fuel.",
                &["energy"],
            ),
            listing(
                "zoo-help",
                "Зоопоміч",
                "Корм для тварин",
                "Animals need food too.",
                &[],
            ),
        ],
    )
    .await;
}

pub async fn finds_english_and_ukrainian_words(store: &dyn Store) {
    directory(store).await;
    assert_eq!(found(store, text("generators")).await, ["kyiv-power"]);
    assert_eq!(found(store, text("генератори")).await, ["kharkiv-medics"]);
    assert_eq!(
        found(store, text("ГЕНЕРАТОРИ")).await,
        ["kharkiv-medics"],
        "case-insensitive Cyrillic"
    );
    assert_eq!(found(store, text("Харкова")).await, ["kharkiv-medics"]);
    assert_eq!(found(store, text("KYIV")).await, ["kyiv-power"]);
    assert_eq!(found(store, text("animals")).await, ["zoo-help"]);
    assert_eq!(found(store, text("тварин")).await, ["zoo-help"]);
    assert_eq!(
        found(store, text("energy")).await,
        ["kyiv-power"],
        "tags are searched"
    );
    assert_eq!(found(store, text("медицина")).await, ["kharkiv-medics"]);
    assert!(found(store, text("submarine")).await.is_empty());
}

pub async fn terms_match_as_prefixes(store: &dyn Store) {
    directory(store).await;
    assert_eq!(found(store, text("медик")).await, ["kharkiv-medics"]);
    assert_eq!(found(store, text("generat")).await, ["kyiv-power"]);
    assert_eq!(found(store, text("турнік")).await, ["kharkiv-medics"]);
    assert_eq!(found(store, text("хосп")).await, Vec::<String>::new());
}

/// A word finds the listings holding its other forms: "аптечка" finds "аптечки".
pub async fn inflected_forms_find_each_other(store: &dyn Store) {
    directory(store).await;
    for word in [
        "Харків",
        "Харкові",
        "генераторів",
        "турнікетами",
        "медицину",
        "медиків",
    ] {
        assert_eq!(found(store, text(word)).await, ["kharkiv-medics"], "{word}");
    }
    assert_eq!(found(store, text("тварина")).await, ["zoo-help"]);
    for word in ["generator", "hospital", "delivering"] {
        assert_eq!(found(store, text(word)).await, ["kyiv-power"], "{word}");
    }
    // One ending at most: a different word sharing the first letters is not found.
    assert!(found(store, text("медитація")).await.is_empty());
}

/// Marks on Latin letters are optional, as donors abroad type words with or without them; on
/// SQLite and PostgreSQL alike. Letters of their own stay apart.
pub async fn diacritics_are_optional(store: &dyn Store) {
    insert_all(
        store,
        &[
            listing(
                "zbiorka",
                "Zbiórka na generator",
                "Pomoc z Łodzi",
                "Crème de la crème, naïve",
                &[],
            ),
            listing("yizha", "Їжа для Херсона", "", "", &[]),
        ],
    )
    .await;
    for word in [
        "zbiorka",
        "Zbiórka",
        "ZBIÓRKA",
        "zbio\u{301}rka",
        "Łodzi",
        "creme naive",
        "crème naïve",
    ] {
        assert_eq!(found(store, text(word)).await, ["zbiorka"], "{word}");
    }
    assert!(
        found(store, text("lodzi")).await.is_empty(),
        "ł is a letter of its own, as on SQLite"
    );
    assert_eq!(found(store, text("їжа")).await, ["yizha"]);
    assert!(
        found(store, text("іжа")).await.is_empty(),
        "ї is a letter of its own"
    );
}

fn working_in(handle: &str, name: &str, description: &str, region: Region) -> Initiative {
    Initiative {
        regions: vec![region],
        ..listing(handle, name, "", description, &[])
    }
}

/// Listings whose text never names their place, and one that names a place it does not work in.
pub(crate) async fn places(store: &dyn Store) {
    insert_all(
        store,
        &[
            working_in(
                "odesa-law",
                "Правова допомога",
                "Free legal advice.",
                Region::Ukraine {
                    oblast: Oblast::Odesa,
                    city: None,
                },
            ),
            working_in(
                "izium-repairs",
                "Ремонтна бригада",
                "Roofs and windows.",
                Region::Ukraine {
                    oblast: Oblast::Kharkiv,
                    city: Some("Izium".into()),
                },
            ),
            working_in(
                "kyiv-generators",
                "Генератори для лікарень",
                "",
                Region::Ukraine {
                    oblast: Oblast::KyivCity,
                    city: None,
                },
            ),
            working_in(
                "berlin-kitchen",
                "Soli Kitchen",
                "",
                Region::Abroad {
                    country: "DE".into(),
                    city: Some("Berlin".into()),
                },
            ),
            working_in(
                "mentions-odesa",
                "Shelter",
                "Колись ми працювали в Одесі.",
                Region::Ukraine {
                    oblast: Oblast::Lviv,
                    city: None,
                },
            ),
        ],
    )
    .await;
}

pub async fn found_by_the_places_they_work_in(store: &dyn Store) {
    places(store).await;
    // The city, its other forms and spellings, the colloquial and the official region names.
    for word in ["Odessa", "Odesa", "Одещина", "Одеська"] {
        assert_eq!(found(store, text(word)).await, ["odesa-law"], "{word}");
    }
    for word in ["Харків", "Харкові", "Kharkiv", "Харківщині", "Izium"] {
        assert_eq!(found(store, text(word)).await, ["izium-repairs"], "{word}");
    }
    // As donors abroad type them, with and without diacritics.
    for word in ["Charkiw", "Charków", "Charkow", "Харьков", "Харькове"] {
        assert_eq!(found(store, text(word)).await, ["izium-repairs"], "{word}");
    }
    for word in ["Одесса", "Одессе", "Oděsa"] {
        assert_eq!(found(store, text(word)).await, ["odesa-law"], "{word}");
    }
    for word in [
        "Київ",
        "Києві",
        "Kiev",
        "Kyiv",
        "Kiew",
        "Kijów",
        "Kijow",
        "Киеве",
    ] {
        assert_eq!(
            found(store, text(word)).await,
            ["kyiv-generators"],
            "{word}"
        );
    }
    assert_eq!(found(store, text("Berlin")).await, ["berlin-kitchen"]);
    assert!(
        found(store, text("DE")).await.is_empty(),
        "a country code is not a word"
    );
    // A place counts like the name: working there ranks above mentioning it.
    for word in ["Одеса", "Одесі"] {
        assert_eq!(
            found(store, text(word)).await,
            ["odesa-law", "mentions-odesa"],
            "{word}"
        );
    }
    assert_eq!(
        found(store, text("генератори Київ")).await,
        ["kyiv-generators"]
    );
    assert!(found(store, text("генератори Одеса")).await.is_empty());
}

/// After an upgrade the store finds older listings by their places too: `forget` leaves the
/// rows as a version before place words did, `reopen` migrates the database again.
pub async fn older_listings_get_their_place_words<F, R>(store: &dyn Store, forget: F, reopen: R)
where
    F: Future<Output = ()>,
    R: Future<Output = ()>,
{
    places(store).await;
    forget.await;
    assert!(
        found(store, text("Odessa")).await.is_empty(),
        "the rows are as an older version left them"
    );
    reopen.await;
    assert_eq!(found(store, text("Odessa")).await, ["odesa-law"]);
    assert_eq!(found(store, text("Izium")).await, ["izium-repairs"]);
    assert_eq!(
        found(store, text("Правова")).await,
        ["odesa-law"],
        "the rest of the document is as before"
    );
}

pub async fn every_term_is_required(store: &dyn Store) {
    directory(store).await;
    assert_eq!(
        found(store, text("generators hospitals")).await,
        ["kyiv-power"]
    );
    assert_eq!(
        found(store, text("медики турнікети")).await,
        ["kharkiv-medics"],
        "name and description"
    );
    assert!(found(store, text("generators харкова")).await.is_empty());
    assert!(found(store, text("kyiv submarine")).await.is_empty());
}

pub async fn name_and_tags_rank_above_summary_and_description(store: &dyn Store) {
    insert_all(
        store,
        &[
            listing(
                "in-description",
                "Village help",
                "Help for villages",
                "Sometimes we also bring water.",
                &[],
            ),
            listing(
                "in-summary",
                "Village pumps",
                "Pumps and water for villages",
                "We repair pumps.",
                &[],
            ),
            listing(
                "in-tags",
                "Village wells",
                "Wells for villages",
                "We dig wells.",
                &["water"],
            ),
            listing(
                "in-name",
                "Clean water now",
                "Filters for villages",
                "We install filters.",
                &[],
            ),
            // Documents without the word, so that it is not in every document.
            listing("filler-one", "Bakery", "Bread", "Fresh bread daily.", &[]),
            listing("filler-two", "Shelter", "Beds", "Beds for the night.", &[]),
            listing("filler-three", "Legal aid", "Lawyers", "Free advice.", &[]),
        ],
    )
    .await;
    let order = found(store, text("water")).await;
    assert_eq!(
        sorted(order.clone()),
        ["in-description", "in-name", "in-summary", "in-tags"]
    );
    let rank = |h: &str| order.iter().position(|x| x == h).unwrap();
    assert!(rank("in-name") < rank("in-summary"), "{order:?}");
    assert!(rank("in-tags") < rank("in-summary"), "{order:?}");
    assert!(rank("in-summary") < rank("in-description"), "{order:?}");
    assert_eq!(
        order.last().map(String::as_str),
        Some("in-description"),
        "a description-only match ranks last"
    );
}

/// The ranking both backends share: listings with every word in the name or tags first, then
/// with every word in the name, tags or summary, then the rest; newest first within each.
pub async fn ranks_by_the_fields_holding_every_word_then_newest(store: &dyn Store) {
    let t = now();
    let dated = |age: i64, i: Initiative| Initiative {
        updated_at: t - Duration::seconds(age),
        ..i
    };
    // Inserted oldest first, so that "newest" means the same on both backends.
    insert_all(
        store,
        &[
            dated(
                50,
                listing("title-old", "Water pumps", "Villages", "We dig.", &[]),
            ),
            dated(
                40,
                listing("split", "Water now", "Villages", "Pumps repaired.", &[]),
            ),
            dated(
                30,
                listing("summary", "Village aid", "Water pumps", "We dig.", &[]),
            ),
            dated(
                20,
                listing(
                    "tag",
                    "Village aid",
                    "Villages",
                    "We dig.",
                    &["water", "pumps"],
                ),
            ),
            dated(
                10,
                listing("title-new", "Pumps and water", "Villages", "We dig.", &[]),
            ),
            listing("filler", "Bakery", "Bread", "Fresh bread daily.", &[]),
        ],
    )
    .await;
    assert_eq!(
        found(store, text("water pump")).await,
        ["title-new", "tag", "title-old", "summary", "split"]
    );
    // The same order page by page.
    let mut paged = Vec::new();
    for page in 1..=3 {
        let result = store
            .search_initiatives(&SearchQuery {
                page,
                per_page: 2,
                ..text("water pump")
            })
            .await
            .unwrap();
        assert_eq!(result.total, 5);
        paged.extend(result.items.into_iter().map(|i| i.handle.to_string()));
    }
    assert_eq!(paged, ["title-new", "tag", "title-old", "summary", "split"]);
}

/// Prefixes of every length match, including words longer than any prefix index.
pub async fn prefixes_of_any_length(store: &dyn Store) {
    insert_all(
        store,
        &[
            listing(
                "gear",
                "Спорядження",
                "Забезпечуємо спорядженням",
                "Wheelchairs and generators.",
                &[],
            ),
            listing("bread", "Bakery", "Bread", "Fresh bread daily.", &[]),
        ],
    )
    .await;
    for word in [
        "с",
        "сп",
        "спорядж",
        "спорядженн",
        "спорядження",
        "спорядженням",
        "w",
        "wheelchair",
        "wheelchairs",
    ] {
        assert_eq!(found(store, text(word)).await, ["gear"], "{word}");
    }
    for word in ["спорудження", "wheelchairz", "споряджувати"] {
        assert!(found(store, text(word)).await.is_empty(), "{word}");
    }
}

pub async fn syntax_characters_are_plain_text(store: &dyn Store) {
    insert_all(
        store,
        &[listing(
            "bread-or-water",
            "Bread or water",
            "Either",
            "Bread \"or\" water (both).",
            &[],
        )],
    )
    .await;
    let queries = [
        "\"",
        "\"unbalanced",
        "*",
        "(",
        ")",
        "OR",
        "AND",
        "NOT",
        "bread OR",
        "OR bread",
        "NEAR(bread water)",
        "name:bread",
        "-bread",
        "^bread",
        "bread*",
        "'",
        "\\",
        "bread & water | !fire",
        ":*",
        "<->",
        "{name}",
        "+%_",
        "ʼ",
        "\u{345}",
        "и\u{306}",
        "²",
        "🔥",
        "a\"b'c*d(e)f:g",
    ];
    for q in queries {
        if let Err(e) = store.search_initiatives(&text(q)).await {
            panic!("query {q:?} failed: {e}");
        }
    }
    assert_eq!(
        found(store, text("bread OR")).await,
        ["bread-or-water"],
        "`OR` is a word here"
    );
    assert_eq!(
        found(store, text("\"bread\" (water)")).await,
        ["bread-or-water"]
    );
}

pub async fn filters_by_category_and_region(store: &dyn Store) {
    let medical = Initiative {
        categories: vec![Category::Medical],
        regions: vec![Region::Ukraine {
            oblast: Oblast::Kharkiv,
            city: None,
        }],
        ..initiative("medical-kharkiv")
    };
    let food_abroad = Initiative {
        categories: vec![Category::Food, Category::Children],
        regions: vec![Region::Abroad {
            country: "PL".into(),
            city: Some("Kraków".into()),
        }],
        ..initiative("food-abroad")
    };
    let food_two_regions = Initiative {
        categories: vec![Category::Food],
        regions: vec![
            Region::Ukraine {
                oblast: Oblast::Lviv,
                city: Some("Lviv".into()),
            },
            Region::Ukraine {
                oblast: Oblast::Kharkiv,
                city: None,
            },
        ],
        ..initiative("food-lviv-kharkiv")
    };
    insert_all(store, &[medical, food_abroad, food_two_regions]).await;

    let q = |category: Option<Category>, region: Option<&str>| SearchQuery {
        category,
        region: region.map(String::from),
        ..Default::default()
    };
    assert_eq!(
        sorted(found(store, q(Some(Category::Food), None)).await),
        ["food-abroad", "food-lviv-kharkiv"]
    );
    assert_eq!(
        found(store, q(Some(Category::Medical), None)).await,
        ["medical-kharkiv"]
    );
    assert_eq!(
        found(store, q(Some(Category::Children), None)).await,
        ["food-abroad"]
    );
    assert!(
        found(store, q(Some(Category::Animals), None))
            .await
            .is_empty()
    );
    assert_eq!(
        sorted(found(store, q(None, Some("kharkiv"))).await),
        ["food-lviv-kharkiv", "medical-kharkiv"]
    );
    assert_eq!(found(store, q(None, Some("abroad"))).await, ["food-abroad"]);
    assert_eq!(
        found(store, q(None, Some("lviv"))).await,
        ["food-lviv-kharkiv"]
    );
    assert!(found(store, q(None, Some("odesa"))).await.is_empty());
    assert_eq!(
        found(store, q(Some(Category::Food), Some("kharkiv"))).await,
        ["food-lviv-kharkiv"]
    );
}

pub async fn filters_by_status(store: &dyn Store) {
    let with = |handle: &str, status| Initiative {
        status,
        ..listing(handle, "Soup kitchen", "Soup", "Hot soup.", &[])
    };
    insert_all(
        store,
        &[
            with("is-published", InitiativeStatus::Published),
            with("is-paused", InitiativeStatus::Paused),
            with("is-pending", InitiativeStatus::Pending),
            with("is-archived", InitiativeStatus::Archived),
            with("is-rejected", InitiativeStatus::Rejected),
        ],
    )
    .await;
    let listed = ["is-paused", "is-published"];
    assert_eq!(
        sorted(found(store, SearchQuery::default()).await),
        listed,
        "pending and others not listed"
    );
    assert_eq!(sorted(found(store, text("soup")).await), listed);
    let only = |statuses: Vec<InitiativeStatus>| SearchQuery {
        statuses,
        ..text("soup")
    };
    assert_eq!(
        found(store, only(vec![InitiativeStatus::Pending])).await,
        ["is-pending"]
    );
    assert_eq!(
        sorted(
            found(
                store,
                only(vec![InitiativeStatus::Archived, InitiativeStatus::Rejected])
            )
            .await
        ),
        ["is-archived", "is-rejected"]
    );
    let total = store
        .search_initiatives(&SearchQuery::default())
        .await
        .unwrap()
        .total;
    assert_eq!(total, 2);
}

/// Statuses combine with words and the other filters the same way whichever statuses are
/// asked for, and a listing that changes status moves between them.
pub async fn statuses_combine_with_words_and_filters(store: &dyn Store) {
    let soup = |handle: &str, status, category| Initiative {
        status,
        categories: vec![category],
        ..listing(handle, "Soup kitchen", "Soup", "Hot soup.", &[])
    };
    let all = [
        InitiativeStatus::Pending,
        InitiativeStatus::Published,
        InitiativeStatus::Paused,
        InitiativeStatus::Archived,
        InitiativeStatus::Rejected,
    ];
    let mut listings: Vec<Initiative> = all
        .iter()
        .map(|&s| soup(&format!("food-{}", s.code()), s, Category::Food))
        .collect();
    listings.push(soup(
        "medical-published",
        InitiativeStatus::Published,
        Category::Medical,
    ));
    let closing = soup("food-closing", InitiativeStatus::Published, Category::Food);
    listings.push(closing.clone());
    insert_all(store, &listings).await;

    let food = |statuses: &[InitiativeStatus], words: Option<&str>| SearchQuery {
        statuses: statuses.to_vec(),
        category: Some(Category::Food),
        text: words.map(str::to_string),
        ..SearchQuery::default()
    };
    let handles_and_total = |query: SearchQuery| async move {
        let page = store.search_initiatives(&query).await.unwrap();
        let handles: Vec<String> = page.items.iter().map(|i| i.handle.to_string()).collect();
        (sorted(handles), page.total)
    };
    let public = ["food-closing", "food-paused", "food-published"];
    for words in [Some("soup kitchen"), None] {
        assert_eq!(
            handles_and_total(food(&[], words)).await,
            (public.map(String::from).to_vec(), 3),
            "{words:?}"
        );
        assert_eq!(
            handles_and_total(food(
                &[InitiativeStatus::Published, InitiativeStatus::Pending],
                words
            ))
            .await,
            (
                ["food-closing", "food-pending", "food-published"]
                    .map(String::from)
                    .to_vec(),
                3
            ),
            "{words:?}"
        );
        assert_eq!(handles_and_total(food(&all, words)).await.1, 6, "{words:?}");
        let everything = SearchQuery {
            statuses: all.to_vec(),
            text: words.map(str::to_string),
            ..SearchQuery::default()
        };
        assert_eq!(handles_and_total(everything).await.1, 7, "{words:?}");
    }

    let read_at = closing.updated_at;
    store
        .update_initiative(
            &Initiative {
                status: InitiativeStatus::Archived,
                ..closing
            },
            read_at,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        handles_and_total(food(&[], Some("soup"))).await,
        (
            ["food-paused", "food-published"].map(String::from).to_vec(),
            2
        )
    );
    assert_eq!(
        handles_and_total(food(&[InitiativeStatus::Archived], Some("soup"))).await,
        (
            ["food-archived", "food-closing"].map(String::from).to_vec(),
            2
        )
    );
}

pub async fn filters_by_origin(store: &dyn Store) {
    let remote = Initiative {
        origin: Some("peer.example".into()),
        ..initiative("from-peer")
    };
    insert_all(store, &[initiative("at-home"), remote]).await;
    let q = |origin| SearchQuery {
        origin,
        ..Default::default()
    };
    assert_eq!(found(store, q(OriginFilter::Local)).await, ["at-home"]);
    assert_eq!(found(store, q(OriginFilter::Remote)).await, ["from-peer"]);
    assert_eq!(
        sorted(found(store, q(OriginFilter::All)).await),
        ["at-home", "from-peer"]
    );
}

pub async fn filters_by_open_needs(store: &dyn Store) {
    let open = initiative("has-open");
    let funded = initiative("only-funded");
    let none = initiative("no-needs");
    insert_all(store, &[open.clone(), funded.clone(), none]).await;
    store
        .insert_need(&need(open.id, "Generator", Urgency::High, NeedStatus::Open))
        .await
        .unwrap();
    store
        .insert_need(&need(
            open.id,
            "Old one",
            Urgency::Low,
            NeedStatus::Delivered,
        ))
        .await
        .unwrap();
    store
        .insert_need(&need(
            funded.id,
            "Fuel",
            Urgency::Normal,
            NeedStatus::Funded,
        ))
        .await
        .unwrap();

    let q = |has_open_needs| SearchQuery {
        has_open_needs,
        ..Default::default()
    };
    assert_eq!(found(store, q(Some(true))).await, ["has-open"]);
    assert_eq!(
        sorted(found(store, q(Some(false))).await),
        ["no-needs", "only-funded"]
    );
    assert_eq!(found(store, q(None)).await.len(), 3);
}

pub async fn filters_by_recurring_donations(store: &dyn Store) {
    let mut monthly = initiative("takes-monthly");
    monthly.donation_methods.push(DonationMethod {
        details: DonationKind::Paypal {
            account: "give@example.org".into(),
        },
        label: None,
        currency: None,
        recurring: true,
    });
    insert_all(store, &[monthly, initiative("one-off-only")]).await;
    let q = SearchQuery {
        recurring_only: true,
        ..Default::default()
    };
    assert_eq!(found(store, q).await, ["takes-monthly"]);
    assert_eq!(found(store, SearchQuery::default()).await.len(), 2);
}

pub async fn text_and_filters_combine(store: &dyn Store) {
    let kitchen_kharkiv = Initiative {
        categories: vec![Category::Food],
        regions: vec![Region::Ukraine {
            oblast: Oblast::Kharkiv,
            city: None,
        }],
        ..listing(
            "kitchen-kharkiv",
            "Field kitchen",
            "Hot meals",
            "Борщ щодня.",
            &[],
        )
    };
    let kitchen_abroad = Initiative {
        categories: vec![Category::Food],
        regions: vec![Region::Abroad {
            country: "DE".into(),
            city: Some("Berlin".into()),
        }],
        ..listing(
            "kitchen-berlin",
            "Soli kitchen",
            "Dinners",
            "Борщ для всіх.",
            &[],
        )
    };
    let medics = listing(
        "medics-borscht",
        "Medics",
        "First aid",
        "We also cook борщ.",
        &[],
    );
    insert_all(store, &[kitchen_kharkiv, kitchen_abroad, medics]).await;

    assert_eq!(found(store, text("борщ")).await.len(), 3);
    let food = SearchQuery {
        category: Some(Category::Food),
        ..text("борщ")
    };
    assert_eq!(
        sorted(found(store, food).await),
        ["kitchen-berlin", "kitchen-kharkiv"]
    );
    let abroad = SearchQuery {
        region: Some("abroad".into()),
        ..text("борщ kitchen")
    };
    assert_eq!(found(store, abroad).await, ["kitchen-berlin"]);
    let page = store
        .search_initiatives(&SearchQuery {
            category: Some(Category::Food),
            ..text("борщ")
        })
        .await
        .unwrap();
    assert_eq!(page.total, 2);
}

pub async fn pages_and_total(store: &dyn Store) {
    let t = now();
    for n in 0..25 {
        let mut i = listing(
            &format!("bakery-{n:02}"),
            &format!("Bakery {n:02}"),
            "Bread",
            "Bread for everyone.",
            &[],
        );
        i.updated_at = t - Duration::seconds(n);
        store.insert_initiative(&i, None).await.unwrap();
    }
    store
        .insert_initiative(
            &listing("unrelated", "Lawyers", "Advice", "Free advice.", &[]),
            None,
        )
        .await
        .unwrap();

    for query in [
        text("bread"),
        SearchQuery {
            category: Some(Category::Medical),
            ..text("bakery")
        },
    ] {
        let mut seen = Vec::new();
        for (page, expected) in [(1, 10), (2, 10), (3, 5), (4, 0)] {
            let result = store
                .search_initiatives(&SearchQuery {
                    page,
                    per_page: 10,
                    ..query.clone()
                })
                .await
                .unwrap();
            assert_eq!(result.total, 25, "total counts every match, on every page");
            assert_eq!((result.page, result.per_page), (page, 10));
            assert_eq!(result.items.len(), expected, "page {page}");
            seen.extend(result.items.into_iter().map(|i| i.handle.to_string()));
        }
        let expected: Vec<String> = (0..25).map(|n| format!("bakery-{n:02}")).collect();
        assert_eq!(sorted(seen), expected, "pages neither overlap nor skip");
    }

    let everything = store
        .search_initiatives(&SearchQuery {
            per_page: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((everything.total, everything.items.len()), (26, 26));
    let clamped = store
        .search_initiatives(&SearchQuery {
            per_page: 0,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((clamped.items.len(), clamped.total), (1, 26));
}

pub async fn without_text_newest_update_first(store: &dyn Store) {
    let t = now();
    for (handle, age) in [("middle", 60), ("newest", 0), ("oldest", 3600)] {
        let mut i = initiative(handle);
        i.updated_at = t - Duration::seconds(age);
        store.insert_initiative(&i, None).await.unwrap();
    }
    assert_eq!(
        found(store, SearchQuery::default()).await,
        ["newest", "middle", "oldest"]
    );
}

pub async fn edits_are_searchable(store: &dyn Store) {
    let mut i = listing(
        "renamed",
        "Old name",
        "Old summary",
        "Old description.",
        &["oldtag"],
    );
    store.insert_initiative(&i, None).await.unwrap();
    assert_eq!(found(store, text("old")).await, ["renamed"]);

    i.name = "Нова назва".into();
    i.summary = "Свіжий опис".into();
    i.description = "Зовсім інший текст.".into();
    i.tags = vec!["новийтег".into()];
    store
        .update_initiative(&i, i.updated_at, None)
        .await
        .unwrap();
    assert!(
        found(store, text("old")).await.is_empty(),
        "the old words are gone from the index"
    );
    assert_eq!(found(store, text("нова")).await, ["renamed"]);
    assert_eq!(found(store, text("новийтег")).await, ["renamed"]);
    assert_eq!(found(store, text("інший")).await, ["renamed"]);
}

/// Counting stops at the cap, pages reach up to it, and filters narrow the matches before the
/// cap (a rare filter finds its old listings among a thousand newer matches of the word).
pub async fn counts_stop_at_the_cap_and_filters_apply_first(store: &dyn Store) {
    let cap = SearchQuery::COUNT_CAP;
    let many = cap + 10;
    for n in 0..many {
        let mut i = listing(
            &format!("bakery-{n:04}"),
            &format!("Bakery {n}"),
            "Bread",
            "Bread for everyone.",
            &[],
        );
        if n < 3 {
            // The oldest three are the only ones in this category and region.
            i.categories = vec![Category::Animals];
            i.regions = vec![Region::Ukraine {
                oblast: Oblast::Odesa,
                city: None,
            }];
        }
        store.insert_initiative(&i, None).await.unwrap();
    }
    let pending = Initiative {
        status: InitiativeStatus::Pending,
        ..listing("bakery-pending", "Bakery", "Bread", "Bread.", &[])
    };
    store.insert_initiative(&pending, None).await.unwrap();

    let bread = |page, per_page| SearchQuery {
        page,
        per_page,
        ..text("bread")
    };
    let first = store.search_initiatives(&bread(1, 20)).await.unwrap();
    assert_eq!((first.total, first.total_capped), (u64::from(cap), true));
    assert_eq!(first.items.len(), 20);

    let mut seen = std::collections::BTreeSet::new();
    for page in 1..=cap / 100 {
        let result = store.search_initiatives(&bread(page, 100)).await.unwrap();
        assert_eq!(result.items.len(), 100, "page {page}");
        seen.extend(result.items.into_iter().map(|i| i.handle.to_string()));
    }
    assert_eq!(
        seen.len(),
        cap as usize,
        "pages up to the cap neither overlap nor skip"
    );
    assert!(!seen.contains("bakery-pending"));
    let beyond = store
        .search_initiatives(&bread(cap / 100 + 1, 100))
        .await
        .unwrap();
    assert!(
        beyond.items.is_empty(),
        "matches beyond the cap are not ranked"
    );
    assert_eq!((beyond.total, beyond.total_capped), (u64::from(cap), true));

    let exact = store
        .search_initiatives(&SearchQuery {
            exact_total: true,
            ..text("bread")
        })
        .await
        .unwrap();
    assert_eq!((exact.total, exact.total_capped), (u64::from(many), false));

    let oldest: Vec<String> = (0..3).map(|n| format!("bakery-{n:04}")).collect();
    for filtered in [
        SearchQuery {
            category: Some(Category::Animals),
            ..text("bread")
        },
        SearchQuery {
            region: Some("odesa".into()),
            ..text("bakery")
        },
        SearchQuery {
            region: Some("odesa".into()),
            ..Default::default()
        },
    ] {
        let result = store.search_initiatives(&filtered).await.unwrap();
        assert_eq!(
            (result.total, result.total_capped),
            (3, false),
            "{filtered:?}"
        );
        let handles: Vec<String> = result.items.iter().map(|i| i.handle.to_string()).collect();
        assert_eq!(sorted(handles), oldest, "{filtered:?}");
    }

    // Without words every page can be reached, newest first.
    let all = |page| SearchQuery {
        page,
        per_page: 20,
        ..Default::default()
    };
    let first = store.search_initiatives(&all(1)).await.unwrap();
    assert_eq!((first.total, first.total_capped), (u64::from(cap), true));
    let last = store.search_initiatives(&all(many / 20 + 1)).await.unwrap();
    assert_eq!((last.total, last.total_capped), (u64::from(many), false));
    assert_eq!(last.items.len(), (many % 20) as usize);
    let last_handles: Vec<String> = last.items.iter().map(|i| i.handle.to_string()).collect();
    let ten_oldest: Vec<String> = (0..10).map(|n| format!("bakery-{n:04}")).collect();
    assert_eq!(
        sorted(last_handles),
        ten_oldest,
        "the last page holds the oldest"
    );
}

/// Merging the search index (daily, in steps) changes no result, ends, and finds nothing left
/// to do once done.
pub async fn merging_the_index_changes_no_result(store: &dyn Store) {
    for n in 0..30 {
        let mut i = listing(
            &format!("bakery-{n:02}"),
            &format!("Bakery {n}"),
            "Bread for everyone",
            "Хліб для всіх.",
            &["bread"],
        );
        store.insert_initiative(&i, None).await.unwrap();
        if n % 3 == 0 {
            i.summary = "Генератори замість хліба".into();
            store
                .update_initiative(&i, i.updated_at, None)
                .await
                .unwrap();
        }
    }
    let queries = [
        text("bread"),
        text("хліб"),
        text("генератори"),
        SearchQuery::default(),
    ];
    let mut before = Vec::new();
    for q in &queries {
        before.push(found(store, q.clone()).await);
    }
    assert_eq!(before[2].len(), 10);

    let mut steps = 0;
    while store.merge_search_index(steps == 0).await.unwrap() {
        steps += 1;
        assert!(steps < 10_000, "merging does not end");
    }
    for (q, before) in queries.iter().zip(before) {
        assert_eq!(found(store, q.clone()).await, before, "{q:?}");
    }
    assert!(
        !store.merge_search_index(true).await.unwrap(),
        "a merged index has nothing left to merge"
    );
}
