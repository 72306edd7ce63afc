//! What the templates show, prepared from the domain types: texts already in the visitor's
//! language, Markdown already rendered (and sanitised), amounts already formatted.

use hromada_domain::markup::markdown_to_html;
use hromada_domain::{
    Contact, ContactKind, DonationKind, DonationMethod, Event, EventPlace, FundingPlatform,
    Initiative, InitiativeStatus, Need, NeedStatus, Region, Timestamp, Update, UpdateKind, Urgency,
};

use hromada_domain::trust::{
    Standing, StatementKind, TrustLevel, TrustReason, TrustStatus, WebsiteCheck,
};

use super::i18n::Translator;
use super::render::{amount, date, local_time, money};

/// The path of an initiative's page: `handle` here, `handle@domain` for a mirrored listing.
pub fn initiative_path(i: &Initiative) -> String {
    match &i.origin {
        Some(domain) => format!("/initiatives/{}@{domain}", i.handle),
        None => format!("/initiatives/{}", i.handle),
    }
}

pub fn region_label(t: &Translator, r: &Region) -> String {
    let (area, city) = match r {
        Region::Ukraine { oblast, city } => (t.oblast(oblast.code()).to_string(), city),
        Region::Abroad { country, city } => (country.clone(), city),
    };
    match city {
        Some(c) => format!("{c}, {area}"),
        None => area,
    }
}

/// An initiative's trust status on this node, in a word and a sentence.
#[derive(Debug, Clone)]
pub struct TrustBadge {
    /// `verified`, `vouched`, `unverified` or `disputed`.
    pub level: &'static str,
    pub label: &'static str,
    pub class: &'static str,
    pub explanation: String,
}

impl TrustBadge {
    pub fn new(t: &Translator, status: &TrustStatus) -> Self {
        let level = status.status.code();
        let explanation = match status.status {
            TrustLevel::Verified | TrustLevel::Vouched => t.tr2(
                &format!("trust.why_{level}"),
                status.trusted_vouches,
                status.threshold,
            ),
            TrustLevel::Unverified | TrustLevel::Disputed => {
                t.named("trust.why", level).to_string()
            }
        };
        TrustBadge {
            level,
            label: t.named("trust.level", level),
            class: match status.status {
                TrustLevel::Verified => "ok",
                TrustLevel::Vouched => "vouched",
                TrustLevel::Unverified => "",
                TrustLevel::Disputed => "urgent",
            },
            explanation,
        }
    }
}

/// One vouch or warning behind a trust status, as the initiative page explains it.
pub struct ReasonView {
    pub id: String,
    pub warning: bool,
    pub collective: String,
    /// Where the collective stands in this node's policy, in words.
    pub standing: &'static str,
    pub date: String,
    /// The basis of a vouch or the reason of a warning, in words.
    pub basis: &'static str,
    pub statement: String,
    /// When and why it was withdrawn.
    pub withdrawn: Option<(String, String)>,
    /// Whether it counts toward the status here.
    pub counts: bool,
    /// Issued by this node's moderators and still active: they may withdraw it.
    pub ours_active: bool,
    /// For a vouch given before the payment details last changed: when they changed.
    pub before_payment_change: Option<String>,
}

impl ReasonView {
    /// `payment_changed_at`: when the initiative's payment details last changed.
    pub fn new(t: &Translator, r: &TrustReason, payment_changed_at: Option<Timestamp>) -> Self {
        let basis = match (r.basis, r.warning_reason) {
            (Some(b), _) => t.named("trust.basis", b.code()),
            (None, Some(w)) => t.named("trust.warning_reason", w.code()),
            (None, None) => "",
        };
        let standing = match r.standing {
            Standing::ThisNode => "this_node",
            Standing::Trusted => "trusted",
            Standing::Untrusted => "untrusted",
            Standing::Ignored => "ignored",
        };
        ReasonView {
            id: r.id.to_string(),
            warning: r.kind == StatementKind::Warning,
            collective: r.collective.clone(),
            standing: t.named("trust.standing", standing),
            date: date(&r.at),
            basis,
            statement: r.statement.clone(),
            withdrawn: r
                .withdrawn_at
                .map(|at| (date(&at), r.withdrawal_reason.clone().unwrap_or_default())),
            counts: r.counts_toward.is_some(),
            ours_active: r.standing == Standing::ThisNode && r.withdrawn_at.is_none(),
            before_payment_change: payment_changed_at
                .filter(|changed| r.kind == StatementKind::Vouch && r.at < *changed)
                .map(|changed| date(&changed)),
        }
    }
}

/// The latest check that the initiative's website links back to its page here.
pub struct WebsiteCheckView {
    pub ok: bool,
    pub url: String,
    pub date: String,
    pub detail: String,
}

impl WebsiteCheckView {
    pub fn new(c: &WebsiteCheck) -> Self {
        WebsiteCheckView {
            ok: c.ok,
            url: c.url.clone(),
            date: date(&c.checked_at),
            detail: c.detail.clone(),
        }
    }
}

/// An initiative in a list (search results, home page, giving page).
pub struct Card {
    pub path: String,
    pub name: String,
    pub summary: String,
    /// `handle`, or `handle@domain` for a mirrored listing: unique among the cards of a page.
    pub handle: String,
    pub categories: Vec<&'static str>,
    pub regions: Vec<String>,
    /// `None` for this node's own listings; the origin domain for mirrored ones.
    pub origin: Option<String>,
    pub trust: Option<TrustBadge>,
    pub paused: bool,
    pub recurring: bool,
    /// Its payment details changed lately: donors should check them (see the listing's page).
    pub payment_changed: bool,
    pub updated: String,
    /// `/media/…` of the avatar, if it has one.
    pub avatar: Option<String>,
}

/// Where this node serves a stored photo.
pub fn media_path(photo: &hromada_domain::Photo) -> String {
    format!("/media/{}", photo.name)
}

impl Card {
    pub fn new(t: &Translator, i: &Initiative) -> Self {
        Card {
            path: initiative_path(i),
            name: i.name.clone(),
            summary: i.summary.clone(),
            handle: hromada_app::acct(i),
            categories: i.categories.iter().map(|c| t.category(c.code())).collect(),
            regions: i.regions.iter().map(|r| region_label(t, r)).collect(),
            origin: i.origin.clone(),
            trust: None,
            paused: i.status == InitiativeStatus::Paused,
            recurring: i.takes_recurring_donations(),
            payment_changed: super::public::recent_payment_change(i).is_some(),
            updated: date(&i.updated_at),
            avatar: i.avatar.as_ref().map(media_path),
        }
    }
}

/// One line of donation details: a label, the value to show, and the value to copy.
pub struct DetailRow {
    pub label: &'static str,
    pub shown: String,
    pub copy: String,
    pub mono: bool,
}

pub struct MethodView {
    pub kind: &'static str,
    pub label: Option<String>,
    pub rows: Vec<DetailRow>,
    /// `payto:` for bank transfers, the jar or platform page otherwise.
    pub link: Option<(String, &'static str)>,
    pub currency: Option<String>,
    pub recurring: bool,
    /// All details as one text, for "copy all".
    pub all: String,
    /// Why donors must not use it, when its details are broken (a wallet address with a typo,
    /// stored before checksums were checked or received from another node): shown instead of
    /// copy buttons.
    pub broken: Option<&'static str>,
}

fn grouped(s: &str, n: usize) -> String {
    s.chars()
        .collect::<Vec<_>>()
        .chunks(n)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

impl MethodView {
    pub fn new(t: &Translator, m: &DonationMethod) -> Self {
        let row = |label: &'static str, shown: String, copy: &str, mono: bool| DetailRow {
            label,
            shown,
            copy: copy.to_string(),
            mono,
        };
        let (kind, rows, link) = match &m.details {
            DonationKind::BankTransfer {
                iban,
                bic,
                account_holder,
                bank_name,
            } => {
                let mut rows = vec![
                    row(
                        t.tr("donate.holder"),
                        account_holder.clone(),
                        account_holder,
                        false,
                    ),
                    row(t.tr("donate.iban"), grouped(iban, 4), iban, true),
                ];
                if let Some(b) = bic {
                    rows.push(row(t.tr("donate.bic"), b.clone(), b, true));
                }
                if let Some(b) = bank_name {
                    rows.push(row(t.tr("donate.bank"), b.clone(), b, false));
                }
                let link = m.payto_uri().map(|u| (u, t.tr("donate.open_payto")));
                (t.tr("donate.kind.bank_transfer"), rows, link)
            }
            DonationKind::Card { number, holder } => {
                let mut rows = vec![row(t.tr("donate.card"), grouped(number, 4), number, true)];
                if let Some(h) = holder {
                    rows.push(row(t.tr("donate.holder"), h.clone(), h, false));
                }
                (t.tr("donate.kind.card"), rows, None)
            }
            DonationKind::Jar { url } => (
                t.tr("donate.kind.jar"),
                vec![row(t.tr("donate.link"), url.clone(), url, true)],
                Some((url.clone(), t.tr("donate.open_jar"))),
            ),
            DonationKind::Paypal { account } => {
                let link = account
                    .starts_with("https://")
                    .then(|| (account.clone(), t.tr("donate.open_link")));
                (
                    "PayPal",
                    vec![row(t.tr("donate.account"), account.clone(), account, true)],
                    link,
                )
            }
            DonationKind::Platform { platform, url } => (
                match platform {
                    FundingPlatform::Liberapay => "Liberapay",
                    FundingPlatform::OpenCollective => "Open Collective",
                    FundingPlatform::Patreon => "Patreon",
                    FundingPlatform::Other => t.tr("donate.kind.platform"),
                },
                vec![row(t.tr("donate.link"), url.clone(), url, true)],
                Some((url.clone(), t.tr("donate.open_link"))),
            ),
            DonationKind::Crypto { network, address } => (
                t.tr("donate.kind.crypto"),
                vec![
                    row(t.tr("donate.network"), network.clone(), network, false),
                    row(t.tr("donate.address"), address.clone(), address, true),
                ],
                None,
            ),
        };
        let all = rows
            .iter()
            .map(|r| format!("{}: {}", r.label, r.copy))
            .collect::<Vec<_>>()
            .join("\n");
        let broken = m.mistyped_wallet().map(|_| t.tr("donate.address_broken"));
        MethodView {
            kind,
            label: m.label.clone(),
            rows,
            link,
            currency: m.currency.as_ref().map(|c| c.to_string()),
            recurring: m.recurring,
            all,
            broken,
        }
    }
}

pub struct ContactView {
    pub kind: &'static str,
    pub value: String,
    pub href: Option<String>,
}

impl ContactView {
    pub fn new(t: &Translator, c: &Contact) -> Self {
        let v = c.value.clone();
        let (kind, href) = match c.kind {
            ContactKind::Email => (t.tr("contact.email"), Some(format!("mailto:{v}"))),
            ContactKind::Phone => (
                t.tr("contact.phone"),
                Some(format!("tel:{}", v.replace(' ', ""))),
            ),
            ContactKind::Signal => ("Signal", None),
            ContactKind::Telegram => (
                "Telegram",
                v.strip_prefix('@').map(|h| format!("https://t.me/{h}")),
            ),
            ContactKind::Matrix => ("Matrix", Some(format!("https://matrix.to/#/{v}"))),
            ContactKind::Instagram => ("Instagram", None),
            ContactKind::Facebook => ("Facebook", None),
            ContactKind::Fediverse => (t.tr("contact.fediverse"), None),
            ContactKind::Website => (t.tr("contact.website"), None),
            ContactKind::Other => (t.tr("contact.other"), None),
        };
        let href = href.or_else(|| v.starts_with("https://").then(|| v.clone()));
        ContactView {
            kind,
            value: v,
            href,
        }
    }
}

pub struct NeedView {
    pub id: String,
    pub title: String,
    pub description_html: String,
    pub category: &'static str,
    pub urgency: &'static str,
    pub urgency_label: &'static str,
    pub urgent: bool,
    pub status: &'static str,
    pub open: bool,
    pub percent: Option<u8>,
    pub raised: String,
    pub target: Option<String>,
    pub deadline: Option<String>,
    /// Shown on its own page, under the page's heading: no heading of its own.
    pub own_page: bool,
}

pub fn urgency_label(t: &Translator, u: Urgency) -> &'static str {
    match u {
        Urgency::Low => t.tr("urgency.low"),
        Urgency::Normal => t.tr("urgency.normal"),
        Urgency::High => t.tr("urgency.high"),
        Urgency::Critical => t.tr("urgency.critical"),
    }
}

pub fn need_status_label(t: &Translator, s: NeedStatus) -> &'static str {
    match s {
        NeedStatus::Open => t.tr("need.status.open"),
        NeedStatus::Funded => t.tr("need.status.funded"),
        NeedStatus::Delivered => t.tr("need.status.delivered"),
        NeedStatus::Cancelled => t.tr("need.status.cancelled"),
    }
}

impl NeedView {
    pub fn new(t: &Translator, n: &Need) -> Self {
        NeedView {
            id: n.id.to_string(),
            title: n.title.clone(),
            description_html: markdown_to_html(&n.description),
            category: t.category(n.category.code()),
            urgency: n.urgency.code(),
            urgency_label: urgency_label(t, n.urgency),
            urgent: n.urgency.is_urgent(),
            status: need_status_label(t, n.status),
            open: n.status == NeedStatus::Open,
            percent: n.progress_percent(),
            raised: match &n.target {
                Some(target) => money(t, n.raised, &target.currency),
                None => amount(t, n.raised),
            },
            target: n.target.as_ref().map(|m| money(t, m.amount, &m.currency)),
            deadline: n.deadline.map(|d| d.format("%Y-%m-%d").to_string()),
            own_page: false,
        }
    }
}

pub struct PhotoView {
    pub src: String,
    pub alt: String,
    pub width: u32,
    pub height: u32,
}

pub struct UpdateView {
    pub id: String,
    pub date: String,
    pub report: bool,
    pub scheduled: bool,
    pub body_html: String,
    pub items: Vec<(String, String)>,
    pub totals: Vec<String>,
    pub photos: Vec<PhotoView>,
    /// The page of the need it reports on, if any.
    pub need: Option<String>,
}

impl UpdateView {
    pub fn new(t: &Translator, u: &Update) -> Self {
        let items = match &u.kind {
            UpdateKind::News => Vec::new(),
            UpdateKind::SpendingReport { items } => items
                .iter()
                .map(|i| {
                    (
                        i.what.clone(),
                        money(t, i.amount.amount, &i.amount.currency),
                    )
                })
                .collect(),
        };
        UpdateView {
            id: u.id.to_string(),
            date: date(&u.publish_at),
            report: matches!(u.kind, UpdateKind::SpendingReport { .. }),
            scheduled: !u.is_published(hromada_app::now()),
            body_html: markdown_to_html(&u.body),
            items,
            totals: u
                .report_totals()
                .iter()
                .map(|m| money(t, m.amount, &m.currency))
                .collect(),
            photos: u
                .photos
                .iter()
                .map(|p| PhotoView {
                    src: format!("/media/{}", p.name),
                    alt: p.alt.clone(),
                    width: p.width,
                    height: p.height,
                })
                .collect(),
            need: u.need_id.map(|id| format!("/needs/{id}")),
        }
    }
}

pub struct EventView {
    pub id: String,
    pub title: String,
    pub when: String,
    pub ends: Option<String>,
    pub place: String,
    pub online: Option<String>,
    pub organiser: String,
    pub cancelled: bool,
    pub description_html: String,
    /// Handles of the initiatives it raises funds for.
    pub beneficiaries: Vec<String>,
    /// On a beneficiary's page: the initiative that announced it (name, page), as its
    /// maintainers did not.
    pub announced_by: Option<(String, String)>,
}

impl EventView {
    pub fn new(t: &Translator, e: &Event) -> Self {
        let (place, online) = match &e.place {
            EventPlace::City { .. } => (e.place.label(), None),
            EventPlace::Online { url } => (t.tr("event.online").to_string(), Some(url.clone())),
        };
        EventView {
            id: e.id.to_string(),
            title: e.title.clone(),
            when: local_time(&e.starts_at, &e.timezone),
            ends: e.ends_at.map(|t| local_time(&t, &e.timezone)),
            place,
            online,
            organiser: e.organiser.clone(),
            cancelled: e.cancelled,
            description_html: markdown_to_html(&e.description),
            beneficiaries: e.beneficiaries.iter().map(|h| h.to_string()).collect(),
            announced_by: None,
        }
    }
}
