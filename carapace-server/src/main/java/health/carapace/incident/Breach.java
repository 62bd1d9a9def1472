package health.carapace.incident;

import java.time.LocalDate;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A privacy officer's determination that an incident is a breach of unsecured PHI (45 CFR
 * §164.402): when it was discovered, how many individuals are affected, and how many of them live
 * in each State (two-letter codes), which decides media notice (§164.406). Counts only.
 */
public record Breach(LocalDate discoveredOn, int affected, Map<String, Integer> residentsByState) {

    private static final Pattern STATE = Pattern.compile("[A-Z]{2}");

    public Breach {
        if (discoveredOn == null) {
            throw new IllegalArgumentException("discoveredOn is required");
        }
        if (affected < 1 || affected > 1_000_000_000) {
            throw new IllegalArgumentException("affected is a count of at least 1");
        }
        residentsByState = Map.copyOf(residentsByState == null ? Map.of() : residentsByState);
        for (Map.Entry<String, Integer> state : residentsByState.entrySet()) {
            if (!STATE.matcher(state.getKey()).matches() || state.getValue() == null || state.getValue() < 0
                    || state.getValue() > affected) {
                throw new IllegalArgumentException(
                        "residentsByState maps two-letter State codes to counts no larger than affected");
            }
        }
    }

    /** HHS is notified within 60 days of discovery when 500 or more are affected (§164.408(b)). */
    public boolean hhsWithinSixtyDays() {
        return affected >= 500;
    }

    /** Media notice is owed when more than 500 residents of one State are affected (§164.406(a)). */
    public boolean mediaNotice() {
        return residentsByState.values().stream().anyMatch(count -> count > 500);
    }
}
