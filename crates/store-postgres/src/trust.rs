//! Trust in PostgreSQL: vouches and warnings (one table, `kind` tells them apart), the policy
//! row, the derived status per initiative, the transparency log, reports and website checks.
//!
//! Writes that can change a status take a transaction-scoped advisory lock first, so they take
//! turns: each recomputes from what the previous one committed, and a status never lags behind
//! its statements or policy (under READ COMMITTED two concurrent writers would each miss the
//! other's row).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hromada_domain::trust::{
    Report, ReportCategory, ReportStatus, Reporter, StatementKind, TransparencyAction,
    TransparencyEntry, TrustLevel, TrustPolicy, Vouch, VouchBasis, Warning, WarningReason,
    WebsiteCheck, assess,
};
use hromada_store::{ChangeKind, Statements, StoreError, StoreResult, TrustStore, Withdrawal};
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder, Transaction};
use uuid::Uuid;

use crate::PgStore;
use crate::codec::known;
use crate::error::{db_err, write_err};
use crate::feed::record;

/// Advisory lock key serialising trust writes ("trust" in ASCII).
const TRUST_LOCK: i64 = 0x0074_7275_7374;

const STATEMENT_COLUMNS: &str = "id, ap_id, kind, initiative_id, collective, local, author, \
    statement, code, created_at, withdrawn_at, withdrawal_reason";

/// The columns a vouch and a warning share, in [`STATEMENT_COLUMNS`] order.
struct NewStatement<'a> {
    id: Uuid,
    ap_id: &'a str,
    kind: StatementKind,
    initiative_id: Uuid,
    collective: &'a str,
    local: bool,
    author: Option<&'a str>,
    statement: &'a str,
    code: &'a str,
    created_at: DateTime<Utc>,
    withdrawn_at: Option<DateTime<Utc>>,
    withdrawal_reason: Option<&'a str>,
}

impl<'a> NewStatement<'a> {
    fn of_vouch(v: &'a Vouch) -> Self {
        Self {
            id: v.id,
            ap_id: &v.ap_id,
            kind: StatementKind::Vouch,
            initiative_id: v.initiative_id,
            collective: &v.collective,
            local: v.local,
            author: v.author.as_deref(),
            statement: &v.statement,
            code: v.basis.code(),
            created_at: v.created_at,
            withdrawn_at: v.withdrawn_at,
            withdrawal_reason: v.withdrawal_reason.as_deref(),
        }
    }

    fn of_warning(w: &'a Warning) -> Self {
        Self {
            id: w.id,
            ap_id: &w.ap_id,
            kind: StatementKind::Warning,
            initiative_id: w.initiative_id,
            collective: &w.collective,
            local: w.local,
            author: w.author.as_deref(),
            statement: &w.statement,
            code: w.reason.code(),
            created_at: w.created_at,
            withdrawn_at: w.withdrawn_at,
            withdrawal_reason: w.withdrawal_reason.as_deref(),
        }
    }
}

#[derive(FromRow)]
struct StatementRow {
    id: Uuid,
    ap_id: String,
    kind: String,
    initiative_id: Uuid,
    collective: String,
    local: bool,
    author: Option<String>,
    statement: String,
    code: String,
    created_at: DateTime<Utc>,
    withdrawn_at: Option<DateTime<Utc>>,
    withdrawal_reason: Option<String>,
}

impl StatementRow {
    /// Adds the row to `into` as the vouch or warning it is.
    fn add_to(self, into: &mut Statements) -> StoreResult<()> {
        let kind = known(
            StatementKind::from_code(&self.kind),
            "statement kind",
            &self.kind,
        )?;
        match kind {
            StatementKind::Vouch => into.vouches.push(Vouch {
                id: self.id,
                ap_id: self.ap_id,
                initiative_id: self.initiative_id,
                collective: self.collective,
                local: self.local,
                author: self.author,
                statement: self.statement,
                basis: known(VouchBasis::from_code(&self.code), "vouch basis", &self.code)?,
                created_at: self.created_at,
                withdrawn_at: self.withdrawn_at,
                withdrawal_reason: self.withdrawal_reason,
            }),
            StatementKind::Warning => into.warnings.push(Warning {
                id: self.id,
                ap_id: self.ap_id,
                initiative_id: self.initiative_id,
                collective: self.collective,
                local: self.local,
                author: self.author,
                statement: self.statement,
                reason: known(
                    WarningReason::from_code(&self.code),
                    "warning reason",
                    &self.code,
                )?,
                created_at: self.created_at,
                withdrawn_at: self.withdrawn_at,
                withdrawal_reason: self.withdrawal_reason,
            }),
        }
        Ok(())
    }
}

fn collect(rows: Vec<StatementRow>) -> StoreResult<Statements> {
    let mut out = Statements::default();
    for row in rows {
        row.add_to(&mut out)?;
    }
    Ok(out)
}

async fn statements_where(
    conn: &mut PgConnection,
    initiative_ids: &[Uuid],
) -> StoreResult<Statements> {
    if initiative_ids.is_empty() {
        return Ok(Statements::default());
    }
    let rows: Vec<StatementRow> = sqlx::query_as(&format!(
        "SELECT {STATEMENT_COLUMNS} FROM trust_statements WHERE initiative_id = ANY($1)
         ORDER BY created_at, id"
    ))
    .bind(initiative_ids)
    .fetch_all(conn)
    .await
    .map_err(db_err)?;
    collect(rows)
}

#[derive(FromRow)]
struct PolicyRow {
    trusted: Vec<String>,
    ignored: Vec<String>,
    threshold: i32,
    warnings_dispute: bool,
    updated_at: Option<DateTime<Utc>>,
}

async fn read_policy(conn: &mut PgConnection) -> StoreResult<TrustPolicy> {
    let row: Option<PolicyRow> = sqlx::query_as(
        "SELECT trusted, ignored, threshold, warnings_dispute, updated_at FROM trust_policy
         WHERE id = 1",
    )
    .fetch_optional(conn)
    .await
    .map_err(db_err)?;
    let Some(row) = row else {
        return Ok(TrustPolicy::default());
    };
    Ok(TrustPolicy {
        trusted: row.trusted,
        ignored: row.ignored,
        threshold: u32::try_from(row.threshold)
            .map_err(|_| StoreError::Corrupt(format!("trust threshold {}", row.threshold)))?,
        warnings_dispute: row.warnings_dispute,
        updated_at: row.updated_at,
    })
}

/// Starts a trust write: a transaction holding the trust lock until it ends.
async fn begin_trust_write(store: &PgStore) -> StoreResult<Transaction<'static, Postgres>> {
    let mut tx = store.begin().await?;
    take_trust_lock(&mut tx).await?;
    Ok(tx)
}

/// Holds the trust lock until the caller's transaction ends.
pub(crate) async fn take_trust_lock(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(TRUST_LOCK)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

async fn store_level(
    conn: &mut PgConnection,
    initiative_id: Uuid,
    level: TrustLevel,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO initiative_trust (initiative_id, status, computed_at) VALUES ($1, $2, $3)
         ON CONFLICT (initiative_id) DO UPDATE SET status = excluded.status,
             computed_at = excluded.computed_at",
    )
    .bind(initiative_id)
    .bind(level.code())
    .bind(Utc::now())
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Recomputes one initiative's status from what is stored (inside the caller's transaction).
pub(crate) async fn recompute(
    conn: &mut PgConnection,
    initiative_id: Uuid,
) -> StoreResult<TrustLevel> {
    let policy = read_policy(&mut *conn).await?;
    let s = statements_where(&mut *conn, &[initiative_id]).await?;
    let level = assess(&policy, &s.vouches, &s.warnings).status;
    store_level(conn, initiative_id, level).await?;
    Ok(level)
}

async fn insert_log(conn: &mut PgConnection, e: &TransparencyEntry) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO transparency_log (id, at, action, initiative, initiative_id, statement_id,
             ap_id, statement, reason, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(e.id)
    .bind(e.at)
    .bind(e.action.code())
    .bind(e.initiative.as_deref())
    .bind(e.initiative_id)
    .bind(e.statement_id)
    .bind(e.ap_id.as_deref())
    .bind(e.statement.as_deref())
    .bind(e.reason.as_deref())
    .bind(Json(&e.details))
    .execute(conn)
    .await
    .map_err(|err| write_err(err, |_| format!("a log entry with id {} exists", e.id)))?;
    Ok(())
}

async fn insert_statement(
    store: &PgStore,
    s: NewStatement<'_>,
    log: Option<&TransparencyEntry>,
) -> StoreResult<TrustLevel> {
    let mut tx = begin_trust_write(store).await?;
    // This node says one thing at a time about a listing: a form sent twice (a slow phone)
    // must not leave two standing statements. Checked here, where trust writes take turns.
    if s.local {
        let standing: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM trust_statements
             WHERE initiative_id = $1 AND local = TRUE AND withdrawn_at IS NULL LIMIT 1",
        )
        .bind(s.initiative_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if standing.is_some() {
            return Err(StoreError::Conflict(
                "this node already has a standing vouch or warning about it; withdraw it first"
                    .into(),
            ));
        }
    }
    sqlx::query(&format!(
        "INSERT INTO trust_statements ({STATEMENT_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(s.id)
    .bind(s.ap_id)
    .bind(s.kind.code())
    .bind(s.initiative_id)
    .bind(s.collective)
    .bind(s.local)
    .bind(s.author)
    .bind(s.statement)
    .bind(s.code)
    .bind(s.created_at)
    .bind(s.withdrawn_at)
    .bind(s.withdrawal_reason)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        write_err(e, |constraint| {
            if constraint.contains("ap_id") {
                format!(
                    "a statement with ActivityPub id {} is already stored",
                    s.ap_id
                )
            } else {
                format!("a statement with id {} already exists", s.id)
            }
        })
    })?;
    if let Some(log) = log {
        insert_log(&mut tx, log).await?;
    }
    let level = recompute(&mut tx, s.initiative_id).await?;
    if s.local {
        let change = (issued_change(s.kind), s.id, s.initiative_id);
        record(&mut tx, None, Some(change)).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(level)
}

fn issued_change(kind: StatementKind) -> ChangeKind {
    match kind {
        StatementKind::Vouch => ChangeKind::VouchIssued,
        StatementKind::Warning => ChangeKind::WarningIssued,
    }
}

fn withdrawn_change(kind: StatementKind) -> ChangeKind {
    match kind {
        StatementKind::Vouch => ChangeKind::VouchWithdrawn,
        StatementKind::Warning => ChangeKind::WarningWithdrawn,
    }
}

async fn withdraw(
    store: &PgStore,
    kind: StatementKind,
    statement_id: Uuid,
    withdrawal: &Withdrawal,
    log: Option<&TransparencyEntry>,
) -> StoreResult<TrustLevel> {
    let mut tx = begin_trust_write(store).await?;
    let withdrawn: Option<(Uuid, bool)> = sqlx::query_as(
        "UPDATE trust_statements SET withdrawn_at = $1, withdrawal_reason = $2
         WHERE id = $3 AND kind = $4 AND withdrawn_at IS NULL RETURNING initiative_id, local",
    )
    .bind(withdrawal.at)
    .bind(&withdrawal.reason)
    .bind(statement_id)
    .bind(kind.code())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some((initiative, local)) = withdrawn else {
        let exists = sqlx::query("SELECT 1 FROM trust_statements WHERE id = $1 AND kind = $2")
            .bind(statement_id)
            .bind(kind.code())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        return Err(match exists {
            Some(_) => StoreError::Conflict(format!("this {} is already withdrawn", kind.code())),
            None => StoreError::NotFound,
        });
    };
    if let Some(log) = log {
        insert_log(&mut tx, log).await?;
    }
    let level = recompute(&mut tx, initiative).await?;
    if local {
        let change = (withdrawn_change(kind), statement_id, initiative);
        record(&mut tx, None, Some(change)).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(level)
}

async fn statement_by(
    store: &PgStore,
    kind: StatementKind,
    id: Option<Uuid>,
    ap_id: Option<&str>,
) -> StoreResult<Statements> {
    let rows: Vec<StatementRow> = sqlx::query_as(&format!(
        "SELECT {STATEMENT_COLUMNS} FROM trust_statements
         WHERE (id = $1 OR ap_id = $2) AND kind = $3"
    ))
    .bind(id)
    .bind(ap_id)
    .bind(kind.code())
    .fetch_all(store.pool())
    .await
    .map_err(db_err)?;
    collect(rows)
}

#[derive(FromRow)]
struct LogRow {
    id: Uuid,
    at: DateTime<Utc>,
    action: String,
    initiative: Option<String>,
    initiative_id: Option<Uuid>,
    statement_id: Option<Uuid>,
    ap_id: Option<String>,
    statement: Option<String>,
    reason: Option<String>,
    details: Json<serde_json::Value>,
}

impl LogRow {
    fn into_entry(self) -> StoreResult<TransparencyEntry> {
        Ok(TransparencyEntry {
            id: self.id,
            at: self.at,
            action: known(
                TransparencyAction::from_code(&self.action),
                "transparency action",
                &self.action,
            )?,
            initiative: self.initiative,
            initiative_id: self.initiative_id,
            statement_id: self.statement_id,
            ap_id: self.ap_id,
            statement: self.statement,
            reason: self.reason,
            details: self.details.0,
        })
    }
}

const REPORT_COLUMNS: &str = "id, initiative_id, reporter, category, reason, status, created_at, \
    resolved_at, resolved_by, resolution, activity_id";

#[derive(FromRow)]
struct ReportRow {
    id: Uuid,
    initiative_id: Uuid,
    reporter: Json<Reporter>,
    category: String,
    reason: String,
    status: String,
    created_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    resolved_by: Option<String>,
    resolution: Option<String>,
    activity_id: Option<String>,
}

impl ReportRow {
    fn into_report(self) -> StoreResult<Report> {
        Ok(Report {
            id: self.id,
            initiative_id: self.initiative_id,
            reporter: self.reporter.0,
            category: known(
                ReportCategory::from_code(&self.category),
                "report category",
                &self.category,
            )?,
            reason: self.reason,
            status: known(
                ReportStatus::from_code(&self.status),
                "report status",
                &self.status,
            )?,
            created_at: self.created_at,
            resolved_at: self.resolved_at,
            resolved_by: self.resolved_by,
            resolution: self.resolution,
            activity_id: self.activity_id,
        })
    }
}

#[derive(FromRow)]
struct CheckRow {
    initiative_id: Uuid,
    url: String,
    checked_at: DateTime<Utc>,
    ok: bool,
    detail: String,
}

/// Adds the search condition "has this trust status" (no stored status means unverified).
pub(crate) fn push_trust_filter(b: &mut QueryBuilder<'_, Postgres>, level: TrustLevel) {
    if level == TrustLevel::Unverified {
        b.push(
            " AND NOT EXISTS (SELECT 1 FROM initiative_trust t WHERE t.initiative_id = i.id \
             AND t.status <> 'unverified')",
        );
    } else {
        b.push(
            " AND EXISTS (SELECT 1 FROM initiative_trust t WHERE t.initiative_id = i.id \
             AND t.status = ",
        )
        .push_bind(level.code())
        .push(")");
    }
}

#[async_trait]
impl TrustStore for PgStore {
    async fn insert_vouch(
        &self,
        vouch: &Vouch,
        log: Option<&TransparencyEntry>,
    ) -> StoreResult<TrustLevel> {
        insert_statement(self, NewStatement::of_vouch(vouch), log).await
    }

    async fn insert_warning(
        &self,
        warning: &Warning,
        log: Option<&TransparencyEntry>,
    ) -> StoreResult<TrustLevel> {
        insert_statement(self, NewStatement::of_warning(warning), log).await
    }

    async fn withdraw_vouch(
        &self,
        id: Uuid,
        withdrawal: &Withdrawal,
        log: Option<&TransparencyEntry>,
    ) -> StoreResult<TrustLevel> {
        withdraw(self, StatementKind::Vouch, id, withdrawal, log).await
    }

    async fn withdraw_warning(
        &self,
        id: Uuid,
        withdrawal: &Withdrawal,
        log: Option<&TransparencyEntry>,
    ) -> StoreResult<TrustLevel> {
        withdraw(self, StatementKind::Warning, id, withdrawal, log).await
    }

    async fn vouch_by_id(&self, id: Uuid) -> StoreResult<Option<Vouch>> {
        let s = statement_by(self, StatementKind::Vouch, Some(id), None).await?;
        Ok(s.vouches.into_iter().next())
    }

    async fn vouch_by_ap_id(&self, ap_id: &str) -> StoreResult<Option<Vouch>> {
        let s = statement_by(self, StatementKind::Vouch, None, Some(ap_id)).await?;
        Ok(s.vouches.into_iter().next())
    }

    async fn warning_by_id(&self, id: Uuid) -> StoreResult<Option<Warning>> {
        let s = statement_by(self, StatementKind::Warning, Some(id), None).await?;
        Ok(s.warnings.into_iter().next())
    }

    async fn warning_by_ap_id(&self, ap_id: &str) -> StoreResult<Option<Warning>> {
        let s = statement_by(self, StatementKind::Warning, None, Some(ap_id)).await?;
        Ok(s.warnings.into_iter().next())
    }

    async fn statements_about(&self, initiative_ids: &[Uuid]) -> StoreResult<Statements> {
        let mut conn = self.pool().acquire().await.map_err(db_err)?;
        statements_where(&mut conn, initiative_ids).await
    }

    async fn remote_listings_with_own_statements(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Uuid>> {
        sqlx::query_scalar(
            "SELECT DISTINCT s.initiative_id FROM trust_statements s
             JOIN initiatives i ON i.id = s.initiative_id
             WHERE s.local AND s.withdrawn_at IS NULL AND i.origin IS NOT NULL
                AND ($2::uuid IS NULL OR s.initiative_id > $2)
             ORDER BY s.initiative_id LIMIT $1",
        )
        .bind(i64::from(limit))
        .bind(after)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)
    }

    async fn trust_levels(
        &self,
        initiative_ids: &[Uuid],
    ) -> StoreResult<HashMap<Uuid, TrustLevel>> {
        if initiative_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT initiative_id, status FROM initiative_trust WHERE initiative_id = ANY($1)",
        )
        .bind(initiative_ids)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(i, s)| Ok((i, known(TrustLevel::from_code(&s), "trust status", &s)?)))
            .collect()
    }

    async fn trust_policy(&self) -> StoreResult<TrustPolicy> {
        let mut conn = self.pool().acquire().await.map_err(db_err)?;
        read_policy(&mut conn).await
    }

    async fn set_trust_policy(
        &self,
        policy: &TrustPolicy,
        log: Option<&TransparencyEntry>,
    ) -> StoreResult<()> {
        let mut tx = begin_trust_write(self).await?;
        let threshold = i32::try_from(policy.threshold)
            .map_err(|_| StoreError::Conflict("the threshold is too high".into()))?;
        sqlx::query(
            "INSERT INTO trust_policy (id, trusted, ignored, threshold, warnings_dispute, updated_at)
             VALUES (1, $1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET trusted = excluded.trusted,
                 ignored = excluded.ignored, threshold = excluded.threshold,
                 warnings_dispute = excluded.warnings_dispute, updated_at = excluded.updated_at",
        )
        .bind(&policy.trusted)
        .bind(&policy.ignored)
        .bind(threshold)
        .bind(policy.warnings_dispute)
        .bind(policy.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(log) = log {
            insert_log(&mut tx, log).await?;
        }
        let rows: Vec<StatementRow> = sqlx::query_as(&format!(
            "SELECT {STATEMENT_COLUMNS} FROM trust_statements ORDER BY created_at, id"
        ))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut by_initiative: BTreeMap<Uuid, Vec<StatementRow>> = BTreeMap::new();
        for row in rows {
            by_initiative
                .entry(row.initiative_id)
                .or_default()
                .push(row);
        }
        for (initiative, rows) in by_initiative {
            let s = collect(rows)?;
            let level = assess(policy, &s.vouches, &s.warnings).status;
            store_level(&mut tx, initiative, level).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn transparency_log(
        &self,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<TransparencyEntry>> {
        let rows: Vec<LogRow> = sqlx::query_as(
            "SELECT id, at, action, initiative, initiative_id, statement_id, ap_id, statement,
                 reason, details
             FROM transparency_log ORDER BY at DESC, seq DESC LIMIT $1 OFFSET $2",
        )
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.into_iter().map(LogRow::into_entry).collect()
    }

    async fn insert_report(&self, r: &Report) -> StoreResult<()> {
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        sqlx::query(&format!(
            "INSERT INTO reports ({REPORT_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(r.id)
        .bind(r.initiative_id)
        .bind(Json(&r.reporter))
        .bind(r.category.code())
        .bind(&r.reason)
        .bind(r.status.code())
        .bind(r.created_at)
        .bind(r.resolved_at)
        .bind(r.resolved_by.as_deref())
        .bind(r.resolution.as_deref())
        .bind(r.activity_id.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            write_err(e, |constraint| {
                if constraint.contains("activity_id") {
                    "this report was already received".to_string()
                } else {
                    format!("a report with id {} already exists", r.id)
                }
            })
        })?;
        if !matches!(r.reporter, Reporter::Remote { .. }) {
            let change = (ChangeKind::ReportFiled, r.id, r.initiative_id);
            record(&mut tx, None, Some(change)).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn report_by_id(&self, id: Uuid) -> StoreResult<Option<Report>> {
        let row: Option<ReportRow> = sqlx::query_as(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?;
        row.map(ReportRow::into_report).transpose()
    }

    async fn reports(
        &self,
        status: Option<ReportStatus>,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Report>> {
        let rows: Vec<ReportRow> = sqlx::query_as(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE ($1::text IS NULL OR status = $1)
             ORDER BY created_at DESC, seq DESC LIMIT $2 OFFSET $3"
        ))
        .bind(status.map(ReportStatus::code))
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.into_iter().map(ReportRow::into_report).collect()
    }

    async fn resolve_report(
        &self,
        id: Uuid,
        outcome: ReportStatus,
        by: &str,
        at: DateTime<Utc>,
        resolution: &str,
    ) -> StoreResult<()> {
        if outcome == ReportStatus::Open {
            return Err(StoreError::Conflict(
                "a report is closed as resolved or dismissed".into(),
            ));
        }
        let done = sqlx::query(
            "UPDATE reports SET status = $5, resolved_at = $1, resolved_by = $2,
                 resolution = $3
             WHERE id = $4 AND status = 'open'",
        )
        .bind(at)
        .bind(by)
        .bind(resolution)
        .bind(id)
        .bind(outcome.code())
        .execute(self.pool())
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            let exists = sqlx::query("SELECT 1 FROM reports WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
            return Err(match exists {
                Some(_) => StoreError::Conflict("this report is already closed".into()),
                None => StoreError::NotFound,
            });
        }
        Ok(())
    }

    async fn set_website_check(&self, c: &WebsiteCheck) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO website_checks (initiative_id, url, checked_at, ok, detail)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (initiative_id) DO UPDATE SET url = excluded.url,
                 checked_at = excluded.checked_at, ok = excluded.ok, detail = excluded.detail",
        )
        .bind(c.initiative_id)
        .bind(&c.url)
        .bind(c.checked_at)
        .bind(c.ok)
        .bind(&c.detail)
        .execute(self.pool())
        .await
        .map_err(|e| write_err(e, |_| "conflicting website check".into()))?;
        Ok(())
    }

    async fn website_checks(
        &self,
        initiative_ids: &[Uuid],
    ) -> StoreResult<HashMap<Uuid, WebsiteCheck>> {
        if initiative_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<CheckRow> = sqlx::query_as(
            "SELECT initiative_id, url, checked_at, ok, detail FROM website_checks
             WHERE initiative_id = ANY($1)",
        )
        .bind(initiative_ids)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.initiative_id,
                    WebsiteCheck {
                        initiative_id: r.initiative_id,
                        url: r.url,
                        checked_at: r.checked_at,
                        ok: r.ok,
                        detail: r.detail,
                    },
                )
            })
            .collect())
    }

    async fn website_checks_due(
        &self,
        checked_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Uuid>> {
        sqlx::query_scalar(
            "SELECT i.id FROM initiatives i
             LEFT JOIN website_checks c ON c.initiative_id = i.id
             WHERE i.origin IS NULL AND i.status IN ('published', 'paused')
               AND i.website IS NOT NULL AND i.website <> ''
               AND (c.initiative_id IS NULL OR c.url <> i.website
                    OR c.checked_at < i.updated_at OR c.checked_at < $1)
             ORDER BY c.checked_at NULLS FIRST, i.id
             LIMIT $2",
        )
        .bind(checked_before)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)
    }
}
