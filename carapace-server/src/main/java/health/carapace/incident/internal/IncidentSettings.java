package health.carapace.incident.internal;

import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.springframework.core.env.Environment;

/**
 * The detectors' thresholds and the runner's cadence, from {@code carapace.incident.*} properties
 * (defaults in application.properties, documented in docs/INCIDENTS.md). Read and checked once by
 * {@link IncidentReadiness} before any bean exists, so a malformed threshold stops the server at
 * start instead of silently disabling a detector.
 */
record IncidentSettings(Duration pollInterval, int batchSize, Duration dedupWindow,
        double volumeK, int volumeFloor, int volumeBaselineDays, int volumeMinBaselineHours, int volumeClientCeiling,
        int unusualHoursMinHistory, double unusualHoursMaxShare, ZoneId unusualHoursZone,
        int denialsCount, Duration denialsWindow,
        int credentialCount, Duration credentialWindow,
        int bulkReadPatients,
        Duration auditCheckInterval, Duration auditSealerStall, Duration auditWitnessGrace,
        Duration drillMaxAge, java.util.Map<String, java.util.Set<AutoContainment.Action>> autoContain) {

    static final String PREFIX = "carapace.incident.";

    /** Settings parsed from the environment, or the problems that stop them being used. */
    record Parsed(IncidentSettings settings, List<String> problems) {}

    static IncidentSettings from(Environment environment) {
        Parsed parsed = parse(environment);
        if (!parsed.problems().isEmpty()) {
            throw new IllegalStateException(String.join("; ", parsed.problems()));
        }
        return parsed.settings();
    }

    static Parsed parse(Environment environment) {
        Reader r = new Reader(environment);
        IncidentSettings settings = new IncidentSettings(
                r.duration("poll-interval", "PT1S", Duration.ofMillis(50), Duration.ofMinutes(5)),
                r.integer("batch-size", "5000", 1, 50_000),
                r.duration("dedup-window", "PT1H", Duration.ofMinutes(1), Duration.ofDays(7)),
                r.decimal("volume.k", "3", 0.5, 20),
                r.integer("volume.floor-patients", "30", 1, 1_000_000),
                r.integer("volume.baseline-days", "14", 1, 90),
                r.integer("volume.min-baseline-hours", "8", 1, 2_000),
                r.integer("volume.client-ceiling-patients", "5000", 1, 100_000_000),
                r.integer("unusual-hours.min-history", "200", 1, 1_000_000_000),
                r.decimal("unusual-hours.max-share", "0.01", 0, 0.5),
                r.zone("unusual-hours.zone", "UTC"),
                r.integer("repeated-denials.count", "10", 2, 100_000),
                r.duration("repeated-denials.window", "PT5M", Duration.ofSeconds(10), Duration.ofDays(1)),
                r.integer("credential-attack.count", "10", 2, 100_000),
                r.duration("credential-attack.window", "PT5M", Duration.ofSeconds(10), Duration.ofDays(1)),
                r.integer("bulk-read.patients", "50", 2, 1_000_000),
                r.duration("audit-integrity.check-interval", "PT15S", Duration.ofSeconds(1), Duration.ofHours(1)),
                r.duration("audit-integrity.sealer-stall", "PT2M", Duration.ofSeconds(1), Duration.ofDays(1)),
                r.duration("audit-integrity.witness-grace", "PT1M", Duration.ofSeconds(1), Duration.ofDays(1)),
                r.duration("drill.max-age", "P92D", Duration.ofDays(1), Duration.ofDays(366)),
                AutoContainment.parse(environment, PREFIX + "auto-contain.", r.problems));
        return new Parsed(r.problems.isEmpty() ? settings : null, List.copyOf(r.problems));
    }

    /** Reads settings, collecting one sentence per bad one (naming the property, never echoing its value). */
    private static final class Reader {
        private final Environment environment;
        final List<String> problems = new ArrayList<>();

        Reader(Environment environment) {
            this.environment = environment;
        }

        private <T extends Comparable<T>> T read(String name, String fallback, Function<String, T> parser, T min, T max,
                String expected) {
            String text = environment.getProperty(PREFIX + name, fallback).strip();
            try {
                T value = parser.apply(text);
                if (value.compareTo(min) >= 0 && value.compareTo(max) <= 0) {
                    return value;
                }
            } catch (RuntimeException malformed) {
                // reported below
            }
            problems.add(PREFIX + name + " must be " + expected + " between " + min + " and " + max);
            return parser.apply(fallback);
        }

        int integer(String name, String fallback, int min, int max) {
            return read(name, fallback, Integer::valueOf, min, max, "a whole number");
        }

        double decimal(String name, String fallback, double min, double max) {
            return read(name, fallback, text -> {
                double value = Double.parseDouble(text);
                if (!Double.isFinite(value)) {
                    throw new NumberFormatException();
                }
                return value;
            }, min, max, "a number");
        }

        Duration duration(String name, String fallback, Duration min, Duration max) {
            return read(name, fallback, Duration::parse, min, max, "an ISO-8601 duration");
        }

        ZoneId zone(String name, String fallback) {
            String text = environment.getProperty(PREFIX + name, fallback).strip();
            try {
                return ZoneId.of(text);
            } catch (RuntimeException malformed) {
                problems.add(PREFIX + name + " must be a time-zone id such as UTC or America/New_York");
                return ZoneId.of(fallback);
            }
        }
    }
}
