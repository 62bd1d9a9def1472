-- Crypto-shredding also removes rotation's per-key rows (keyring.dek_key: Tink key ids, creation
-- times, encryption counters) of the shredded compartment, so that key status no longer lists
-- keys that no longer exist (docs/adr/0010, 0011).
grant delete on keyring.dek_key to ${keyring_role};
