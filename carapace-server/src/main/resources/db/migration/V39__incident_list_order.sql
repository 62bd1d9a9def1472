-- The incidents list and the dashboard page newest first (detected_at desc, ties by id), with or
-- without a state. Without an index in that order every page sorted the whole table (25,000
-- incidents: 8.6 ms of PostgreSQL per page; issue 20); with only the unfiltered one, PostgreSQL
-- walked it backwards looking for a rare state (the dashboard's 10 newest acknowledged).
create index incident_detected on incident.incident (detected_at desc, id);
create index incident_state_detected on incident.incident (state, detected_at desc, id);
