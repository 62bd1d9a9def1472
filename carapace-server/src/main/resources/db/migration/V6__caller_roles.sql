-- Service clients hold roles from the policy directory, like users; the caller's roles are read
-- on every request, so a change or a disabled client takes effect on the next one.
alter table iam.service_client add column roles text[] not null default '{}';
