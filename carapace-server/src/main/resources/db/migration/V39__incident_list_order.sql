-- The incidents list pages newest first (detected_at desc, ties by id): without this index every
-- page sorted the whole table (25,000 incidents: 8.6 ms of PostgreSQL per page; issue 20).
create index incident_detected on incident.incident (detected_at desc, id);
