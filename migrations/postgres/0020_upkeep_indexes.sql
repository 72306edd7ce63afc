-- Lookups that ran as whole-table scans once the tables grew:
-- a received Delete removes the inbox items of that actor's object;
CREATE INDEX fed_inbox_items_by_object ON fed_inbox_items (actor_id, object_id);
-- the hourly purge of finished deliveries and of activities older than the retention.
CREATE INDEX fed_deliveries_finished ON fed_deliveries (updated_at) WHERE status <> 'pending';
CREATE INDEX fed_activities_by_time ON fed_activities (created_at);
