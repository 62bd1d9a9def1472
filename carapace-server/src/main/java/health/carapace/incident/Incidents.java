package health.carapace.incident;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Incidents, for the admin API and the command line. Every change is audited and stamps the
 * incident's timeline; {@code actor} is who made it (a principal, or {@code cli:<os user>}).
 */
public interface Incidents {

    /** Criteria for {@link #list}; null means any. */
    record Filter(IncidentState state, Severity severity, String detector, String principal, Instant since,
            Boolean drill, int limit) {}

    /** The newest incidents matching the filter, at most its limit (capped at 1,000). */
    List<Incident> list(Filter filter);

    /** How many incidents match the filter (its limit is ignored). */
    long count(Filter filter);

    /**
     * The incidents still open (every {@link IncidentState#open()} state): each state's count up to
     * {@code cap} (so {@code cap} means "at least that many": what a page that must stay fast during
     * an incident storm can afford), and the {@code newest} most recently detected of them, newest
     * first (ties by id), as {@link #list} gives them.
     */
    Open open(int newest, long cap);

    /** See {@link #open}: a count (up to the cap) for each open state, and the newest open incidents. */
    record Open(java.util.Map<IncidentState, Long> countedUpTo, List<Incident> newest) {}

    /**
     * Where a page of incidents ends: the last one's detection time and id. The next page holds
     * those detected before it (newest first), so incidents opened meanwhile do not shift it.
     */
    record Position(Instant detectedAt, UUID id) {}

    /** Incidents matching the filter after {@code after} (null: from the newest), at most its limit. */
    List<Incident> page(Filter filter, Position after);

    Optional<Incident> find(UUID id);

    /** @throws Refused if there is no such incident or it cannot be acknowledged now */
    Incident acknowledge(UUID id, String actor);

    /**
     * Moves an incident to {@code resolved} or {@code closed}.
     *
     * @param resolution a code: {@code resolved}, {@code false-positive}, {@code duplicate}, {@code drill}
     */
    Incident close(UUID id, IncidentState target, String resolution, String actor);

    /** Records the §164.402(2) assessment. */
    Incident assessRisk(UUID id, RiskAssessment assessment, String actor);

    /** Records a breach determination; starts the HIPAA clocks. Refused for drill incidents. */
    Incident recordBreach(UUID id, Breach breach, String actor);

    /** A refused request on incidents; the message is ours and echoes no input. */
    final class Refused extends IllegalArgumentException implements health.carapace.platform.logging.SafeMessage {
        private static final long serialVersionUID = 1L;

        public enum Reason { NOT_FOUND, CONFLICT, INVALID }

        private final Reason reason;

        public Refused(Reason reason, String message) {
            super(message);
            this.reason = reason;
        }

        public Reason reason() {
            return reason;
        }
    }
}
