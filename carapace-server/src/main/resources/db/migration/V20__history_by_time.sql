-- Issue 17: the history of a type (GET /fhir/Patient/_history) and of the server is read newest
-- first from phi.resource_version; without this index every such request sorted the whole table.
create index resource_version_by_time on phi.resource_version (resource_type, last_updated desc);
