package health.carapace.incident;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import javax.net.ssl.SSLContext;

/**
 * Breach-response drills (docs/INCIDENTS.md "Drills"): a scenario played against the live server
 * over HTTPS, as a client would, by drill-tagged synthetic principals on synthetic patients; the
 * detection, acknowledgement and containment it provokes are timed and stored, and the report shows
 * the trend per scenario. Drill incidents are labelled and kept out of breach counts and clocks.
 */
public interface Drills {

    /** The scenarios, by their stable codes. */
    enum Scenario {
        VIP_SNOOPING, CREDENTIAL_ATTACK, BULK_READ, AFTER_HOURS_BREAK_GLASS;

        public String code() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public static Optional<Scenario> of(String code) {
            for (Scenario s : values()) {
                if (s.code().equals(code)) {
                    return Optional.of(s);
                }
            }
            return Optional.empty();
        }
    }

    /**
     * How to play.
     *
     * @param server the live server's base URL ({@code https://host:port})
     * @param tls trusts the server's certificate
     * @param role the policy role the synthetic principals hold (it must let them read patients)
     * @param waitForAck false: the acknowledgement is simulated at once; true: a person acknowledges
     *        the drill incident (CLI or API) within {@code ackTimeout}
     */
    record Options(URI server, SSLContext tls, String role, Duration detectionTimeout, boolean waitForAck,
            Duration ackTimeout) {}

    /**
     * One drill.
     *
     * @param outcome {@code contained}; {@code not-detected} (no incident within the timeout);
     *        {@code not-acknowledged}; {@code not-contained} (the next request still passed)
     * @param toDetect from the scenario's last request to the incident's detection; null if not detected
     * @param toAcknowledge from detection to acknowledgement; null if not acknowledged
     * @param toContain from detection to containment; null if not contained
     */
    record Result(UUID id, Scenario scenario, Instant startedAt, String outcome, UUID incident, Duration toDetect,
            Duration toAcknowledge, Duration toContain, boolean acknowledgedByAPerson) {}

    /** A scenario's trend across drills (means over the drills that reached that step). */
    record Trend(Scenario scenario, int drills, int contained, Duration meanTimeToDetect, Duration meanTimeToContain,
            Instant last) {}

    /**
     * @param stale whether the last drill of any scenario is older than the maximum age (or none ran)
     */
    record Report(List<Trend> trends, List<Result> recent, Instant lastDrill, Duration maxAge, boolean stale) {}

    /** @throws Incidents.Refused if the scenario cannot be played (a role that does not exist, ...) */
    Result run(Scenario scenario, Options options, String actor);

    /** The trend per scenario, judged at {@code now}. */
    Report report(Instant now);
}
