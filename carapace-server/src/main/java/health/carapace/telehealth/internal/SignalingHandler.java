package health.carapace.telehealth.internal;

import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditUnavailableException;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.ConcurrentWebSocketSessionDecorator;
import org.springframework.web.socket.handler.TextWebSocketHandler;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The signaling relay at {@code wss://<public base URL>/telehealth/signal}. The first message of a
 * connection says who it is: {@code {"type":"hello","ticket":...}} (a clinician, {@link JoinTickets})
 * or {@code {"type":"hello","link":...}} (the patient's single-use link); until then nothing is
 * relayed, and a connection that has not said so within 10 seconds is closed. After that, SDP
 * offers and answers, ICE candidates and the end-to-end key exchange ({@code commit},
 * {@code reveal}, {@code sender-key}) go to one other participant of the same visit, rebuilt from
 * their checked fields with the sender's id set by the server. Nothing is stored or logged.
 *
 * <p>Refusals close the socket with a standard code and a fixed reason, never echoing input:
 * 1007 malformed (not JSON, unknown type, a field of the wrong shape), 1008 policy (no or bad
 * ticket or link, a recipient outside the visit, the rate limit, a patient ending the visit, a
 * full visit), 1009 too big (Tomcat's limit, {@code carapace.telehealth.max-message-bytes}).
 */
final class SignalingHandler extends TextWebSocketHandler {

    static final CloseStatus MALFORMED = new CloseStatus(1007, "malformed");
    static final CloseStatus UNAUTHENTICATED = CloseStatus.POLICY_VIOLATION.withReason("unauthenticated");
    static final CloseStatus LINK_REFUSED = CloseStatus.POLICY_VIOLATION.withReason("link-refused");
    static final CloseStatus NOT_IN_VISIT = CloseStatus.POLICY_VIOLATION.withReason("not-in-visit");
    static final CloseStatus RATE_LIMITED = CloseStatus.POLICY_VIOLATION.withReason("rate-limited");
    static final CloseStatus NOT_ALLOWED = CloseStatus.POLICY_VIOLATION.withReason("not-allowed");
    static final CloseStatus VISIT_FULL = CloseStatus.POLICY_VIOLATION.withReason("visit-full");
    static final CloseStatus VISIT_ENDED = CloseStatus.NORMAL.withReason("visit-ended");
    static final CloseStatus TOO_BIG = new CloseStatus(1009, "too-big");
    static final CloseStatus AUDIT_UNAVAILABLE = CloseStatus.SERVER_ERROR.withReason("audit-unavailable");

    /** Session attributes, set at the handshake ({@link SignalingHandshake}) and the hello. */
    static final String CONTEXT = "telehealth.context";
    static final String REQUEST_ID = "telehealth.requestId";
    private static final String JOINED = "telehealth.joined";
    private static final String BUCKET = "telehealth.bucket";

    private static final Pattern BASE64 = Pattern.compile("[A-Za-z0-9+/_-]{1,400}={0,2}");
    private static final Pattern PARTICIPANT = Pattern.compile("[0-9a-f-]{36}");
    private static final Set<String> RELAYED = Set.of("offer", "answer", "ice", "commit", "reveal", "sender-key");
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** The visit a connection joined, as what. */
    private record Joined(UUID visit, String participantId, VisitRooms.Role role, String user, String patient) {}

    private final Visits visits;
    private final JoinTickets tickets;
    private final VisitRooms rooms;
    private final VisitAudit audit;
    private final TelehealthSettings settings;
    private final ScheduledExecutorService timers;

    SignalingHandler(Visits visits, JoinTickets tickets, VisitRooms rooms, VisitAudit audit, TelehealthSettings settings,
            ScheduledExecutorService timers) {
        this.visits = visits;
        this.tickets = tickets;
        this.rooms = rooms;
        this.audit = audit;
        this.settings = settings;
        this.timers = timers;
    }

    @Override
    public void afterConnectionEstablished(WebSocketSession session) {
        session.getAttributes().put(BUCKET, new RateBucket(settings.messagesPerSecond()));
        session.getAttributes().put(JOINED + ".socket", new ConcurrentWebSocketSessionDecorator(session, 5_000, 512 * 1024));
        timers.schedule(() -> {
            if (session.isOpen() && joined(session).isEmpty()) {
                close(session, UNAUTHENTICATED);
            }
        }, 10, TimeUnit.SECONDS);
    }

    @Override
    protected void handleTextMessage(WebSocketSession session, TextMessage message) {
        try {
            handle(session, message);
        } catch (RuntimeException e) {
            // never logged with its message (it may hold what was sent); the connection ends
            close(session, CloseStatus.SERVER_ERROR);
        }
    }

    private void handle(WebSocketSession session, TextMessage message) {
        if (message.getPayloadLength() > settings.maxMessageBytes()) {
            close(session, TOO_BIG);
            return;
        }
        if (!((RateBucket) session.getAttributes().get(BUCKET)).take()) {
            close(session, RATE_LIMITED);
            return;
        }
        JsonNode node;
        try {
            node = JSON.readTree(message.getPayload());
        } catch (JacksonException e) {
            close(session, MALFORMED);
            return;
        }
        if (node == null || !node.isObject() || !text(node, "type", 20).isPresent()) {
            close(session, MALFORMED);
            return;
        }
        String type = node.get("type").stringValue();
        Optional<Joined> joined = joined(session);
        if (joined.isEmpty()) {
            if (!type.equals("hello")) {
                close(session, UNAUTHENTICATED);
                return;
            }
            hello(session, node);
            return;
        }
        Joined self = joined.get();
        switch (type) {
            case "bye" -> close(session, CloseStatus.NORMAL);
            case "end" -> end(session, self);
            case "hello" -> close(session, NOT_ALLOWED);
            default -> {
                if (!RELAYED.contains(type)) {
                    close(session, MALFORMED);
                    return;
                }
                relay(session, self, type, node);
            }
        }
    }

    private void hello(WebSocketSession session, JsonNode node) {
        AuditContext context = (AuditContext) session.getAttributes().get(CONTEXT);
        String requestId = (String) session.getAttributes().get(REQUEST_ID);
        Optional<String> ticket = text(node, "ticket", 64);
        Optional<String> link = text(node, "link", 64);
        if (ticket.isPresent() == link.isPresent() || node.size() != 2) {
            close(session, UNAUTHENTICATED);
            return;
        }
        Joined joined;
        if (ticket.isPresent()) {
            Optional<JoinTickets.Ticket> admitted = tickets.redeem(ticket.get());
            if (admitted.isEmpty()) {
                audit.denied("anonymous", null, null, "ticket-refused", context, requestId);
                close(session, UNAUTHENTICATED);
                return;
            }
            JoinTickets.Ticket t = admitted.get();
            if (visits.find(t.appointmentId()).map(Visits.Visit::ended).orElse(true)) {
                close(session, LINK_REFUSED); // issued before the visit ended
                return;
            }
            joined = new Joined(t.appointmentId(), UUID.randomUUID().toString(), VisitRooms.Role.CLINICIAN, t.principal(),
                    t.patient());
        } else {
            Visits.Redemption redemption = visits.redeemPatientLink(link.get());
            if (redemption.visit().isEmpty()) {
                audit.denied("anonymous", null, null, "patient-link-" + redemption.refusal().name().toLowerCase(
                        java.util.Locale.ROOT), context, requestId);
                close(session, LINK_REFUSED);
                return;
            }
            Visits.Visit v = redemption.visit().get();
            // the patient's own access to their visit: audited under their compartment's reference
            joined = new Joined(v.appointmentId(), UUID.randomUUID().toString(), VisitRooms.Role.PATIENT, v.patient(),
                    v.patient());
        }
        try {
            audit.joined(joined.user(), joined.visit(), joined.patient(), context, requestId);
        } catch (AuditUnavailableException e) {
            close(session, AUDIT_UNAVAILABLE);
            return;
        }
        Optional<List<VisitRooms.Participant>> before = rooms.join(joined.visit(), joined.role(), joined.user(),
                socket(session), joined.participantId());
        if (before.isEmpty()) {
            audit.left(joined.user(), joined.visit(), joined.patient(), context, requestId);
            close(session, VISIT_FULL);
            return;
        }
        session.getAttributes().put(JOINED, joined);
        ObjectNode welcome = JSON.createObjectNode().put("type", "welcome").put("you", joined.participantId())
                .put("role", joined.role().code()).put("keyRotationSeconds", settings.keyRotation().toSeconds());
        var present = welcome.putArray("participants");
        before.get().forEach(p -> present.addObject().put("id", p.id()).put("role", p.role().code()));
        var ice = welcome.putArray("iceServers");
        settings.iceServers().forEach(ice::add);
        send(session, welcome);
        ObjectNode arrival = JSON.createObjectNode().put("type", "joined").put("id", joined.participantId())
                .put("role", joined.role().code());
        before.get().forEach(p -> send(p.socket(), arrival));
    }

    private void relay(WebSocketSession session, Joined self, String type, JsonNode node) {
        Optional<String> to = text(node, "to", 36).filter(id -> PARTICIPANT.matcher(id).matches());
        ObjectNode out = JSON.createObjectNode().put("type", type).put("from", self.participantId());
        boolean wellFormed = switch (type) {
            case "offer", "answer" -> copyText(node, out, "sdp", settings.maxMessageBytes())
                    && out.get("sdp").stringValue().startsWith("v=0") && node.size() == 3;
            case "ice" -> copyText(node, out, "candidate", 1024)
                    && (absentOrNull(node, "sdpMid") || copyText(node, out, "sdpMid", 32))
                    && (absentOrNull(node, "sdpMLineIndex") || copyIndex(node, out, "sdpMLineIndex"))
                    && node.size() <= 5;
            case "commit" -> copyBase64(node, out, "commitment") && node.size() == 3;
            case "reveal" -> copyBase64(node, out, "publicKey") && node.size() == 3;
            case "sender-key" -> copyBase64(node, out, "iv") && copyBase64(node, out, "wrapped")
                    && copyIndex(node, out, "kid") && node.size() == 5;
            default -> false;
        };
        if (to.isEmpty() || !wellFormed) {
            close(session, MALFORMED);
            return;
        }
        Optional<VisitRooms.Participant> recipient = rooms.find(self.visit(), to.get());
        if (recipient.isEmpty() || to.get().equals(self.participantId())) {
            if (!rooms.wasPresent(self.visit(), to.get())) {
                // not someone of this visit, ever: a message for another visit, or a guess
                close(session, NOT_IN_VISIT);
            }
            return; // someone who just left: dropped
        }
        send(recipient.get().socket(), out);
    }

    private void end(WebSocketSession session, Joined self) {
        if (self.role() != VisitRooms.Role.CLINICIAN) {
            close(session, NOT_ALLOWED);
            return;
        }
        AuditContext context = (AuditContext) session.getAttributes().get(CONTEXT);
        String requestId = (String) session.getAttributes().get(REQUEST_ID);
        if (visits.end(self.visit(), self.user())) {
            audit.ended(self.user(), self.visit(), self.patient(), context, requestId);
        }
        ObjectNode ended = JSON.createObjectNode().put("type", "ended");
        for (VisitRooms.Participant p : rooms.close(self.visit())) {
            send(p.socket(), ended);
            close(p.socket(), VISIT_ENDED);
        }
    }

    @Override
    public void afterConnectionClosed(WebSocketSession session, CloseStatus status) {
        joined(session).ifPresent(self -> {
            List<VisitRooms.Participant> remaining = rooms.leave(self.visit(), self.participantId());
            ObjectNode left = JSON.createObjectNode().put("type", "left").put("id", self.participantId());
            remaining.forEach(p -> send(p.socket(), left));
            audit.left(self.user(), self.visit(), self.patient(), (AuditContext) session.getAttributes().get(CONTEXT),
                    (String) session.getAttributes().get(REQUEST_ID));
            session.getAttributes().remove(JOINED);
        });
    }

    @Override
    public void handleTransportError(WebSocketSession session, Throwable exception) {
        close(session, CloseStatus.SERVER_ERROR);
    }

    private static Optional<Joined> joined(WebSocketSession session) {
        return Optional.ofNullable((Joined) session.getAttributes().get(JOINED));
    }

    private static WebSocketSession socket(WebSocketSession session) {
        return (WebSocketSession) session.getAttributes().get(JOINED + ".socket");
    }

    private static Optional<String> text(JsonNode node, String field, int maxLength) {
        JsonNode value = node.get(field);
        return value != null && value.isString() && value.stringValue().length() <= maxLength
                ? Optional.of(value.stringValue()) : Optional.empty();
    }

    private static boolean copyText(JsonNode node, ObjectNode out, String field, int maxLength) {
        Optional<String> value = text(node, field, maxLength);
        value.ifPresent(v -> out.put(field, v));
        return value.isPresent();
    }

    private static boolean copyBase64(JsonNode node, ObjectNode out, String field) {
        Optional<String> value = text(node, field, 402).filter(v -> BASE64.matcher(v).matches());
        value.ifPresent(v -> out.put(field, v));
        return value.isPresent();
    }

    private static boolean copyIndex(JsonNode node, ObjectNode out, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isIntegralNumber() || !value.canConvertToLong()
                || value.longValue() < 0 || value.longValue() > (1L << 53)) {
            return false;
        }
        out.put(field, value.longValue());
        return true;
    }

    private static boolean absentOrNull(JsonNode node, String field) {
        return node.get(field) == null || node.get(field).isNull();
    }

    private static void send(WebSocketSession socket, ObjectNode message) {
        try {
            if (socket.isOpen()) {
                socket.sendMessage(new TextMessage(JSON.writeValueAsString(message)));
            }
        } catch (IOException | IllegalStateException e) {
            close(socket, CloseStatus.SESSION_NOT_RELIABLE);
        }
    }

    private static void close(WebSocketSession session, CloseStatus status) {
        try {
            session.close(status);
        } catch (IOException | IllegalStateException e) {
            // already closing: nothing more to do, and nothing to log
        }
    }

    /** A token bucket per connection: {@code rate} messages a second, bursts of twice that. */
    static final class RateBucket {
        private final double rate;
        private final double capacity;
        private double tokens;
        private long last = System.nanoTime();

        RateBucket(int rate) {
            this.rate = rate;
            this.capacity = 2.0 * rate;
            this.tokens = capacity;
        }

        synchronized boolean take() {
            long now = System.nanoTime();
            tokens = Math.min(capacity, tokens + (now - last) / 1e9 * rate);
            last = now;
            if (tokens < 1) {
                return false;
            }
            tokens -= 1;
            return true;
        }
    }

}
