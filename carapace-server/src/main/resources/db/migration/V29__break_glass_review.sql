-- The review every emergency access needs (HIPAA §164.308(a)(1)(ii)(D), docs/ACCESS.md
-- "Access review"): who reviewed a break-glass grant, when, and whether the access was
-- appropriate. One review per grant, written once (the grant's reviewer is accountable for it);
-- a grant without a row is awaiting review. No free text: the reason is the grant's, encrypted there.
create table iam.break_glass_review (
    grant_id    uuid        primary key references iam.break_glass (grant_id),
    reviewed_by text        not null,
    reviewed_at timestamptz not null,
    outcome     text        not null check (outcome in ('appropriate', 'inappropriate'))
);

grant select, insert on iam.break_glass_review to ${phi_role};
