/**
 * Bulk Data Access 2.0 {@code $export} (issue #18, docs/BULK.md): asynchronous population export
 * for backend services. Records are read only through {@link health.carapace.records.RecordExport}
 * (decided, audited, decrypted per patient); output is NDJSON encrypted at rest under a key of the
 * export (Tink streaming AEAD, wrapped by the KEK), served only to the client that asked, and
 * deleted when it expires. Jobs live in the {@code export} schema and resume after a restart.
 */
@org.springframework.modulith.ApplicationModule(
        allowedDependencies = {"access", "audit", "crypto", "disposal", "records", "signin", "platform :: logging",
                "platform :: web"})
package health.carapace.export;
