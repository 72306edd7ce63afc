//! How donors can give: bank transfer, card, a fundraising jar, PayPal, a funding platform or
//! crypto. Each method is checked so that a typo does not send money astray.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::contact::is_email;
use crate::iban::{normalize_card_number, normalize_iban};
use crate::money::Currency;
use crate::validation::{ValidationErrors, check_web_url};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FundingPlatform {
    Liberapay,
    OpenCollective,
    Patreon,
    Other,
}

/// The details that differ between kinds of donation method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DonationKind {
    BankTransfer {
        iban: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bic: Option<String>,
        account_holder: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bank_name: Option<String>,
    },
    Card {
        number: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        holder: Option<String>,
    },
    /// A fundraising jar link such as a Monobank jar (`https://send.monobank.ua/jar/…`).
    Jar {
        url: String,
    },
    /// A PayPal email address or paypal.me link.
    Paypal {
        account: String,
    },
    Platform {
        platform: FundingPlatform,
        url: String,
    },
    Crypto {
        network: String,
        address: String,
    },
}

/// One way to donate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DonationMethod {
    #[serde(flatten)]
    pub details: DonationKind,
    /// A short label shown to donors, e.g. "Monobank jar for the ambulance".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// Whether monthly (recurring) donations are possible with this method.
    #[serde(default)]
    pub recurring: bool,
}

impl DonationMethod {
    /// Brings the details into canonical form (IBAN and card without spaces, trimmed text).
    pub(crate) fn normalize(&mut self) {
        let trim = |s: &mut String| *s = s.trim().to_string();
        let trim_opt = |s: &mut Option<String>| {
            *s = s
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(String::from)
        };
        trim_opt(&mut self.label);
        match &mut self.details {
            DonationKind::BankTransfer {
                iban,
                bic,
                account_holder,
                bank_name,
            } => {
                if let Ok(n) = normalize_iban(iban) {
                    *iban = n;
                }
                trim_opt(bic);
                if let Some(b) = bic {
                    *b = b.to_ascii_uppercase();
                }
                trim(account_holder);
                trim_opt(bank_name);
            }
            DonationKind::Card { number, holder } => {
                if let Ok(n) = normalize_card_number(number) {
                    *number = n;
                }
                trim_opt(holder);
            }
            DonationKind::Jar { url } | DonationKind::Platform { url, .. } => trim(url),
            DonationKind::Paypal { account } => trim(account),
            DonationKind::Crypto { network, address } => {
                trim(network);
                trim(address);
            }
        }
    }

    pub(crate) fn validate(&self) -> ValidationErrors {
        let mut errors = ValidationErrors::new();
        if let Some(label) = &self.label {
            errors.max_len("label", label, 120);
        }
        match &self.details {
            DonationKind::BankTransfer {
                iban,
                bic,
                account_holder,
                bank_name,
            } => {
                if let Err(message) = normalize_iban(iban) {
                    errors.add("iban", "invalid_iban", message);
                }
                if let Some(bic) = bic
                    && !is_bic(bic)
                {
                    errors.add(
                        "bic",
                        "invalid_bic",
                        "must be a BIC/SWIFT code of 8 or 11 characters",
                    );
                }
                errors.text("account_holder", account_holder, 140);
                if let Some(bank) = bank_name {
                    errors.max_len("bank_name", bank, 140);
                }
            }
            DonationKind::Card { number, holder } => {
                if let Err(message) = normalize_card_number(number) {
                    errors.add("number", "invalid_card", message);
                }
                if let Some(holder) = holder {
                    errors.max_len("holder", holder, 140);
                }
            }
            DonationKind::Jar { url } => {
                check_web_url(&mut errors, "url", url);
            }
            DonationKind::Platform { url, .. } => {
                check_web_url(&mut errors, "url", url);
            }
            DonationKind::Paypal { account } => {
                // Pages and the fediverse profile link to it: only PayPal's own host, parsed,
                // so `https://paypal.me@evil.example/` or `https://evil.example/@x.y` fail.
                let is_link = url::Url::parse(account).is_ok_and(|u| {
                    u.scheme() == "https"
                        && u.username().is_empty()
                        && u.password().is_none()
                        && u.port().is_none()
                        && matches!(u.host_str(), Some("paypal.me" | "www.paypal.me"))
                });
                errors.max_len("account", account, 254);
                if !is_email(account) && !is_link {
                    errors.add(
                        "account",
                        "invalid_paypal",
                        "must be a PayPal email address or a https://paypal.me/… link",
                    );
                }
            }
            DonationKind::Crypto { network, address } => {
                errors.text("network", network, 40);
                errors.text("address", address, 128);
                // TON's user-friendly form is base64url (`-` and `_`).
                if !address
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-'))
                {
                    errors.add(
                        "address",
                        "invalid_address",
                        "must be a wallet address without spaces",
                    );
                }
            }
        }
        errors
    }

    /// The format of a wallet address whose checksum does not match: a typo, which would send
    /// donations nowhere, so donors must not be offered it.
    pub fn mistyped_wallet(&self) -> Option<crate::wallet::ChecksummedFormat> {
        match &self.details {
            DonationKind::Crypto { address, .. } => crate::wallet::checksum_mismatch(address),
            _ => None,
        }
    }

    /// [`DonationMethod::mistyped_wallet`] as a field error, for what is typed here; a listing
    /// received from its own node keeps such an address, and its page warns donors instead
    /// (refusing the listing would leave them an older copy).
    pub(crate) fn wallet_typo(&self) -> ValidationErrors {
        let mut errors = ValidationErrors::new();
        if let Some(format) = self.mistyped_wallet() {
            errors.add(
                "address",
                "address_checksum",
                format!(
                    "has a typo: it is a {} address whose checksum does not match",
                    format.name()
                ),
            );
        }
        errors
    }

    /// A `payto:` URI (RFC 8905) for bank transfers, which banking apps can open.
    pub fn payto_uri(&self) -> Option<String> {
        match &self.details {
            DonationKind::BankTransfer {
                iban,
                bic,
                account_holder,
                ..
            } => {
                let path = match bic {
                    Some(bic) => format!("{bic}/{iban}"),
                    None => iban.clone(),
                };
                let name: String =
                    url::form_urlencoded::byte_serialize(account_holder.as_bytes()).collect();
                Some(format!("payto://iban/{path}?receiver-name={name}"))
            }
            _ => None,
        }
    }

    /// A short human-readable name of the kind.
    pub fn kind_name_en(&self) -> &'static str {
        match &self.details {
            DonationKind::BankTransfer { .. } => "Bank transfer",
            DonationKind::Card { .. } => "Card",
            DonationKind::Jar { .. } => "Fundraising jar",
            DonationKind::Paypal { .. } => "PayPal",
            DonationKind::Platform {
                platform: FundingPlatform::Liberapay,
                ..
            } => "Liberapay",
            DonationKind::Platform {
                platform: FundingPlatform::OpenCollective,
                ..
            } => "Open Collective",
            DonationKind::Platform {
                platform: FundingPlatform::Patreon,
                ..
            } => "Patreon",
            DonationKind::Platform { .. } => "Funding platform",
            DonationKind::Crypto { .. } => "Crypto",
        }
    }
}

fn is_bic(bic: &str) -> bool {
    // ASCII first: the length is in bytes, and a multi-byte letter must not split the slice.
    bic.chars().all(|c| c.is_ascii_alphanumeric())
        && (bic.len() == 8 || bic.len() == 11)
        && bic[..6].chars().all(|c| c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(json: &str) -> DonationMethod {
        let mut m: DonationMethod = serde_json::from_str(json).unwrap();
        m.normalize();
        m
    }

    #[test]
    fn bank_transfer_is_checked_and_normalised() {
        let m = method(
            r#"{"kind":"bank_transfer","iban":"ua21 3223 1300 0002 6007 2335 6600 1","bic":"pbanua2x","account_holder":"ГО Приклад","recurring":true}"#,
        );
        assert!(m.validate().is_empty(), "{:?}", m.validate());
        assert_eq!(
            m.payto_uri().unwrap(),
            "payto://iban/PBANUA2X/UA213223130000026007233566001?receiver-name=%D0%93%D0%9E+%D0%9F%D1%80%D0%B8%D0%BA%D0%BB%D0%B0%D0%B4"
        );
        let bad = method(
            r#"{"kind":"bank_transfer","iban":"UA21 3223 1300 0002 6007 2335 6600 2","account_holder":"X"}"#,
        );
        assert_eq!(bad.validate().errors[0].field, "iban");
        // Eight bytes, but the sixth byte falls inside the euro sign.
        let odd_bic = method(
            r#"{"kind":"bank_transfer","iban":"UA21 3223 1300 0002 6007 2335 6600 1","bic":"AAAAA€","account_holder":"X"}"#,
        );
        assert_eq!(odd_bic.validate().errors[0].code, "invalid_bic");
    }

    #[test]
    fn other_kinds() {
        assert!(
            method(r#"{"kind":"jar","url":"https://send.monobank.ua/jar/2x8Vx1"}"#)
                .validate()
                .is_empty()
        );
        assert!(
            method(r#"{"kind":"paypal","account":"give@example.org"}"#)
                .validate()
                .is_empty()
        );
        assert!(
            method(r#"{"kind":"paypal","account":"https://www.paypal.me/kharkivmedics"}"#)
                .validate()
                .is_empty()
        );
        // Shown as a PayPal link: anything leading elsewhere is refused.
        for bad in [
            "nope",
            "https://www.paypal.com@evil.example/x",
            "https://evil.example/@pay.me",
            "https://paypal.me.evil.example/x",
            "http://paypal.me/x",
            "give@example.org?cc=someone@evil.example",
        ] {
            let json = serde_json::json!({"kind": "paypal", "account": bad}).to_string();
            assert!(!method(&json).validate().is_empty(), "{bad}");
        }
        // Links that name one host and lead to another are refused.
        assert!(
            !method(r#"{"kind":"jar","url":"https://send.monobank.ua@evil.example/jar/x"}"#)
                .validate()
                .is_empty()
        );
        assert!(
            method(r#"{"kind":"crypto","network":"USDT (TRC-20)","address":"TXYZabc123"}"#)
                .validate()
                .is_empty()
        );
        assert!(
            method(r#"{"kind":"crypto","network":"TON","address":"EQAKtVj024T9MfYaJzU1xnDAkf_GGbHNu-V2mgvyjTuP6rvC"}"#)
                .validate()
                .is_empty()
        );
        assert!(
            !method(r#"{"kind":"crypto","network":"TON","address":"UQB x3k"}"#)
                .validate()
                .is_empty()
        );
        // One character wrong in a checksummed address: a typo, saying so.
        let typo = method(r#"{"kind":"crypto","network":"USDT (TRC-20)","address":"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T"}"#)
            .wallet_typo();
        assert_eq!(typo.errors[0].code, "address_checksum", "{typo:?}");
        assert!(serde_json::from_str::<DonationMethod>(r#"{"kind":"gold_bars"}"#).is_err());
    }
}
