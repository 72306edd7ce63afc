//! Trust without a central authority: what a node's collective says about initiatives
//! (vouches and warnings), which other collectives it listens to (its [`TrustPolicy`]), and the
//! status it derives from both — always with the reasons, so anyone can check the verdict.
//!
//! Vouches and warnings are records with stable ids and ActivityPub ids, so that they can
//! travel between nodes; the one who wrote them (`author`) is kept on the issuing node only.
//! Nothing here performs I/O: [`assess`] is a pure function, and the stores call it in the same
//! transaction as every write that can change its result.

mod assess;
mod policy;
mod report;
mod statement;

pub use assess::{Standing, TrustLevel, TrustReason, TrustStatus, assess};
pub use policy::{
    MAX_POLICY_DOMAINS, MAX_THRESHOLD, TrustPolicy, TrustPolicyInput, normalize_domain,
};
pub use report::{MAX_REPORT_REASON, Report, ReportCategory, ReportInput, ReportStatus, Reporter};
pub use statement::{
    Issued, MAX_STATEMENT, MAX_WITHDRAWAL_REASON, Received, StatementKind, TransparencyAction,
    TransparencyEntry, Vouch, VouchBasis, VouchInput, Warning, WarningInput, WarningReason,
    WebsiteCheck, check_withdrawal_reason, domain_of_url,
};
