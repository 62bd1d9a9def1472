package health.carapace.telehealth.internal;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The {@code telehealth} schema: started visits and patients' join links (their SHA-256 hashes
 * only). Ids and principals, never PHI; never a signaling message or a key.
 */
class Visits {

    /** A started visit: the Appointment, its patient and clinicians (references), and whether it ended. */
    record Visit(UUID appointmentId, String patient, UUID encounterId, List<String> clinicians, boolean ended) {}

    /** Why a patient's link was refused: unknown (or forged), already used, expired, revoked, or its visit ended. */
    enum LinkRefusal { UNKNOWN, USED, EXPIRED, REVOKED, ENDED }

    /** A link's redemption: the visit, or why not. */
    record Redemption(Optional<Visit> visit, LinkRefusal refusal) {}

    private static final SecureRandom RANDOM = new SecureRandom();

    private final JdbcClient jdbc;
    private final Clock clock;

    Visits(DataSource dataSource, Clock clock) {
        this.jdbc = JdbcClient.create(dataSource);
        this.clock = clock;
    }

    Optional<Visit> find(UUID appointmentId) {
        return jdbc.sql("select appointment_id, patient, encounter_id, clinicians, ended_at is not null from telehealth.visit "
                + "where appointment_id = ?")
                .param(appointmentId)
                .query((rs, n) -> new Visit(rs.getObject(1, UUID.class), rs.getString(2), rs.getObject(3, UUID.class),
                        List.of((String[]) rs.getArray(4).getArray()), rs.getBoolean(5)))
                .optional();
    }

    /** Records a started visit (in the caller's transaction). A visit already started is refused (false). */
    boolean start(UUID appointmentId, String patient, UUID encounterId, List<String> clinicians, String startedBy) {
        return jdbc.sql("""
                insert into telehealth.visit (appointment_id, patient, encounter_id, clinicians, started_by, started_at)
                values (?, ?, ?, ?, ?, ?) on conflict (appointment_id) do nothing""")
                .params(appointmentId, patient, encounterId, clinicians.toArray(String[]::new), startedBy,
                        Timestamp.from(clock.instant()))
                .update() == 1;
    }

    /**
     * A new single-use link for the visit's patient; every earlier unused one is revoked. Returns
     * the link's secret (256 random bits, base64url); only its hash is stored.
     */
    String issuePatientLink(UUID appointmentId, java.time.Duration ttl) {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        String link = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        Instant now = clock.instant();
        jdbc.sql("update telehealth.patient_link set revoked_at = ? where appointment_id = ? and used_at is null and revoked_at is null")
                .params(Timestamp.from(now), appointmentId).update();
        jdbc.sql("insert into telehealth.patient_link (link_hash, appointment_id, expires_at) values (?, ?, ?)")
                .params(hash(link), appointmentId, Timestamp.from(now.plus(ttl))).update();
        return link;
    }

    /** Uses a patient's link, once: marks it used in the same statement that checks it. */
    Redemption redeemPatientLink(String link) {
        if (link == null || !link.matches("[A-Za-z0-9_-]{43}")) {
            return new Redemption(Optional.empty(), LinkRefusal.UNKNOWN);
        }
        byte[] hash = hash(link);
        Instant now = clock.instant();
        Optional<UUID> used = jdbc.sql("""
                update telehealth.patient_link l set used_at = ?
                where link_hash = ? and used_at is null and revoked_at is null and expires_at > ?
                  and not exists (select 1 from telehealth.visit v where v.appointment_id = l.appointment_id and v.ended_at is not null)
                returning appointment_id""")
                .params(Timestamp.from(now), hash, Timestamp.from(now))
                .query(UUID.class)
                .optional();
        if (used.isPresent()) {
            return new Redemption(find(used.get()), null);
        }
        LinkRefusal why = jdbc.sql("""
                select case when l.used_at is not null then 'USED' when l.revoked_at is not null then 'REVOKED'
                            when v.ended_at is not null then 'ENDED' else 'EXPIRED' end
                from telehealth.patient_link l join telehealth.visit v on v.appointment_id = l.appointment_id
                where l.link_hash = ?""")
                .param(hash)
                .query(String.class)
                .optional()
                .map(LinkRefusal::valueOf)
                .orElse(LinkRefusal.UNKNOWN);
        return new Redemption(Optional.empty(), why);
    }

    /** Ends the visit (once) and revokes its unused links; false if it had ended already. */
    boolean end(UUID appointmentId, String endedBy) {
        Instant now = clock.instant();
        jdbc.sql("update telehealth.patient_link set revoked_at = ? where appointment_id = ? and used_at is null and revoked_at is null")
                .params(Timestamp.from(now), appointmentId).update();
        return jdbc.sql("update telehealth.visit set ended_at = ?, ended_by = ? where appointment_id = ? and ended_at is null")
                .params(Timestamp.from(now), endedBy, appointmentId).update() == 1;
    }

    static byte[] hash(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
