package health.carapace.compliance;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Evaluates every contributed {@link ComplianceCheck}, signs the report and stores it
 * append-only; reads stored reports back for export; records vulnerability scans.
 */
public interface ComplianceReports {

    /** A stored, signed report: the exact bytes an auditor verifies with carapace-verify. */
    record Stored(UUID id, Instant measuredAt, Overall overall, byte[] signedFile) {}

    /** The verdict of a whole report, and the CLI's exit status. */
    enum Overall {
        PASS(0), FAIL(1), UNKNOWN(2);

        private final int exitStatus;

        Overall(int exitStatus) {
            this.exitStatus = exitStatus;
        }

        public int exitStatus() {
            return exitStatus;
        }
    }

    /** One scan of the running server by an outside scanner, as the gate judged it. */
    record Scan(Instant finishedAt, String target, boolean passed, int findingsAboveThreshold, String summary) {}

    /** Evaluates every check now, signs and stores the report. */
    Stored evaluateAndStore();

    /** Every stored report, oldest first (metadata and signed bytes). */
    List<Stored> stored();

    Optional<Stored> stored(UUID id);

    /** The most recently measured report, if any (one indexed row, not the whole history). */
    Optional<Stored> latest();

    /** The public key that verifies reports, as PEM. */
    String publicKeyPem();

    /** Records a scan result (append-only); feeds the six-monthly scan check. */
    void recordScan(Scan scan);

    /** The latest scan recorded ({@code ./carapace compliance scan}), if any: what the console's dashboard shows. */
    Optional<Scan> lastScan();

    /** The ways a report is handed out. Only {@code SIGNED} is evidence; the others render it. */
    enum Format {
        /** One line per check, for a terminal. */
        TEXT,
        JSON, HTML, PDF,
        /** The stored file: signature line, then the JSON exactly as signed. */
        SIGNED
    }

    /** A stored report in {@code format}; refuses a report whose signature does not verify. */
    byte[] render(Stored report, Format format);
}
