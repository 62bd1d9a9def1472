-- The caller-change announcements (V13) fire in every session, replica mode included: logical
-- replication's apply workers and an operator's bulk fix under session_replication_role = replica
-- skip ordinary triggers, and a change they make must still drop every node's cached callers.
alter table iam.app_user enable always trigger announce_caller_change;
alter table iam.session enable always trigger announce_caller_change;
alter table iam.service_client enable always trigger announce_caller_change;
alter table iam.revoked_token enable always trigger announce_caller_change;
