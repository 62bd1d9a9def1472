-- Evidence preservation (issue 15, docs/INCIDENTS.md "Evidence", ADR 0028): the chain of custody
-- of every evidence bundle made for an incident. Who made it, when, for which incident, and what
-- it was (its SHA-256 and size, the manifest's SHA-256, the keys it was sealed to and signed
-- with). No PHI: the bundle itself is never stored here, only its hashes. Append-only: the
-- application's role may insert and read, never change or remove a record.

create table incident.evidence_custody (
    id               uuid        primary key,
    incident_id      uuid        not null references incident.incident (id),
    made_at          timestamptz not null,
    made_by          text        not null,
    bundle_sha256    text        not null check (bundle_sha256 ~ '^[0-9a-f]{64}$'),
    bundle_bytes     bigint      not null check (bundle_bytes > 0),
    manifest_sha256  text        not null check (manifest_sha256 ~ '^[0-9a-f]{64}$'),
    heap_dump        boolean     not null,
    recipient_key_id text        not null,
    signing_key_id   text        not null
);
create index evidence_custody_incident on incident.evidence_custody (incident_id, made_at);

grant select, insert on incident.evidence_custody to ${phi_role};
