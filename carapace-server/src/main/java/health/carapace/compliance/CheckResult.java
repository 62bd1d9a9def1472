package health.carapace.compliance;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The verdict of one check: a status, a reason (required unless the check passed), and the
 * evidence as named values read from the running system, in the order the check gave them.
 */
public record CheckResult(Status status, String reason, Map<String, String> evidence) {

    public enum Status {
        PASS("pass"), FAIL("fail"), NOT_APPLICABLE("not-applicable"),
        /** The check could not be evaluated (it threw, or what it reads is unavailable). */
        UNKNOWN("unknown");

        private final String label;

        Status(String label) {
            this.label = label;
        }

        /** The name used in JSON, filters and the CLI. */
        public String label() {
            return label;
        }

        public static java.util.Optional<Status> ofLabel(String label) {
            for (Status status : values()) {
                if (status.label.equals(label)) {
                    return java.util.Optional.of(status);
                }
            }
            return java.util.Optional.empty();
        }
    }

    public CheckResult {
        Objects.requireNonNull(status, "status");
        if (status != Status.PASS && (reason == null || reason.isBlank())) {
            throw new IllegalArgumentException("a result other than pass needs a reason");
        }
        evidence = Collections.unmodifiableMap(new LinkedHashMap<>(evidence));
    }

    public static CheckResult pass(Evidence evidence) {
        return new CheckResult(Status.PASS, null, evidence.values);
    }

    public static CheckResult fail(String reason, Evidence evidence) {
        return new CheckResult(Status.FAIL, reason, evidence.values);
    }

    public static CheckResult notApplicable(String reason, Evidence evidence) {
        return new CheckResult(Status.NOT_APPLICABLE, reason, evidence.values);
    }

    public static CheckResult unknown(String reason) {
        return new CheckResult(Status.UNKNOWN, reason, Map.of());
    }

    /** Pass when {@code ok}, else fail with {@code reason}. */
    public static CheckResult passIf(boolean ok, String reason, Evidence evidence) {
        return ok ? pass(evidence) : fail(reason, evidence);
    }

    /** Evidence values in the order they are added. Values are rendered with {@link String#valueOf}. */
    public static final class Evidence {
        private final Map<String, String> values = new LinkedHashMap<>();

        public static Evidence of() {
            return new Evidence();
        }

        public Evidence with(String name, Object value) {
            values.put(Objects.requireNonNull(name, "name"), String.valueOf(value));
            return this;
        }

        /** A list of values, comma-separated, at most {@code limit} shown and the count of the rest. */
        public Evidence withList(String name, List<?> items, int limit) {
            List<String> shown = new ArrayList<>();
            for (int i = 0; i < Math.min(limit, items.size()); i++) {
                shown.add(String.valueOf(items.get(i)));
            }
            String text = items.isEmpty() ? "(none)" : String.join(", ", shown)
                    + (items.size() > limit ? " and " + (items.size() - limit) + " more" : "");
            values.put(name, text);
            return this;
        }
    }
}
