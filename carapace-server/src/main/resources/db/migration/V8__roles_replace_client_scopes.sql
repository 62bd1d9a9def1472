-- Service clients get their permissions from roles of the policy directory (iam.service_client.roles,
-- V6), checked on every request with the role's time window and IP range; the per-client scope list
-- that V5 introduced is no longer read.
alter table iam.service_client drop column permissions;
