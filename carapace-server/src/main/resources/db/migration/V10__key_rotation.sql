-- Key rotation (ADR 0010): resumable job state, blind-index key versions, and the one narrow
-- write that re-encryption needs on stored versions.

-- One row per rotation job. The checkpoint is the last item completed (a key_ref or a resource
-- row key, never PHI); a job restarted after a crash resumes after it, and every step is
-- idempotent, so redoing the last unfinished batch is harmless.
create table ops.key_job (
    id          uuid        primary key,
    kind        text        not null check (kind in ('rewrap-kek', 'rotate-deks', 'reindex')),
    scope       text,                      -- 'Patient/<uuid>' for a one-patient DEK rotation, else null
    phase       text        not null,
    state       text        not null check (state in ('running', 'finished', 'failed')),
    checkpoint  text,
    done        bigint      not null default 0,
    rounds      integer     not null default 0,  -- passes after a check found leftovers
    started_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    finished_at timestamptz
);
create unique index key_job_one_running on ops.key_job (kind) where state = 'running';

-- Tokens remember which index root key version made them: during a re-index, search asks for
-- the tokens of every searchable version.
alter table phi_index.token add column key_version integer not null default 1;
drop index phi_index.token_lookup;
create index token_lookup on phi_index.token (index_name, token, key_version);

-- The application role still cannot change a version's identity, metadata or deletion flag;
-- it may only replace the ciphertext (re-encryption under a new DEK, same AAD). A ciphertext
-- written for another row fails authentication at read, because the AAD names the row.
grant update (ciphertext) on phi.resource_version to ${phi_role};
grant select, insert, update on ops.key_job to ${phi_role};
