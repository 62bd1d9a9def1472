-- Permissions a service client may request as OAuth2 scopes (e.g. view:audit). The full role
-- model (roles, constraints, care-team scoping) comes with the access-control issue.
alter table iam.service_client add column permissions text[] not null default '{}';
