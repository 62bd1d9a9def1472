package health.carapace.telehealth.internal;

import java.time.Duration;
import java.util.List;

/**
 * What an operator may set (README configuration reference, {@code carapace.telehealth.*}).
 *
 * @param patientLinkTtl how long a patient's join link may be used (once)
 * @param ticketTtl how long a clinician's join ticket may be used (once) to open the signaling socket
 * @param keyRotation how often every participant replaces its media sender key, besides joins and leaves
 * @param maxMessageBytes the largest signaling message relayed (an SDP offer with every codec fits in 16 KiB)
 * @param messagesPerSecond each connection's sustained signaling rate; twice this is its burst
 * @param iceServers STUN/TURN URLs handed to the page ({@code stun:}, {@code turn:}, {@code turns:}); none: host candidates only
 */
record TelehealthSettings(Duration patientLinkTtl, Duration ticketTtl, Duration keyRotation, int maxMessageBytes,
        int messagesPerSecond, List<String> iceServers) {

    /** A peer-to-peer mesh: each participant sends its media to every other one. */
    static final int MAX_PARTICIPANTS = 4;

    TelehealthSettings {
        if (patientLinkTtl.isNegative() || patientLinkTtl.isZero() || patientLinkTtl.compareTo(Duration.ofHours(24)) > 0) {
            throw new IllegalStateException("carapace.telehealth.patient-link-ttl must be between 1 second and 24 hours");
        }
        if (ticketTtl.isNegative() || ticketTtl.isZero() || ticketTtl.compareTo(Duration.ofMinutes(5)) > 0) {
            throw new IllegalStateException("carapace.telehealth.ticket-ttl must be between 1 second and 5 minutes");
        }
        if (keyRotation.compareTo(Duration.ofSeconds(10)) < 0 || keyRotation.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalStateException("carapace.telehealth.key-rotation must be between 10 seconds and 1 hour");
        }
        if (maxMessageBytes < 1024 || maxMessageBytes > 65536) {
            throw new IllegalStateException("carapace.telehealth.max-message-bytes must be between 1024 and 65536");
        }
        if (messagesPerSecond < 1 || messagesPerSecond > 1000) {
            throw new IllegalStateException("carapace.telehealth.messages-per-second must be between 1 and 1000");
        }
        for (String server : iceServers) {
            if (!server.matches("(stun|turn|turns):[A-Za-z0-9.\\[\\]:-]+(\\?transport=(udp|tcp))?")) {
                throw new IllegalStateException("carapace.telehealth.ice-servers holds stun:, turn: or turns: host[:port] URLs");
            }
        }
        iceServers = List.copyOf(iceServers);
    }
}
