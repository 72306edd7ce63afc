//! "Give regularly": pick initiatives that take monthly donations, choose a share of your
//! monthly income, and see the amount split among them with each one's donation details.
//!
//! Nothing about the donor is stored or sent anywhere: with JavaScript the page computes the
//! split itself and the form is never submitted; without it, the form is a GET whose answer is
//! computed on the fly and kept nowhere.

use askama::Template;
use axum::extract::{RawQuery, State};
use hromada_domain::InitiativeStatus;
use hromada_store::SearchQuery;

use super::ctx::PageCtx;
use super::render::{FieldErrors, PageResult, amount, ok, typed_amount};
use super::views::{Card, MethodView};
use crate::state::WebState;

pub const CURRENCIES: [&str; 6] = ["UAH", "EUR", "USD", "PLN", "GBP", "CZK"];
const SHARES: [&str; 3] = ["1", "5", "10"];
/// Largest income accepted, in major units: keeps the page's arithmetic exact in JavaScript.
const MAX_INCOME_MINOR: i64 = 1_000_000_000;

pub struct Choice {
    pub card: Card,
    pub picked: bool,
    pub methods: Vec<MethodView>,
    /// When its payment details changed, if recently (see `public::recent_payment_change`).
    pub payment_changed: Option<String>,
    /// This initiative's part, formatted; empty when not picked or not computed.
    pub part: String,
}

#[derive(Template)]
#[template(path = "give.html")]
struct GivePage {
    ctx: PageCtx,
    choices: Vec<Choice>,
    income: String,
    currency: String,
    share: String,
    custom: String,
    total: Option<String>,
    errors: FieldErrors,
    currencies: [&'static str; 6],
    shares: [&'static str; 3],
}

/// Splits `total` minor units into `n` parts that differ by at most one minor unit.
pub fn split(total: i64, n: usize) -> Vec<i64> {
    if n == 0 {
        return Vec::new();
    }
    let n64 = n as i64;
    let (each, rest) = (total / n64, total % n64);
    (0..n64).map(|i| each + i64::from(i < rest)).collect()
}

/// A percentage with at most two decimals, as basis points (`2.5` → 250), within (0, 100].
pub fn parse_share(raw: &str) -> Option<i64> {
    let bp = typed_amount(raw).ok()?;
    (bp > 0 && bp <= 10_000).then_some(bp)
}

pub(crate) async fn give(
    State(state): State<WebState>,
    ctx: PageCtx,
    RawQuery(query): RawQuery,
) -> PageResult {
    let t = ctx.t;
    let mut picks = Vec::new();
    let (mut income, mut currency, mut share, mut custom) = (
        String::new(),
        "UAH".to_string(),
        "5".to_string(),
        String::new(),
    );
    let mut asked = false;
    for (k, v) in url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        // Long enough for `handle@domain` (a handle and a DNS name, with a port).
        let v: String = v.trim().chars().take(300).collect();
        match &*k {
            "pick" => picks.push(v),
            "income" => {
                income = v;
                asked = true;
            }
            "currency" if CURRENCIES.contains(&v.as_str()) => currency = v,
            "share" if SHARES.contains(&v.as_str()) || v == "other" => share = v,
            "custom" => custom = v,
            _ => {}
        }
    }
    let page = state
        .app()
        .search(
            ctx.user.as_ref(),
            &SearchQuery {
                recurring_only: true,
                // Paused ones are not offered (see below): they must not take places either.
                statuses: vec![InitiativeStatus::Published],
                per_page: SearchQuery::MAX_PER_PAGE,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| ctx.fail(e))?;
    let cards = super::public::cards(&state, &ctx, &page.items).await?;
    // Monthly giving is a standing commitment: initiatives a trusted collective warns about,
    // and paused ones, are left out (their page still explains why).
    let mut choices: Vec<Choice> = page
        .items
        .iter()
        .zip(cards)
        .filter(|(_, card)| {
            !card.paused && card.trust.as_ref().is_none_or(|b| b.level != "disputed")
        })
        .map(|(i, card)| Choice {
            card,
            picked: picks.contains(&hromada_app::acct(i)),
            payment_changed: super::public::recent_payment_change(i),
            methods: i
                .donation_methods
                .iter()
                .filter(|m| m.recurring)
                .map(|m| MethodView::new(&t, m))
                .collect(),
            part: String::new(),
        })
        .collect();

    let mut errors = FieldErrors::default();
    let mut total = None;
    if asked {
        let income_minor = typed_amount(&income)
            .ok()
            .filter(|v| *v > 0 && *v <= MAX_INCOME_MINOR);
        if income_minor.is_none() {
            errors.add("income", t.tr("give.error_income"));
        }
        let share_bp = if share == "other" {
            parse_share(&custom)
        } else {
            parse_share(&share)
        };
        if share_bp.is_none() {
            errors.add("custom", t.tr("give.error_share"));
        }
        let picked = choices.iter().filter(|c| c.picked).count();
        if picked == 0 {
            errors.add("pick", t.tr("give.error_pick"));
        }
        if let (Some(income_minor), Some(bp)) = (income_minor, share_bp) {
            let total_minor = income_minor * bp / 10_000;
            total = Some(format!("{}\u{a0}{currency}", amount(&t, total_minor)));
            let mut parts = split(total_minor, picked).into_iter();
            for c in choices.iter_mut().filter(|c| c.picked) {
                if let Some(p) = parts.next() {
                    c.part = format!("{}\u{a0}{currency}", amount(&t, p));
                }
            }
        }
    }
    Ok(ok(&GivePage {
        choices,
        income,
        currency,
        share,
        custom,
        total,
        errors,
        currencies: CURRENCIES,
        shares: SHARES,
        ctx,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_fair_and_exact() {
        assert_eq!(split(300_000, 2), vec![150_000, 150_000]);
        assert_eq!(split(100, 3), vec![34, 33, 33]);
        assert_eq!(split(5, 0), Vec::<i64>::new());
        assert_eq!(split(1_000_000_000, 7).iter().sum::<i64>(), 1_000_000_000);
    }

    #[test]
    fn shares() {
        assert_eq!(parse_share("5"), Some(500));
        assert_eq!(parse_share("2,5"), Some(250));
        assert_eq!(parse_share("0"), None);
        assert_eq!(parse_share("101"), None);
        assert_eq!(parse_share("x"), None);
    }
}
