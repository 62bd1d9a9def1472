package health.carapace.telehealth.internal;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One-time tickets that let a clinician's visit page open the signaling socket: browsers cannot
 * put a bearer token on a WebSocket, and a token in a URL ends up in histories and logs. The
 * clinician's app, signed in as usual, asks {@link JoinEndpoint} for a ticket (decided there
 * against the access policy); the page gets it in its URL's fragment, which is never sent to a
 * server, and hands it over as the first signaling message. A ticket works once, for
 * {@code carapace.telehealth.ticket-ttl}, on the node that issued it (held in memory by its
 * SHA-256 hash; a multi-node deployment routes {@code /telehealth/**} to one node per visit).
 */
final class JoinTickets {

    /** Who a ticket admits: a clinician participant of one visit. */
    record Ticket(UUID appointmentId, String principal, String practitioner, String patient, Instant expiresAt) {}

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<ByteBuffer, Ticket> byHash = new ConcurrentHashMap<>();
    private final Clock clock;
    private final Duration ttl;

    JoinTickets(Clock clock, Duration ttl) {
        this.clock = clock;
        this.ttl = ttl;
    }

    /** A new ticket's secret (256 random bits, base64url). */
    String issue(UUID appointmentId, String principal, String practitioner, String patient) {
        dropExpired();
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        String ticket = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        byHash.put(ByteBuffer.wrap(Visits.hash(ticket)), new Ticket(appointmentId, principal, practitioner, patient,
                clock.instant().plus(ttl)));
        return ticket;
    }

    /** The ticket's holder, once: a second use, an expired or an unknown ticket gives nothing. */
    Optional<Ticket> redeem(String ticket) {
        if (ticket == null || !ticket.matches("[A-Za-z0-9_-]{43}")) {
            return Optional.empty();
        }
        Ticket found = byHash.remove(ByteBuffer.wrap(Visits.hash(ticket)));
        return Optional.ofNullable(found).filter(t -> t.expiresAt().isAfter(clock.instant()));
    }

    Instant expiry() {
        return clock.instant().plus(ttl);
    }

    private void dropExpired() {
        Instant now = clock.instant();
        byHash.values().removeIf(t -> !t.expiresAt().isAfter(now));
    }
}
