/**
 * Backup and restore (ADR 0033, docs/RELIABILITY.md "Backup and restore"): a consistent backup of
 * the PHI database and of the keyring as two separate sealed files with a signed manifest, and
 * their restore onto a fresh installation, with the crypto-shredding done since the backup applied
 * again before anything serves. Public API: {@link health.carapace.backup.Backups} (in a running
 * application), {@link health.carapace.backup.BackupArchive} and
 * {@link health.carapace.backup.BackupLoader} (no Spring: the restore loads the databases before
 * any application can start on them), {@link health.carapace.backup.ShreddingLedger}.
 */
@org.springframework.modulith.ApplicationModule(
        allowedDependencies = {"audit", "crypto", "disposal", "incident", "records", "platform :: config",
                "platform :: logging"})
package health.carapace.backup;
