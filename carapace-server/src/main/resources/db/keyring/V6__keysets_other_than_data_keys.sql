-- Listing the state keysets (StateKeysets: key status, every metrics refresh, rotation) by prefix
-- scanned one wrapped_key row per patient: starts_with cannot use the primary key's index, and
-- neither can LIKE under a collation other than "C" (issue 13: 224 ms a call at 100,000 patients).
-- This index holds only the keysets that are not data keys, a handful of rows; the listing names
-- its predicate so that PostgreSQL uses it whatever the database's collation.
create index wrapped_key_not_data_keys on keyring.wrapped_key (key_ref) where not starts_with(key_ref, 'dek/');
