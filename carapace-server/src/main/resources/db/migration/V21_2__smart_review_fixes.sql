-- Disabling a SMART app (iam.login_app.disabled) ends its live access tokens on their next
-- request: the token lookup checks the app, and this announcement drops every node's cached
-- callers at once, like the other tables a token's liveness depends on (V13, V18).
create trigger announce_caller_change after insert or update or delete or truncate on iam.login_app
    for each statement execute function iam.announce_caller_change();
alter table iam.login_app enable always trigger announce_caller_change;

-- An export's key is destroyed in the transaction that ends its usefulness (cancelled, expired,
-- failed): its files are unreadable from then on even if a copy of them survives the clean-up.
alter table export.job alter column wrapped_key drop not null;
update export.job set wrapped_key = null where status in ('cancelled', 'expired', 'failed');
alter table export.job add constraint job_key_only_while_usable
    check (wrapped_key is not null or status in ('cancelled', 'expired', 'failed'));
-- Clean-up goes by the job's status, not by its file rows: set once the job's directory is gone.
alter table export.job add column cleaned_at timestamptz;
