package health.carapace.signin.internal;

import health.carapace.audit.AuditTrail;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.session.MapSession;
import org.springframework.session.Session;
import org.springframework.session.SessionRepository;
import org.springframework.transaction.support.TransactionOperations;

/**
 * The sign-in pages' browser sessions in PostgreSQL ({@code iam.sign_in_session*}, V27), so that
 * any node serves any step of a sign-in (ADR 0030). Every attribute is sealed
 * ({@link SignInStateSeal}) with its place as associated data: the session's primary id, its
 * current session id and the attribute's name. So whoever can write these tables (the PHI
 * role: a SQL injection, a DBA) cannot move a victim's signed-in context into a session of their
 * own, nor rename the victim's row to the id their own cookie carries: the value no longer opens
 * there. Such a session is treated as ended (deleted, the browser starts again) and the refusal
 * is audited (ADR 0037). When the session id changes (at sign-in, against fixation), every
 * attribute is sealed again for the new id in the same transaction.
 * <p>
 * Spring Session's own JDBC repository seals only through a conversion hook that sees the value
 * alone, which is why it is not used; this one keeps its table layout.
 */
final class SealedSignInSessions implements SessionRepository<SealedSignInSessions.SignInSession> {

    /** The reason code of the audit event for a session whose contents were moved or altered. */
    static final String TAMPERED = "sign-in-session-tampered";
    private static final Duration PRUNE_EVERY = Duration.ofMinutes(1);
    /** What a sign-in session may hold; the bytes are authenticated before they are read. */
    private static final ObjectInputFilter CONTENTS = ObjectInputFilter.Config.createFilter(
            "maxdepth=40;maxrefs=20000;maxbytes=1048576;java.**;org.springframework.**;health.carapace.**;!*");

    private final JdbcClient jdbc;
    private final TransactionOperations transactions;
    private final SignInStateSeal seal;
    private final Duration timeout;
    private final SignInStateRefusals refusals;
    private final AtomicReference<Instant> lastPruned = new AtomicReference<>(Instant.EPOCH);

    SealedSignInSessions(DataSource dataSource, TransactionOperations transactions, SignInStateSeal seal,
            Duration timeout, AuditTrail audit) {
        this.jdbc = JdbcClient.create(dataSource);
        this.transactions = transactions;
        this.seal = seal;
        this.timeout = timeout;
        this.refusals = new SignInStateRefusals(audit);
    }

    @Override
    public SignInSession createSession() {
        pruneExpired();
        MapSession values = new MapSession();
        values.setMaxInactiveInterval(timeout);
        return new SignInSession(UUID.randomUUID().toString(), values, null);
    }

    @Override
    public void save(SignInSession session) {
        MapSession values = session.values;
        String id = values.getId();
        long lastAccess = values.getLastAccessedTime().toEpochMilli();
        long expiry = values.getLastAccessedTime().plus(values.getMaxInactiveInterval()).toEpochMilli();
        transactions.executeWithoutResult(status -> {
            Set<String> toWrite = new HashSet<>(session.changed);
            if (session.storedId == null) {
                jdbc.sql("insert into iam.sign_in_session (primary_id, session_id, creation_time, last_access_time,"
                                + " max_inactive_interval, expiry_time) values (?, ?, ?, ?, ?, ?)")
                        .params(session.primaryId, id, values.getCreationTime().toEpochMilli(), lastAccess,
                                (int) values.getMaxInactiveInterval().toSeconds(), expiry)
                        .update();
                toWrite.addAll(values.getAttributeNames());
            } else {
                int updated = jdbc.sql("update iam.sign_in_session set session_id = ?, last_access_time = ?,"
                                + " max_inactive_interval = ?, expiry_time = ? where primary_id = ?")
                        .params(id, lastAccess, (int) values.getMaxInactiveInterval().toSeconds(), expiry,
                                session.primaryId)
                        .update();
                if (updated == 0) {
                    // Ended meanwhile (signed out, expired, refused on another node): not brought back.
                    return;
                }
                if (!id.equals(session.storedId)) {
                    // Sealed for the old id: every value is sealed again for the new one.
                    toWrite.addAll(values.getAttributeNames());
                }
            }
            for (String name : toWrite) {
                Object value = values.getAttribute(name);
                if (value == null) {
                    jdbc.sql("delete from iam.sign_in_session_attributes where session_primary_id = ? and attribute_name = ?")
                            .params(session.primaryId, name)
                            .update();
                } else {
                    jdbc.sql("insert into iam.sign_in_session_attributes (session_primary_id, attribute_name, attribute_bytes)"
                                    + " values (?, ?, ?) on conflict (session_primary_id, attribute_name)"
                                    + " do update set attribute_bytes = excluded.attribute_bytes")
                            .params(session.primaryId, name,
                                    seal.seal(serialised(value), place(session.primaryId, id, name)))
                            .update();
                }
            }
        });
        session.storedId = id;
        session.changed.clear();
    }

    @Override
    public SignInSession findById(String id) {
        if (id == null) {
            return null;
        }
        List<StoredRow> rows = jdbc.sql("select s.primary_id, s.creation_time, s.last_access_time,"
                        + " s.max_inactive_interval, a.attribute_name, a.attribute_bytes from iam.sign_in_session s"
                        + " left join iam.sign_in_session_attributes a on a.session_primary_id = s.primary_id"
                        + " where s.session_id = ?")
                .param(id)
                .query((rs, n) -> new StoredRow(rs.getString(1).strip(), rs.getLong(2), rs.getLong(3), rs.getInt(4),
                        rs.getString(5), rs.getBytes(6)))
                .list();
        if (rows.isEmpty()) {
            return null;
        }
        StoredRow first = rows.get(0);
        MapSession values = new MapSession(id);
        values.setCreationTime(Instant.ofEpochMilli(first.creationTime()));
        values.setLastAccessedTime(Instant.ofEpochMilli(first.lastAccessTime()));
        values.setMaxInactiveInterval(Duration.ofSeconds(first.maxInactiveInterval()));
        if (values.getLastAccessedTime().plus(values.getMaxInactiveInterval()).isBefore(Instant.now())) {
            deleteById(id);
            return null;
        }
        for (StoredRow row : rows) {
            if (row.attributeName() == null) {
                continue;
            }
            health.carapace.crypto.StateSeal.Opening plain =
                    seal.opening(row.attributeBytes(), place(first.primaryId(), id, row.attributeName()));
            if (plain.refusal() != null) {
                // Sealed for another session, another id or another name, or altered (or under a key
                // destroyed since): whoever wrote it here does not get to continue someone's sign-in.
                deleteById(id);
                refusals.refused(SignInStateRefusals.reason(plain.refusal(), TAMPERED));
                return null;
            }
            Optional<Object> value = deserialised(plain.plain());
            if (value.isEmpty()) {
                // Authentic but unreadable (written by a version whose classes changed): start again.
                deleteById(id);
                return null;
            }
            values.setAttribute(row.attributeName(), value.get());
        }
        return new SignInSession(first.primaryId(), values, id);
    }

    @Override
    public void deleteById(String id) {
        if (id != null) {
            jdbc.sql("delete from iam.sign_in_session where session_id = ?").param(id).update();
        }
    }

    private record StoredRow(String primaryId, long creationTime, long lastAccessTime, int maxInactiveInterval,
            String attributeName, byte[] attributeBytes) {}

    /** Where a value is sealed for: the associated data of its seal. */
    static String place(String primaryId, String sessionId, String attributeName) {
        return "sign-in session attribute\u0000" + primaryId + "\u0000" + sessionId + "\u0000" + attributeName;
    }

    private void pruneExpired() {
        // Times are the wall clock's, as Spring's session filter stamps them.
        Instant now = Instant.now();
        Instant last = lastPruned.get();
        if (now.isBefore(last.plus(PRUNE_EVERY)) || !lastPruned.compareAndSet(last, now)) {
            return;
        }
        jdbc.sql("delete from iam.sign_in_session where expiry_time < ?").param(now.toEpochMilli()).update();
    }

    private static byte[] serialised(Object value) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        } catch (IOException e) {
            throw new IllegalStateException("a sign-in session attribute could not be serialised", e);
        }
        return bytes.toByteArray();
    }

    private static Optional<Object> deserialised(byte[] plain) {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(plain))) {
            in.setObjectInputFilter(CONTENTS);
            return Optional.ofNullable(in.readObject());
        } catch (IOException | ClassNotFoundException | RuntimeException unreadable) {
            return Optional.empty();
        }
    }

    /** One browser session: its values, and which of them changed since it was read. */
    static final class SignInSession implements Session {

        private final String primaryId;
        private final MapSession values;
        /** The session id as stored, or null before the first save. */
        private String storedId;
        private final Set<String> changed = new HashSet<>();

        private SignInSession(String primaryId, MapSession values, String storedId) {
            this.primaryId = primaryId;
            this.values = values;
            this.storedId = storedId;
        }

        @Override
        public String getId() {
            return values.getId();
        }

        @Override
        public String changeSessionId() {
            return values.changeSessionId();
        }

        @Override
        public <T> T getAttribute(String name) {
            return values.getAttribute(name);
        }

        @Override
        public Set<String> getAttributeNames() {
            return values.getAttributeNames();
        }

        @Override
        public void setAttribute(String name, Object value) {
            values.setAttribute(name, value);
            changed.add(name);
        }

        @Override
        public void removeAttribute(String name) {
            values.removeAttribute(name);
            changed.add(name);
        }

        @Override
        public Instant getCreationTime() {
            return values.getCreationTime();
        }

        @Override
        public void setLastAccessedTime(Instant lastAccessedTime) {
            values.setLastAccessedTime(lastAccessedTime);
        }

        @Override
        public Instant getLastAccessedTime() {
            return values.getLastAccessedTime();
        }

        @Override
        public void setMaxInactiveInterval(Duration interval) {
            values.setMaxInactiveInterval(interval);
        }

        @Override
        public Duration getMaxInactiveInterval() {
            return values.getMaxInactiveInterval();
        }

        @Override
        public boolean isExpired() {
            return values.isExpired();
        }
    }
}
