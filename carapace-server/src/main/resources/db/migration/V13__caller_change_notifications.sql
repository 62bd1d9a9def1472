-- Every node caches the callers its access tokens resolve to (docs/adr/0017). A change to anything
-- that answer depends on is announced to all nodes by PostgreSQL itself, whoever makes it (a node,
-- the CLI in another process, an operator at psql): one notification per statement, sent at commit,
-- on which every node drops its cached callers. Triggers rather than application calls, so that no
-- write path can forget to announce.
create function iam.announce_caller_change() returns trigger
    language plpgsql as $$
begin
    perform pg_notify('carapace_caller_change', '');
    return null;
end
$$;

create trigger announce_caller_change after insert or update or delete or truncate on iam.app_user
    for each statement execute function iam.announce_caller_change();
create trigger announce_caller_change after insert or update or delete or truncate on iam.session
    for each statement execute function iam.announce_caller_change();
create trigger announce_caller_change after insert or update or delete or truncate on iam.service_client
    for each statement execute function iam.announce_caller_change();
create trigger announce_caller_change after insert or update or delete or truncate on iam.revoked_token
    for each statement execute function iam.announce_caller_change();
