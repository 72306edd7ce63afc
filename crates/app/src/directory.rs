//! Listing use cases: submit, moderate, edit, and the needs, updates and events of an initiative.

use hromada_domain::{
    AuditAction, AuditEntry, Event, EventInput, EventPatch, Initiative, InitiativeInput,
    InitiativePatch, InitiativeStatus, Need, NeedInput, NeedPatch, Photo, Picture, Timestamp,
    Update, UpdateInput, UpdateKind, User, ValidationErrors,
};
use hromada_store::{SearchPage, SearchQuery};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{App, AppError, AppResult, now};

/// When an edit of an object last changed at `before` happens: now, but never before it
/// (the store keeps a newer version from being overwritten by an older one, and another
/// process's clock may run a little ahead of this one's).
fn edited_at(before: Timestamp) -> Timestamp {
    now().max(before)
}

/// How many updates an initiative's page shows (and each page of its older ones).
pub const UPDATES_SHOWN: u32 = 50;

/// An initiative with everything shown on its page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InitiativeDetail {
    pub initiative: Initiative,
    pub needs: Vec<Need>,
    pub updates: Vec<Update>,
    pub events: Vec<Event>,
}

/// `handle` for a local initiative, `handle@domain` for a mirrored one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandleRef {
    pub handle: String,
    pub origin: Option<String>,
}

impl HandleRef {
    pub fn parse(raw: &str) -> Self {
        let raw = raw.trim().trim_start_matches('@').to_ascii_lowercase();
        match raw.split_once('@') {
            Some((handle, domain)) => Self {
                handle: handle.to_string(),
                origin: Some(domain.to_string()),
            },
            None => Self {
                handle: raw,
                origin: None,
            },
        }
    }
}

impl App {
    async fn find(&self, handle: &str) -> AppResult<Initiative> {
        let r = HandleRef::parse(handle);
        self.store
            .initiative_by_handle(&r.handle, r.origin.as_deref())
            .await?
            .ok_or(AppError::NotFound("initiative"))
    }

    /// An initiative someone may edit: local, and theirs (or they moderate).
    async fn find_editable(&self, by: &User, handle: &str) -> AppResult<Initiative> {
        let initiative = self.find(handle).await?;
        ensure_editable(by, &initiative)?;
        Ok(initiative)
    }

    /// Whether `viewer` may see an initiative that is not public.
    fn may_see(viewer: Option<&User>, initiative: &Initiative) -> bool {
        initiative.status.is_public() || viewer.is_some_and(|u| u.may_edit(initiative.id))
    }

    /// Checks a submission as [`App::submit`] does, storing nothing: the edges call it before
    /// counting the attempt against the client's limit, so correcting a mistake costs none.
    pub fn check_submission(
        by: Option<&User>,
        input: InitiativeInput,
    ) -> AppResult<hromada_domain::initiative::ValidInitiative> {
        let anonymous_without_contact = by.is_none()
            && input
                .submitter_contact
                .as_deref()
                .is_none_or(|c| c.trim().is_empty());
        match input.validate() {
            Ok(v) if !anonymous_without_contact => Ok(v),
            result => {
                let mut errors = result.err().unwrap_or_default();
                if anonymous_without_contact {
                    errors.add(
                        "submitter_contact",
                        "required",
                        "tell the moderators how to reach you about this submission",
                    );
                }
                Err(errors.into())
            }
        }
    }

    /// A public submission (or one by a signed-in user, who then maintains it). It lands
    /// pending; moderators decide.
    pub async fn submit(&self, by: Option<&User>, input: InitiativeInput) -> AppResult<Initiative> {
        let valid = Self::check_submission(by, input)?;
        let at = now();
        let initiative = Initiative::submit(Uuid::now_v7(), valid, at);
        let audit = AuditEntry::new(
            at,
            by.map(|u| u.username.as_str()),
            AuditAction::Submitted,
            initiative.handle.as_str(),
        );
        self.store
            .insert_initiative(&initiative, Some(&audit))
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::Conflict(_) => AppError::Invalid(ValidationErrors::single(
                    "handle",
                    "taken",
                    "is already taken on this node",
                )),
                other => other,
            })?;
        if let Some(user) = by {
            let audit = AuditEntry::new(
                at,
                Some(&user.username),
                AuditAction::MaintainerAdded,
                initiative.handle.as_str(),
            )
            .with_details(serde_json::json!({ "user": user.username }));
            self.store
                .add_maintainer(user.id, initiative.id, Some(&audit))
                .await?;
        }
        tracing::info!(handle = %initiative.handle, "initiative submitted");
        Ok(initiative)
    }

    pub async fn approve(&self, by: &User, handle: &str) -> AppResult<Initiative> {
        self.decide(
            by,
            handle,
            InitiativeStatus::Published,
            AuditAction::Approved,
            None,
        )
        .await
    }

    pub async fn reject(&self, by: &User, handle: &str, reason: &str) -> AppResult<Initiative> {
        let reason = reason.trim();
        let mut errors = ValidationErrors::new();
        errors.text("reason", reason, 1000);
        errors.into_result(())?;
        self.decide(
            by,
            handle,
            InitiativeStatus::Rejected,
            AuditAction::Rejected,
            Some(reason),
        )
        .await
    }

    async fn decide(
        &self,
        by: &User,
        handle: &str,
        next: InitiativeStatus,
        action: AuditAction,
        reason: Option<&str>,
    ) -> AppResult<Initiative> {
        if !by.is_moderator() {
            return Err(AppError::Forbidden("only moderators review submissions"));
        }
        let mut initiative = self.find(handle).await?;
        if initiative.status != InitiativeStatus::Pending {
            return Err(AppError::Conflict(format!(
                "this initiative is {}, not pending",
                initiative.status.code()
            )));
        }
        let (read_at, at) = (initiative.updated_at, now());
        initiative.change_status(next, at)?;
        initiative.rejection_reason = reason.map(String::from);
        let mut audit = AuditEntry::new(at, Some(&by.username), action, initiative.handle.as_str());
        if let Some(reason) = reason {
            audit = audit.with_reason(reason);
        }
        self.store
            .update_initiative(&initiative, read_at, Some(&audit))
            .await?;
        tracing::info!(handle = %initiative.handle, status = next.code(), by = %by.username, "submission decided");
        Ok(initiative)
    }

    /// Deletes a local initiative as a whole, with its needs, updates and events: moderators,
    /// or the node's operator at the command line (`by: None`). Federation then tells its
    /// followers and the nodes that follow this one; its actor URL answers 410 and its handle
    /// is never taken again here.
    pub async fn delete_initiative(
        &self,
        by: Option<&User>,
        handle: &str,
        reason: Option<&str>,
    ) -> AppResult<()> {
        if by.is_some_and(|u| !u.is_moderator()) {
            return Err(AppError::Forbidden("only moderators delete initiatives"));
        }
        let initiative = self.find(handle).await?;
        if !initiative.is_local() {
            return Err(AppError::Forbidden(
                "listings from other nodes can only be changed on their own node",
            ));
        }
        let mut audit = AuditEntry::new(
            now(),
            by.map(|u| u.username.as_str()),
            AuditAction::Deleted,
            initiative.handle.as_str(),
        )
        .with_details(serde_json::json!({
            "name": initiative.name,
            "status": initiative.status.code(),
        }));
        if let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) {
            audit = audit.with_reason(reason.chars().take(1000).collect::<String>());
        }
        self.store
            .delete_initiative(initiative.id, Some(&audit))
            .await?;
        tracing::info!(handle = %initiative.handle, "initiative deleted");
        Ok(())
    }

    /// Whether a handle belonged to a local initiative that was deleted.
    pub async fn was_deleted(&self, handle: &str) -> AppResult<bool> {
        let r = HandleRef::parse(handle);
        if r.origin.is_some() {
            return Ok(false);
        }
        Ok(self
            .store
            .deleted_initiative(hromada_store::DeletedKey::Handle(&r.handle))
            .await?
            .is_some())
    }

    /// Pauses, archives or republishes. Maintainers may pause and resume their own initiative;
    /// archiving and restoring is for moderators.
    pub async fn set_status(
        &self,
        by: &User,
        handle: &str,
        next: InitiativeStatus,
        reason: Option<&str>,
    ) -> AppResult<Initiative> {
        let mut initiative = self.find_editable(by, handle).await?;
        let maintainer_move = matches!(
            (initiative.status, next),
            (InitiativeStatus::Published, InitiativeStatus::Paused)
                | (InitiativeStatus::Paused, InitiativeStatus::Published)
        );
        if !maintainer_move && !by.is_moderator() {
            return Err(AppError::Forbidden(
                "only moderators archive or restore initiatives",
            ));
        }
        // A submission is decided by approve or reject (their audit entries, their messages).
        let submission = matches!(
            initiative.status,
            InitiativeStatus::Pending | InitiativeStatus::Rejected
        );
        if submission || matches!(next, InitiativeStatus::Pending | InitiativeStatus::Rejected) {
            return Err(ValidationErrors::single(
                "status",
                "invalid_transition",
                "only a published, paused or archived initiative changes status this way; submissions are approved or rejected",
            )
            .into());
        }
        let (from, read_at, at) = (initiative.status, initiative.updated_at, now());
        initiative.change_status(next, at)?;
        let mut audit = AuditEntry::new(
            at,
            Some(&by.username),
            AuditAction::StatusChanged,
            initiative.handle.as_str(),
        )
        .with_details(serde_json::json!({ "from": from.code(), "to": next.code() }));
        if let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) {
            audit = audit.with_reason(reason.chars().take(1000).collect::<String>());
        }
        self.store
            .update_initiative(&initiative, read_at, Some(&audit))
            .await?;
        Ok(initiative)
    }

    pub async fn edit(
        &self,
        by: &User,
        handle: &str,
        patch: InitiativePatch,
    ) -> AppResult<Initiative> {
        let mut initiative = self.find_editable(by, handle).await?;
        let (payment_changed_before, read_at) =
            (initiative.payment_changed_at, initiative.updated_at);
        initiative.apply(patch, now())?;
        let mut audit = AuditEntry::new(
            initiative.updated_at,
            Some(&by.username),
            AuditAction::Edited,
            initiative.handle.as_str(),
        );
        // Moderators reading the log see the edit that can redirect donations.
        if initiative.payment_changed_at != payment_changed_before {
            audit = audit.with_details(serde_json::json!({"payment_details": "added"}));
        }
        self.store
            .update_initiative(&initiative, read_at, Some(&audit))
            .await?;
        Ok(initiative)
    }

    /// Sets (`Some`) or removes (`None`) the avatar or header picture of an initiative. The
    /// photo must already be stored by the media pipeline (checked, resized, no metadata).
    pub async fn set_picture(
        &self,
        by: &User,
        handle: &str,
        which: Picture,
        photo: Option<Photo>,
    ) -> AppResult<Initiative> {
        let mut initiative = self.find_editable(by, handle).await?;
        if let Some(p) = &photo
            && !Photo::is_valid_name(&p.name)
        {
            return Err(AppError::Invalid(ValidationErrors::single(
                which.code(),
                "invalid_photo",
                "not a stored photo",
            )));
        }
        let read_at = initiative.updated_at;
        initiative.set_picture(which, photo, now());
        let audit = AuditEntry::new(
            initiative.updated_at,
            Some(&by.username),
            AuditAction::Edited,
            initiative.handle.as_str(),
        );
        self.store
            .update_initiative(&initiative, read_at, Some(&audit))
            .await?;
        Ok(initiative)
    }

    /// A local initiative `by` may manage (its maintainers and moderators): change its
    /// pictures, read its replies and mentions, answer its follow requests.
    pub async fn manageable_initiative(&self, by: &User, handle: &str) -> AppResult<Initiative> {
        self.find_editable(by, handle).await
    }

    /// Makes a user a maintainer of an initiative (moderators only).
    pub async fn add_maintainer(
        &self,
        by: Option<&User>,
        username: &str,
        handle: &str,
    ) -> AppResult<()> {
        let (user, initiative, audit) = self
            .maintainer_change(by, username, handle, AuditAction::MaintainerAdded)
            .await?;
        Ok(self
            .store
            .add_maintainer(user.id, initiative.id, Some(&audit))
            .await?)
    }

    /// Ends a user's maintainership of a local initiative (moderators only): someone who left
    /// the initiative, or whose account should no longer speak for it. `NotFound("maintainer")`
    /// when they did not maintain it.
    pub async fn remove_maintainer(
        &self,
        by: Option<&User>,
        username: &str,
        handle: &str,
    ) -> AppResult<()> {
        let (user, initiative, audit) = self
            .maintainer_change(by, username, handle, AuditAction::MaintainerRemoved)
            .await?;
        let removed = self
            .store
            .remove_maintainer(user.id, initiative.id, Some(&audit))
            .await?;
        removed
            .then_some(())
            .ok_or(AppError::NotFound("maintainer"))
    }

    /// The account, the local initiative and the audit entry of a change of who maintains it,
    /// by a moderator or the node's operator on the command line (`by = None`).
    async fn maintainer_change(
        &self,
        by: Option<&User>,
        username: &str,
        handle: &str,
        action: AuditAction,
    ) -> AppResult<(User, Initiative, AuditEntry)> {
        if by.is_some_and(|u| !u.is_moderator()) {
            return Err(AppError::Forbidden(
                "only moderators change who maintains an initiative",
            ));
        }
        let user = self.user_by_username(username).await?;
        let initiative = self.find(handle).await?;
        if !initiative.is_local() {
            return Err(AppError::Forbidden(
                "listings from other nodes are maintained on their own node",
            ));
        }
        let audit = AuditEntry::new(
            now(),
            by.map(|u| u.username.as_str()),
            action,
            initiative.handle.as_str(),
        )
        .with_details(serde_json::json!({ "user": user.username }));
        Ok((user, initiative, audit))
    }

    /// A local initiative and the accounts that maintain it, for those who manage it (its
    /// maintainers and moderators).
    pub async fn maintainers(&self, by: &User, handle: &str) -> AppResult<(Initiative, Vec<User>)> {
        let initiative = self.find_editable(by, handle).await?;
        let mut users = self.store.list_users().await?;
        users.retain(|u| u.maintains.contains(&initiative.id));
        Ok((initiative, users))
    }

    /// The initiative with its needs, published updates and events. Unpublished initiatives are
    /// visible only to their maintainers and moderators; scheduled updates likewise.
    pub async fn initiative_detail(
        &self,
        viewer: Option<&User>,
        handle: &str,
    ) -> AppResult<InitiativeDetail> {
        // What anonymous visitors see is the same for all of them, and most reads are theirs.
        let version = match viewer {
            None => {
                let version = self.details.watch.version(self.store.as_ref()).await;
                if let Some(detail) = self.details.get(handle, version) {
                    return Ok(detail);
                }
                Some(version)
            }
            Some(_) => None,
        };
        let initiative = self.find(handle).await?;
        if !Self::may_see(viewer, &initiative) {
            return Err(AppError::NotFound("initiative"));
        }
        let insider = viewer.is_some_and(|u| u.may_edit(initiative.id));
        let cutoff = if insider { None } else { Some(now()) };
        let detail = InitiativeDetail {
            needs: self.store.needs_of(initiative.id).await?,
            updates: self
                .store
                .updates_of(initiative.id, cutoff, 0, UPDATES_SHOWN)
                .await?,
            events: self.store.events_of(initiative.id).await?,
            initiative,
        };
        if let Some(version) = version {
            self.details.put(handle, version, &detail);
        }
        Ok(detail)
    }

    /// Page `page` (from 1, which the initiative's page shows) of an initiative's updates,
    /// newest first, [`UPDATES_SHOWN`] a page, and whether more follow.
    pub async fn updates_page(
        &self,
        viewer: Option<&User>,
        handle: &str,
        page: u32,
    ) -> AppResult<(Initiative, Vec<Update>, bool)> {
        let initiative = self.find(handle).await?;
        if !Self::may_see(viewer, &initiative) {
            return Err(AppError::NotFound("initiative"));
        }
        // Scheduled updates stay with their maintainers until they are due.
        let insider = viewer.is_some_and(|u| u.may_edit(initiative.id));
        let cutoff = if insider { None } else { Some(now()) };
        let skip = page.saturating_sub(1).saturating_mul(UPDATES_SHOWN);
        let mut updates = self
            .store
            .updates_of(initiative.id, cutoff, skip, UPDATES_SHOWN + 1)
            .await?;
        let more = updates.len() > UPDATES_SHOWN as usize;
        updates.truncate(UPDATES_SHOWN as usize);
        Ok((initiative, updates, more))
    }

    /// Searches the directory. Only moderators may look at non-public statuses.
    pub async fn search(
        &self,
        viewer: Option<&User>,
        query: &SearchQuery,
    ) -> AppResult<SearchPage> {
        let wants_hidden = query.statuses.iter().any(|s| !s.is_public());
        if wants_hidden && !viewer.is_some_and(User::is_moderator) {
            return Err(AppError::Forbidden(
                "only moderators can list submissions that are not public",
            ));
        }
        // Directories get the same few searches over and over; a write makes them stale
        // (through the change watch, like the initiative pages).
        let Some(cache) = &self.searches else {
            return Ok(self.store.search_initiatives(query).await?);
        };
        let key = crate::cache::SearchCache::key(query);
        let version = self.details.watch.version(self.store.as_ref()).await;
        if let Some(page) = cache.get(&key, version) {
            return Ok(page);
        }
        let page = self.store.search_initiatives(query).await?;
        cache.put(key, version, &page);
        Ok(page)
    }

    pub async fn add_need(&self, by: &User, handle: &str, input: NeedInput) -> AppResult<Need> {
        let initiative = self.find_editable(by, handle).await?;
        let need = Need::new(Uuid::now_v7(), initiative.id, input, now())?;
        self.store.insert_need(&need).await?;
        Ok(need)
    }

    pub async fn edit_need(&self, by: &User, need_id: Uuid, patch: NeedPatch) -> AppResult<Need> {
        let mut need = self
            .store
            .need_by_id(need_id)
            .await?
            .ok_or(AppError::NotFound("need"))?;
        self.check_owner(by, need.initiative_id).await?;
        need.apply(patch, edited_at(need.updated_at))?;
        let audit = edited(by, format!("need {}", need.id));
        self.store.update_need(&need, Some(&audit)).await?;
        Ok(need)
    }

    pub async fn post_update(
        &self,
        by: &User,
        handle: &str,
        input: UpdateInput,
    ) -> AppResult<Update> {
        let initiative = self.find_editable(by, handle).await?;
        if let Some(need_id) = input.need_id {
            let belongs = self
                .store
                .need_by_id(need_id)
                .await?
                .is_some_and(|n| n.initiative_id == initiative.id);
            if !belongs {
                return Err(ValidationErrors::single(
                    "need_id",
                    "unknown_need",
                    "is not a need of this initiative",
                )
                .into());
            }
        }
        let update = Update::new(Uuid::now_v7(), initiative.id, input, now())?;
        self.store.insert_update(&update).await?;
        Ok(update)
    }

    pub async fn edit_update(
        &self,
        by: &User,
        update_id: Uuid,
        body: Option<String>,
        kind: Option<UpdateKind>,
    ) -> AppResult<Update> {
        let mut update = self
            .store
            .update_by_id(update_id)
            .await?
            .ok_or(AppError::NotFound("update"))?;
        self.check_owner(by, update.initiative_id).await?;
        update.edit(body, kind, edited_at(update.updated_at))?;
        let audit = edited(by, format!("update {}", update.id));
        self.store.update_update(&update, Some(&audit)).await?;
        Ok(update)
    }

    pub async fn delete_update(&self, by: &User, update_id: Uuid) -> AppResult<()> {
        let update = self
            .store
            .update_by_id(update_id)
            .await?
            .ok_or(AppError::NotFound("update"))?;
        self.check_owner(by, update.initiative_id).await?;
        let audit = AuditEntry::new(
            now(),
            Some(&by.username),
            AuditAction::Deleted,
            format!("update {update_id}"),
        );
        Ok(self.store.delete_update(update_id, Some(&audit)).await?)
    }

    pub async fn add_event(&self, by: &User, handle: &str, input: EventInput) -> AppResult<Event> {
        let initiative = self.find_editable(by, handle).await?;
        let event = Event::new(Uuid::now_v7(), initiative.id, input, now())?;
        self.check_beneficiaries(&event).await?;
        self.store.insert_event(&event).await?;
        Ok(event)
    }

    /// Changes an event under the same rules as a new one (its initiative's maintainers and
    /// moderators), with an audit entry naming who changed it.
    pub async fn edit_event(
        &self,
        by: &User,
        event_id: Uuid,
        patch: EventPatch,
    ) -> AppResult<Event> {
        let mut event = self
            .store
            .event_by_id(event_id)
            .await?
            .ok_or(AppError::NotFound("event"))?;
        self.check_owner(by, event.initiative_id).await?;
        event.apply(patch, edited_at(event.updated_at))?;
        self.check_beneficiaries(&event).await?;
        let audit = edited(by, format!("event {}", event.id));
        self.store.update_event(&event, Some(&audit)).await?;
        Ok(event)
    }

    /// Every beneficiary must be a public initiative of this node.
    async fn check_beneficiaries(&self, event: &Event) -> AppResult<()> {
        let mut errors = ValidationErrors::new();
        for (i, beneficiary) in event.beneficiaries.iter().enumerate() {
            let known = self
                .store
                .initiative_by_handle(beneficiary.as_str(), None)
                .await?
                .is_some_and(|b| b.status.is_public());
            if !known {
                errors.add(
                    format!("beneficiaries[{i}]"),
                    "unknown_initiative",
                    "is not a published initiative on this node",
                );
            }
        }
        Ok(errors.into_result(())?)
    }

    /// Reads one update, need or event as the public may see it.
    pub async fn public_update(&self, id: Uuid) -> AppResult<(Initiative, Update)> {
        let update = self
            .store
            .update_by_id(id)
            .await?
            .ok_or(AppError::NotFound("update"))?;
        let initiative = self.public_initiative_by_id(update.initiative_id).await?;
        if !update.is_published(now()) {
            return Err(AppError::NotFound("update"));
        }
        Ok((initiative, update))
    }

    pub async fn public_need(&self, id: Uuid) -> AppResult<(Initiative, Need)> {
        let need = self
            .store
            .need_by_id(id)
            .await?
            .ok_or(AppError::NotFound("need"))?;
        Ok((
            self.public_initiative_by_id(need.initiative_id).await?,
            need,
        ))
    }

    pub async fn public_event(&self, id: Uuid) -> AppResult<(Initiative, Event)> {
        let event = self
            .store
            .event_by_id(id)
            .await?
            .ok_or(AppError::NotFound("event"))?;
        Ok((
            self.public_initiative_by_id(event.initiative_id).await?,
            event,
        ))
    }

    pub(crate) async fn public_initiative_by_id(&self, id: Uuid) -> AppResult<Initiative> {
        self.store
            .initiative_by_id(id)
            .await?
            .filter(|i| i.status.is_public())
            .ok_or(AppError::NotFound("initiative"))
    }

    async fn check_owner(&self, by: &User, initiative_id: Uuid) -> AppResult<()> {
        let initiative = self
            .store
            .initiative_by_id(initiative_id)
            .await?
            .ok_or(AppError::NotFound("initiative"))?;
        ensure_editable(by, &initiative)
    }

    /// The audit log, newest first (moderators only).
    pub async fn audit_log(
        &self,
        by: &User,
        limit: u32,
        offset: u32,
    ) -> AppResult<Vec<AuditEntry>> {
        if !by.is_moderator() {
            return Err(AppError::Forbidden("only moderators read the audit log"));
        }
        Ok(self.store.audit_log(limit.clamp(1, 500), offset).await?)
    }
}

/// The audit entry naming who changed one of an initiative's items (`need {id}` and so on).
fn edited(by: &User, subject: String) -> AuditEntry {
    AuditEntry::new(now(), Some(&by.username), AuditAction::Edited, subject)
}

/// Only local listings can be changed here, and only by their maintainers and moderators.
fn ensure_editable(by: &User, initiative: &Initiative) -> AppResult<()> {
    if !initiative.is_local() {
        return Err(AppError::Forbidden(
            "listings from other nodes can only be changed on their own node",
        ));
    }
    if !by.may_edit(initiative.id) {
        return Err(AppError::Forbidden(
            "only this initiative's maintainers and moderators may change it",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_refs() {
        assert_eq!(
            HandleRef::parse("Kharkiv-Medics"),
            HandleRef {
                handle: "kharkiv-medics".into(),
                origin: None
            }
        );
        assert_eq!(
            HandleRef::parse("@food@node.example:8080"),
            HandleRef {
                handle: "food".into(),
                origin: Some("node.example:8080".into())
            }
        );
    }
}
