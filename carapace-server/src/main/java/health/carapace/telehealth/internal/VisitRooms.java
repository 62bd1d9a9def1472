package health.carapace.telehealth.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.web.socket.WebSocketSession;

/**
 * Who is connected to which visit, in memory only: a participant is a random id per connection
 * (never a name or a principal), a role, and the socket. Messages are relayed only between the
 * participants of one room; a room holds at most {@link TelehealthSettings#MAX_PARTICIPANTS}.
 */
final class VisitRooms {

    enum Role {
        CLINICIAN, PATIENT;

        String code() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** One connection in a visit. {@code user} is what the audit trail records for it. */
    record Participant(String id, Role role, String user, WebSocketSession socket) {}

    private static final class Room {
        final Map<String, Participant> present = new LinkedHashMap<>();
        /** Ids that were in this room: a message still addressed to one of them is dropped, not refused. */
        final Set<String> former = new java.util.HashSet<>();
    }

    private final Map<UUID, Room> rooms = new ConcurrentHashMap<>();

    /** Adds a participant; empty if the room is full. Returns who was there before. */
    synchronized Optional<List<Participant>> join(UUID visit, Role role, String user, WebSocketSession socket,
            String participantId) {
        Room room = rooms.computeIfAbsent(visit, v -> new Room());
        if (room.present.size() >= TelehealthSettings.MAX_PARTICIPANTS) {
            return Optional.empty();
        }
        List<Participant> before = new ArrayList<>(room.present.values());
        room.present.put(participantId, new Participant(participantId, role, user, socket));
        return Optional.of(before);
    }

    /** Removes a participant; returns who remains (empty when it was not there). */
    synchronized List<Participant> leave(UUID visit, String participantId) {
        Room room = rooms.get(visit);
        if (room == null || room.present.remove(participantId) == null) {
            return List.of();
        }
        room.former.add(participantId);
        List<Participant> remaining = new ArrayList<>(room.present.values());
        if (remaining.isEmpty()) {
            rooms.remove(visit);
        }
        return remaining;
    }

    synchronized Optional<Participant> find(UUID visit, String participantId) {
        Room room = rooms.get(visit);
        return room == null ? Optional.empty() : Optional.ofNullable(room.present.get(participantId));
    }

    synchronized boolean wasPresent(UUID visit, String participantId) {
        Room room = rooms.get(visit);
        return room != null && room.former.contains(participantId);
    }

    synchronized List<Participant> present(UUID visit) {
        Room room = rooms.get(visit);
        return room == null ? List.of() : new ArrayList<>(room.present.values());
    }

    /** Empties the room (the visit ended); returns who was in it. */
    synchronized List<Participant> close(UUID visit) {
        Room room = rooms.remove(visit);
        return room == null ? List.of() : new ArrayList<>(room.present.values());
    }
}
