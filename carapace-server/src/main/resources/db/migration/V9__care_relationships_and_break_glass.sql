-- Care-team scoping and break-glass (issue #3 items 4 and 6). References only, no PHI: who
-- (a Practitioner reference or a user principal) is linked to which patient (a compartment
-- reference), and why (the resource that says so, or an explicit assignment).

create table iam.care_relationship (
    member  text not null,   -- 'Practitioner/<uuid>' (CareTeam, Encounter) or 'User/<principal>' (assignment)
    patient text not null,   -- 'Patient/<uuid>': the same form as phi.resource.compartment
    source  text not null,   -- 'CareTeam/<uuid>', 'Encounter/<uuid>' or 'assignment'
    primary key (member, patient, source)
);
-- Written with every CareTeam/Encounter write: rows of one source are replaced together.
create index care_relationship_source on iam.care_relationship (source);

-- Emergency access to one patient, time-boxed. The reason is free text that may hold PHI, so it
-- is stored only as ciphertext under that patient's data key (and is shredded with it).
create table iam.break_glass (
    grant_id         uuid        primary key,
    principal        text        not null,
    patient          text        not null,   -- 'Patient/<uuid>'
    opened_at        timestamptz not null,
    expires_at       timestamptz not null,
    closed_at        timestamptz,
    reason           bytea       not null,   -- AEAD ciphertext (patient DEK, AAD binds grant id)
    check (expires_at > opened_at)
);
create index break_glass_open on iam.break_glass (principal, patient, expires_at);

grant select, insert, delete on iam.care_relationship to ${phi_role};
grant select, insert, update on iam.break_glass to ${phi_role};

-- Policy category of a record version when its type alone does not say what it is (today: an
-- imaging DocumentReference, which view:medical_images opens and view:clinical_notes does not).
-- Metadata, so that access is decided before anything is decrypted. Absent row: no category.
create table phi.resource_category (
    resource_type text   not null,
    resource_id   uuid   not null,
    version       bigint not null,
    category      text   not null,
    primary key (resource_type, resource_id, version)
);
grant select, insert on phi.resource_category to ${phi_role};
