-- Operational state that is not itself evidence: where the Kafka relay has got to in the
-- sealed audit log. The relay moves forward only after the broker acknowledged every record.

create schema if not exists ops;

create table ops.relay_position (
    relay     text   primary key,
    last_leaf bigint not null
);

grant usage on schema ops to ${phi_role};
grant select, insert, update on ops.relay_position to ${phi_role};
