-- Key status at a million patients (issue 13): the most used and the oldest live data keys, and
-- those over the encryption warning, are read from these indexes instead of a pass over every
-- patient's key rows (at 1,000,000 keysets the pass took 0.8-1.5 s per statement, every refresh
-- interval; with the indexes 4-7 ms). A plain CREATE INDEX locks writes to keyring.dek_key while it
-- builds: on an installation that already holds millions of keys, run it in a quiet window.
create index dek_key_live_by_use on keyring.dek_key (encryptions desc, created_at) where destroyed_at is null;
create index dek_key_live_by_age on keyring.dek_key (created_at) where destroyed_at is null;
