package health.carapace.signin.internal;

import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * EHR launch contexts (SMART App Launch 2.0 §"EHR launch"): a signed-in person opens an app for a
 * patient they may see; the app is handed an opaque {@code launch} value and brings it back to the
 * authorization endpoint, where it fixes the patient in context. 256 random bits; only the SHA-256
 * is stored (like enrolment links), it expires after {@link #LIFETIME}, and it is used once, by
 * the same person, for the same app.
 */
final class SmartLaunches {

    static final Duration LIFETIME = Duration.ofMinutes(5);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final JdbcClient jdbc;
    private final Clock clock;

    SmartLaunches(DataSource dataSource, Clock clock) {
        this.jdbc = JdbcClient.create(dataSource);
        this.clock = clock;
    }

    /** A new launch for this person, app and patient ({@code Patient/<uuid>}); returns the launch value. */
    String open(String clientId, String userName, String patient) {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        String launch = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        Instant now = clock.instant();
        jdbc.sql("delete from iam.smart_launch where expires_at < ?").param(Timestamp.from(now)).update();
        jdbc.sql("insert into iam.smart_launch (id_hash, client_id, user_name, patient, expires_at) values (?, ?, ?, ?, ?)")
                .params(UserDirectory.hash(launch), clientId, userName, patient, Timestamp.from(now.plus(LIFETIME)))
                .update();
        return launch;
    }

    /** The patient of a live launch for this app and person, without using it up. */
    Optional<String> peek(String launch, String clientId, String userName) {
        if (launch == null || launch.length() > 100) {
            return Optional.empty();
        }
        return jdbc.sql("select patient from iam.smart_launch where id_hash = ? and client_id = ?"
                        + " and lower(user_name) = lower(?) and expires_at > ?")
                .params(UserDirectory.hash(launch), clientId, userName, Timestamp.from(clock.instant()))
                .query(String.class).optional();
    }

    /** Uses a live launch up (once, whichever node asks): its patient, or empty. */
    Optional<String> use(String launch, String clientId, String userName) {
        if (launch == null || launch.length() > 100) {
            return Optional.empty();
        }
        return jdbc.sql("delete from iam.smart_launch where id_hash = ? and client_id = ?"
                        + " and lower(user_name) = lower(?) and expires_at > ? returning patient")
                .params(UserDirectory.hash(launch), clientId, userName, Timestamp.from(clock.instant()))
                .query(String.class).optional();
    }
}
