//! Trust in SQLite: vouches and warnings (one table, `kind` tells them apart), the policy row,
//! the derived status per initiative, the transparency log, reports and website checks.
//!
//! Writes that can change a status recompute it inside their `BEGIN IMMEDIATE` transaction,
//! which SQLite runs one at a time, so a status never lags behind its statements or policy.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hromada_domain::trust::{
    Report, ReportCategory, ReportStatus, Reporter, StatementKind, TransparencyAction,
    TransparencyEntry, TrustLevel, TrustPolicy, Vouch, VouchBasis, Warning, WarningReason,
    WebsiteCheck, assess,
};
use hromada_store::{ChangeKind, Statements, StoreError, StoreResult, TrustStore, Withdrawal};
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection};
use uuid::Uuid;

use crate::SqliteStore;
use crate::codec::{
    id, json, known, opt_ts, parse_id, parse_json, parse_opt_id, parse_opt_ts, parse_ts, ts,
};
use crate::error::{db_err, write_err};
use crate::feed::record;

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
    id: String,
    ap_id: String,
    kind: String,
    initiative_id: String,
    collective: String,
    local: bool,
    author: Option<String>,
    statement: String,
    code: String,
    created_at: String,
    withdrawn_at: Option<String>,
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
        let (id, initiative_id) = (parse_id(&self.id)?, parse_id(&self.initiative_id)?);
        let created_at = parse_ts(&self.created_at)?;
        let withdrawn_at = parse_opt_ts(self.withdrawn_at)?;
        match kind {
            StatementKind::Vouch => into.vouches.push(Vouch {
                id,
                ap_id: self.ap_id,
                initiative_id,
                collective: self.collective,
                local: self.local,
                author: self.author,
                statement: self.statement,
                basis: known(VouchBasis::from_code(&self.code), "vouch basis", &self.code)?,
                created_at,
                withdrawn_at,
                withdrawal_reason: self.withdrawal_reason,
            }),
            StatementKind::Warning => into.warnings.push(Warning {
                id,
                ap_id: self.ap_id,
                initiative_id,
                collective: self.collective,
                local: self.local,
                author: self.author,
                statement: self.statement,
                reason: known(
                    WarningReason::from_code(&self.code),
                    "warning reason",
                    &self.code,
                )?,
                created_at,
                withdrawn_at,
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

/// Appends `(?, ?, …)` binding each id.
fn push_ids(b: &mut QueryBuilder<'_, Sqlite>, ids: &[Uuid]) {
    b.push("(");
    let mut list = b.separated(", ");
    for i in ids {
        list.push_bind(id(*i));
    }
    b.push(")");
}

async fn statements_where(
    conn: &mut SqliteConnection,
    initiative_ids: &[Uuid],
) -> StoreResult<Statements> {
    if initiative_ids.is_empty() {
        return Ok(Statements::default());
    }
    let mut b = QueryBuilder::new(format!(
        "SELECT {STATEMENT_COLUMNS} FROM trust_statements WHERE initiative_id IN "
    ));
    push_ids(&mut b, initiative_ids);
    b.push(" ORDER BY created_at, id");
    let rows: Vec<StatementRow> = b.build_query_as().fetch_all(conn).await.map_err(db_err)?;
    collect(rows)
}

#[derive(FromRow)]
struct PolicyRow {
    trusted: String,
    ignored: String,
    threshold: i64,
    warnings_dispute: bool,
    updated_at: Option<String>,
}

async fn read_policy(conn: &mut SqliteConnection) -> StoreResult<TrustPolicy> {
    let row: Option<PolicyRow> = sqlx::query_as(
        "SELECT trusted, ignored, threshold, warnings_dispute, updated_at FROM trust_policy \
         WHERE id = 1",
    )
    .fetch_optional(conn)
    .await
    .map_err(db_err)?;
    let Some(row) = row else {
        return Ok(TrustPolicy::default());
    };
    Ok(TrustPolicy {
        trusted: parse_json(&row.trusted, "trusted collectives")?,
        ignored: parse_json(&row.ignored, "ignored collectives")?,
        threshold: u32::try_from(row.threshold)
            .map_err(|_| StoreError::Corrupt(format!("trust threshold {}", row.threshold)))?,
        warnings_dispute: row.warnings_dispute,
        updated_at: parse_opt_ts(row.updated_at)?,
    })
}

/// Stores the status of one initiative as `assess` sees it now.
async fn store_level(
    conn: &mut SqliteConnection,
    initiative_id: Uuid,
    level: TrustLevel,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO initiative_trust (initiative_id, status, computed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (initiative_id) DO UPDATE SET status = excluded.status,
             computed_at = excluded.computed_at",
    )
    .bind(id(initiative_id))
    .bind(level.code())
    .bind(ts(Utc::now()))
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Recomputes one initiative's status from what is stored (inside the caller's transaction).
pub(crate) async fn recompute(
    conn: &mut SqliteConnection,
    initiative_id: Uuid,
) -> StoreResult<TrustLevel> {
    let policy = read_policy(&mut *conn).await?;
    let s = statements_where(&mut *conn, &[initiative_id]).await?;
    let level = assess(&policy, &s.vouches, &s.warnings).status;
    store_level(conn, initiative_id, level).await?;
    Ok(level)
}

async fn insert_log(conn: &mut SqliteConnection, e: &TransparencyEntry) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO transparency_log (id, at, action, initiative, initiative_id, statement_id,
             ap_id, statement, reason, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .bind(id(e.id))
    .bind(ts(e.at))
    .bind(e.action.code())
    .bind(e.initiative.as_deref())
    .bind(e.initiative_id.map(id))
    .bind(e.statement_id.map(id))
    .bind(e.ap_id.as_deref())
    .bind(e.statement.as_deref())
    .bind(e.reason.as_deref())
    .bind(json(&e.details)?)
    .execute(conn)
    .await
    .map_err(|err| write_err(err, |_| format!("a log entry with id {} exists", e.id)))?;
    Ok(())
}

async fn insert_statement(
    store: &SqliteStore,
    s: NewStatement<'_>,
    log: Option<&TransparencyEntry>,
) -> StoreResult<TrustLevel> {
    let mut tx = store.begin_write().await?;
    // This node says one thing at a time about a listing: a form sent twice (a slow phone)
    // must not leave two standing statements. Checked here, where trust writes take turns.
    if s.local {
        let standing: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM trust_statements
             WHERE initiative_id = ?1 AND local = 1 AND withdrawn_at IS NULL LIMIT 1",
        )
        .bind(id(s.initiative_id))
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
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))
    .bind(id(s.id))
    .bind(s.ap_id)
    .bind(s.kind.code())
    .bind(id(s.initiative_id))
    .bind(s.collective)
    .bind(s.local)
    .bind(s.author)
    .bind(s.statement)
    .bind(s.code)
    .bind(ts(s.created_at))
    .bind(opt_ts(s.withdrawn_at))
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
    store: &SqliteStore,
    kind: StatementKind,
    statement_id: Uuid,
    withdrawal: &Withdrawal,
    log: Option<&TransparencyEntry>,
) -> StoreResult<TrustLevel> {
    let mut tx = store.begin_write().await?;
    let withdrawn: Option<(String, bool)> = sqlx::query_as(
        "UPDATE trust_statements SET withdrawn_at = ?1, withdrawal_reason = ?2
         WHERE id = ?3 AND kind = ?4 AND withdrawn_at IS NULL RETURNING initiative_id, local",
    )
    .bind(ts(withdrawal.at))
    .bind(&withdrawal.reason)
    .bind(id(statement_id))
    .bind(kind.code())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some((initiative, local)) = withdrawn else {
        let exists = sqlx::query("SELECT 1 FROM trust_statements WHERE id = ?1 AND kind = ?2")
            .bind(id(statement_id))
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
    let initiative = parse_id(&initiative)?;
    let level = recompute(&mut tx, initiative).await?;
    if local {
        let change = (withdrawn_change(kind), statement_id, initiative);
        record(&mut tx, None, Some(change)).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(level)
}

async fn statement_where(
    store: &SqliteStore,
    kind: StatementKind,
    column: &str,
    value: String,
) -> StoreResult<Statements> {
    let rows: Vec<StatementRow> = sqlx::query_as(&format!(
        "SELECT {STATEMENT_COLUMNS} FROM trust_statements WHERE {column} = ?1 AND kind = ?2"
    ))
    .bind(value)
    .bind(kind.code())
    .fetch_all(store.pool())
    .await
    .map_err(db_err)?;
    collect(rows)
}

#[derive(FromRow)]
struct LogRow {
    id: String,
    at: String,
    action: String,
    initiative: Option<String>,
    initiative_id: Option<String>,
    statement_id: Option<String>,
    ap_id: Option<String>,
    statement: Option<String>,
    reason: Option<String>,
    details: String,
}

impl LogRow {
    fn into_entry(self) -> StoreResult<TransparencyEntry> {
        Ok(TransparencyEntry {
            id: parse_id(&self.id)?,
            at: parse_ts(&self.at)?,
            action: known(
                TransparencyAction::from_code(&self.action),
                "transparency action",
                &self.action,
            )?,
            initiative: self.initiative,
            initiative_id: parse_opt_id(self.initiative_id)?,
            statement_id: parse_opt_id(self.statement_id)?,
            ap_id: self.ap_id,
            statement: self.statement,
            reason: self.reason,
            details: parse_json(&self.details, "log details")?,
        })
    }
}

const REPORT_COLUMNS: &str = "id, initiative_id, reporter, category, reason, status, created_at, \
    resolved_at, resolved_by, resolution, activity_id";

#[derive(FromRow)]
struct ReportRow {
    id: String,
    initiative_id: String,
    reporter: String,
    category: String,
    reason: String,
    status: String,
    created_at: String,
    resolved_at: Option<String>,
    resolved_by: Option<String>,
    resolution: Option<String>,
    activity_id: Option<String>,
}

impl ReportRow {
    fn into_report(self) -> StoreResult<Report> {
        Ok(Report {
            id: parse_id(&self.id)?,
            initiative_id: parse_id(&self.initiative_id)?,
            reporter: parse_json(&self.reporter, "reporter")?,
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
            created_at: parse_ts(&self.created_at)?,
            resolved_at: parse_opt_ts(self.resolved_at)?,
            resolved_by: self.resolved_by,
            resolution: self.resolution,
            activity_id: self.activity_id,
        })
    }
}

#[derive(FromRow)]
struct CheckRow {
    initiative_id: String,
    url: String,
    checked_at: String,
    ok: bool,
    detail: String,
}

#[async_trait]
impl TrustStore for SqliteStore {
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

    async fn vouch_by_id(&self, vouch_id: Uuid) -> StoreResult<Option<Vouch>> {
        let s = statement_where(self, StatementKind::Vouch, "id", id(vouch_id)).await?;
        Ok(s.vouches.into_iter().next())
    }

    async fn vouch_by_ap_id(&self, ap_id: &str) -> StoreResult<Option<Vouch>> {
        let s = statement_where(self, StatementKind::Vouch, "ap_id", ap_id.to_string()).await?;
        Ok(s.vouches.into_iter().next())
    }

    async fn warning_by_id(&self, warning_id: Uuid) -> StoreResult<Option<Warning>> {
        let s = statement_where(self, StatementKind::Warning, "id", id(warning_id)).await?;
        Ok(s.warnings.into_iter().next())
    }

    async fn warning_by_ap_id(&self, ap_id: &str) -> StoreResult<Option<Warning>> {
        let s = statement_where(self, StatementKind::Warning, "ap_id", ap_id.to_string()).await?;
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
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT s.initiative_id FROM trust_statements s
             JOIN initiatives i ON i.id = s.initiative_id
             WHERE s.local = 1 AND s.withdrawn_at IS NULL AND i.origin IS NOT NULL
                AND (?2 IS NULL OR s.initiative_id > ?2)
             ORDER BY s.initiative_id LIMIT ?1",
        )
        .bind(i64::from(limit))
        .bind(after.map(id))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        ids.iter().map(|id| parse_id(id)).collect()
    }

    async fn trust_levels(
        &self,
        initiative_ids: &[Uuid],
    ) -> StoreResult<HashMap<Uuid, TrustLevel>> {
        if initiative_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut b = QueryBuilder::new(
            "SELECT initiative_id, status FROM initiative_trust WHERE initiative_id IN ",
        );
        push_ids(&mut b, initiative_ids);
        let rows: Vec<(String, String)> = b
            .build_query_as()
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(i, s)| {
                Ok((
                    parse_id(&i)?,
                    known(TrustLevel::from_code(&s), "trust status", &s)?,
                ))
            })
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
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO trust_policy (id, trusted, ignored, threshold, warnings_dispute, updated_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET trusted = excluded.trusted,
                 ignored = excluded.ignored, threshold = excluded.threshold,
                 warnings_dispute = excluded.warnings_dispute, updated_at = excluded.updated_at",
        )
        .bind(json(&policy.trusted)?)
        .bind(json(&policy.ignored)?)
        .bind(i64::from(policy.threshold))
        .bind(policy.warnings_dispute)
        .bind(opt_ts(policy.updated_at))
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
        let mut by_initiative: BTreeMap<String, Vec<StatementRow>> = BTreeMap::new();
        for row in rows {
            by_initiative
                .entry(row.initiative_id.clone())
                .or_default()
                .push(row);
        }
        for (initiative, rows) in by_initiative {
            let s = collect(rows)?;
            let level = assess(policy, &s.vouches, &s.warnings).status;
            store_level(&mut tx, parse_id(&initiative)?, level).await?;
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
             FROM transparency_log ORDER BY at DESC, seq DESC LIMIT ?1 OFFSET ?2",
        )
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.into_iter().map(LogRow::into_entry).collect()
    }

    async fn insert_report(&self, r: &Report) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(&format!(
            "INSERT INTO reports ({REPORT_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ))
        .bind(id(r.id))
        .bind(id(r.initiative_id))
        .bind(json(&r.reporter)?)
        .bind(r.category.code())
        .bind(&r.reason)
        .bind(r.status.code())
        .bind(ts(r.created_at))
        .bind(opt_ts(r.resolved_at))
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

    async fn report_by_id(&self, report_id: Uuid) -> StoreResult<Option<Report>> {
        let row: Option<ReportRow> = sqlx::query_as(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE id = ?1"
        ))
        .bind(id(report_id))
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
            "SELECT {REPORT_COLUMNS} FROM reports WHERE (?1 IS NULL OR status = ?1)
             ORDER BY created_at DESC, seq DESC LIMIT ?2 OFFSET ?3"
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
        report_id: Uuid,
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
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE reports SET status = ?5, resolved_at = ?1, resolved_by = ?2,
                 resolution = ?3
             WHERE id = ?4 AND status = 'open'",
        )
        .bind(ts(at))
        .bind(by)
        .bind(resolution)
        .bind(id(report_id))
        .bind(outcome.code())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            let exists = sqlx::query("SELECT 1 FROM reports WHERE id = ?1")
                .bind(id(report_id))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
            return Err(match exists {
                Some(_) => StoreError::Conflict("this report is already closed".into()),
                None => StoreError::NotFound,
            });
        }
        tx.commit().await.map_err(db_err)
    }

    async fn set_website_check(&self, c: &WebsiteCheck) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO website_checks (initiative_id, url, checked_at, ok, detail)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (initiative_id) DO UPDATE SET url = excluded.url,
                 checked_at = excluded.checked_at, ok = excluded.ok, detail = excluded.detail",
        )
        .bind(id(c.initiative_id))
        .bind(&c.url)
        .bind(ts(c.checked_at))
        .bind(c.ok)
        .bind(&c.detail)
        .execute(&mut *tx)
        .await
        .map_err(|e| write_err(e, |_| "conflicting website check".into()))?;
        tx.commit().await.map_err(db_err)
    }

    async fn website_checks(
        &self,
        initiative_ids: &[Uuid],
    ) -> StoreResult<HashMap<Uuid, WebsiteCheck>> {
        if initiative_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut b = QueryBuilder::new(
            "SELECT initiative_id, url, checked_at, ok, detail FROM website_checks \
             WHERE initiative_id IN ",
        );
        push_ids(&mut b, initiative_ids);
        let rows: Vec<CheckRow> = b
            .build_query_as()
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                let initiative_id = parse_id(&r.initiative_id)?;
                Ok((
                    initiative_id,
                    WebsiteCheck {
                        initiative_id,
                        url: r.url,
                        checked_at: parse_ts(&r.checked_at)?,
                        ok: r.ok,
                        detail: r.detail,
                    },
                ))
            })
            .collect()
    }

    async fn website_checks_due(
        &self,
        checked_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Uuid>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT i.id FROM initiatives i
             LEFT JOIN website_checks c ON c.initiative_id = i.id
             WHERE i.origin IS NULL AND i.status IN ('published', 'paused')
               AND i.website IS NOT NULL AND i.website <> ''
               AND (c.initiative_id IS NULL OR c.url <> i.website
                    OR c.checked_at < i.updated_at OR c.checked_at < ?1)
             ORDER BY c.checked_at IS NOT NULL, c.checked_at, i.id
             LIMIT ?2",
        )
        .bind(ts(checked_before))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        ids.iter().map(|i| parse_id(i)).collect()
    }
}
