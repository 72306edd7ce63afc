//! Follow requests a maintainer answers by hand (initiatives that approve followers manually).

use hromada_store::{
    Audience, FedWrite, FollowerState, LocalActor, NewActivity, Target, inbox_host,
};
use serde_json::json;
use uuid::Uuid;

use crate::{FederationError, Inner, activities};

/// Accepts or rejects a pending follow; `false` when there is no such pending request.
pub(crate) async fn answer(
    inner: &Inner,
    initiative_id: Uuid,
    actor_id: &str,
    accept: bool,
) -> Result<bool, FederationError> {
    let local = LocalActor::Initiative(initiative_id);
    let Some(follower) = inner.fed.follower(local, actor_id).await? else {
        return Ok(false);
    };
    let Some(initiative) = inner.store.initiative_by_id(initiative_id).await? else {
        return Ok(false);
    };
    if follower.state != FollowerState::Pending {
        return Ok(false);
    }
    let actor = inner.urls.actor(initiative.handle.as_str());
    // The Follow as it was received, rebuilt from what we kept of it.
    let follow = json!({"id": follower.follow_id, "type": "Follow", "actor": follower.actor_id, "object": actor});
    let kind = if accept { "Accept" } else { "Reject" };
    let answer = activities::answer_follow(kind, &actor, &follow, &Uuid::new_v4().to_string());
    let inbox = follower.delivery_inbox().to_string();
    let mut write = FedWrite::default();
    write.activities.push(NewActivity {
        activity_id: answer["id"].as_str().unwrap_or_default().to_string(),
        actor: local,
        body: answer.to_string(),
        audience: Audience::Inboxes(vec![Target {
            host: inbox_host(&inbox),
            inbox,
        }]),
    });
    if accept {
        write.accept_follow = Some((local, follower.follow_id));
    } else {
        write.unfollow.push((local, follower.actor_id));
    }
    match inner.fed.apply(&write).await {
        Ok(_) => {}
        // Withdrawn (or answered in another process) since it was read: nothing to answer.
        Err(hromada_store::StoreError::Conflict(_)) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    inner.queued.notify_one();
    Ok(true)
}
