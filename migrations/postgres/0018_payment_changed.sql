-- When an initiative's donation methods last gained a new destination after it was first
-- published: shown to donors next to the payment details, and to whoever reads a vouch given
-- before then.
ALTER TABLE initiatives ADD COLUMN payment_changed_at TIMESTAMPTZ;
