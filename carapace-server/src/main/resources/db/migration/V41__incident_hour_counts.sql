-- The distinct patients each principal touched per hour, counted as they are first seen (issue 13,
-- "cost as data grows"). The volume detector counted them with count(*) over incident.hour_patient
-- in every batch (once a second while the trail moves), so each batch cost as much as the patients
-- the principal had touched that hour: a service client reading a million patients an hour made it
-- count up to a million rows every second, and the baseline query counted 14 days of rows for every
-- person in the batch. incident.hour_patient, which only ever grew, is now needed for the current
-- and the previous hour only (to know whether a patient is new in its hour); the detector prunes it.
create table incident.hour_count (
    principal  text        not null,
    hour_start timestamptz not null,
    patients   bigint      not null check (patients > 0),
    primary key (principal, hour_start)
);

insert into incident.hour_count (principal, hour_start, patients)
select principal, hour_start, count(*) from incident.hour_patient group by principal, hour_start;

grant select, insert, update, delete on incident.hour_count to ${phi_role};
