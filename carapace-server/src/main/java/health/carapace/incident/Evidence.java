package health.carapace.incident;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Evidence preservation (docs/INCIDENTS.md "Evidence", ADR 0028): one bundle per call holding the
 * audit export of the incident's window with its inclusion proofs, the incident and its timeline,
 * the server logs of the window, the configuration in force (secrets redacted), a thread dump and
 * optionally a heap dump, encrypted to the evidence public key ({@link EvidenceBundle}), with a
 * signed manifest of SHA-256 hashes. Every bundle leaves a chain-of-custody record, audited.
 */
public interface Evidence {

    /**
     * One bundle's chain-of-custody record: no PHI, only who, when, which incident, and hashes.
     *
     * @param bundleSha256 lowercase hex SHA-256 of the encrypted bundle file as written
     * @param manifestSha256 lowercase hex SHA-256 of the signed manifest's bytes
     * @param recipientKeyId the evidence public key the bundle is encrypted to
     * @param signingKeyId the Ed25519 key that signed the manifest
     */
    record Custody(UUID id, UUID incident, Instant madeAt, String madeBy, String bundleSha256, long bundleBytes,
            String manifestSha256, boolean heapDump, String recipientKeyId, String signingKeyId) {}

    /**
     * A bundle made: its custody record and the signed manifest that travels beside it (no PHI:
     * file names, sizes and hashes).
     */
    record Made(Custody custody, byte[] manifest, byte[] manifestSignature, String signingKeyPem) {
        public Made {
            manifest = manifest.clone();
            manifestSignature = manifestSignature.clone();
        }

        @Override
        public byte[] manifest() {
            return manifest.clone();
        }

        @Override
        public byte[] manifestSignature() {
            return manifestSignature.clone();
        }
    }

    /**
     * Where a bundle's thread dump and heap dump come from: this process (the API, on the node that
     * answers) or the serving node on this host ({@link ServingNode}, for the command line).
     */
    interface Dumps {
        /** Every thread's stack and locks, as text. */
        byte[] threads() throws IOException;

        /** Writes a heap dump of the live objects to {@code file} (absolute, must not exist). */
        void heap(Path file) throws IOException;

        /** Which process, for the manifest's notes: e.g. {@code the process that made the bundle, pid 42}. */
        String describe();
    }

    /**
     * Writes an encrypted bundle with the dumps of this process; see
     * {@link #write(UUID, boolean, OutputStream, String, Dumps)}.
     */
    Made write(UUID incident, boolean heapDump, OutputStream out, String actor);

    /**
     * Writes an encrypted bundle for {@code incident} to {@code out} (not closed) and records its
     * custody. Nothing is recorded when it fails.
     *
     * @param heapDump whether to include a heap dump of this server process (PHI in clear inside the
     *     encryption)
     * @param actor who asks: a principal, or {@code cli:<os user>}
     * @param dumps where the thread and heap dumps come from
     * @throws Incidents.Refused for an unknown incident, or when another bundle is being made here
     */
    Made write(UUID incident, boolean heapDump, OutputStream out, String actor, Dumps dumps);

    /** The custody records of an incident's bundles, oldest first. */
    List<Custody> custody(UUID incident);
}
