package health.carapace.crypto;

import java.time.Duration;
import java.time.Instant;

/** The text of {@code carapace keys status}: one line per key, then one per job. */
public final class KeyStatusReport {

    private KeyStatusReport() {
    }

    public static String text(KeyRotation.Status status, Instant now) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("%-12s %-48s %7s %8s %-13s %14s%n", "KIND", "KEY", "VERSION", "AGE", "STATE",
                "ENCRYPTIONS"));
        for (KeyRotation.Key key : status.keys()) {
            out.append(String.format("%-12s %-48s %7s %8s %-13s %14s%s%n", key.kind(), key.id(),
                    key.version() > 0 ? Integer.toString(key.version()) : "-",
                    key.createdAt() == null ? "-" : age(Duration.between(key.createdAt(), now)), key.state(),
                    key.encryptions() < 0 ? "n/a" : Long.toString(key.encryptions()),
                    key.warning() ? "  WARNING: at or past " + status.encryptionWarning()
                            + " encryptions (AES-GCM bound 2^32): rotate" : ""));
        }
        out.append(String.format("%nJOBS%n"));
        if (status.jobs().isEmpty()) {
            out.append("(none)\n");
        }
        for (KeyRotation.Job job : status.jobs()) {
            out.append(String.format("%s %-11s %-9s phase=%-14s done=%d started=%s updated=%s%s%n", job.id(), job.kind(),
                    job.state(), job.phase(), job.done(), job.startedAt(), job.updatedAt(),
                    job.scope() == null ? "" : " scope=" + job.scope()));
        }
        return out.toString();
    }

    private static String age(Duration age) {
        if (age.toDays() > 0) {
            return age.toDays() + "d";
        }
        if (age.toHours() > 0) {
            return age.toHours() + "h";
        }
        return Math.max(0, age.toMinutes()) + "m";
    }
}
