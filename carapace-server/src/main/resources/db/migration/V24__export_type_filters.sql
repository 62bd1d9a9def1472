-- Bulk Data _typeFilter (issue #18, ADR 0027): the filters of an export are search values, so PHI.
-- They are kept only encrypted under the export's own key (Tink streaming AEAD, associated data:
-- the job id), so they become unreadable with the key when the export is cancelled, expires or
-- fails, like its files. Null: no filter.
alter table export.job add column type_filter bytea;
