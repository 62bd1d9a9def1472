package health.carapace.signin.internal;

import health.carapace.signin.AccessReview;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The access review's expensive part (permissions unused in the last 90 days, from the audit
 * trail), computed by the server at most daily and kept in {@code iam.access_review}, so that the
 * compliance report reads a recent result instead of a year of events.
 */
@Component
class StoredAccessReviews {

    static final int DAYS = 90;
    /** A stored review older than this is recomputed when the report asks. */
    static final Duration FRESH = Duration.ofHours(36);

    record Stored(Instant generatedAt, int days, int principals, List<String> withUnused, List<String> undefinedRoles) {}

    private final AccessReview review;
    private final JdbcClient jdbc;

    StoredAccessReviews(AccessReview review, DataSource dataSource) {
        this.review = review;
        this.jdbc = JdbcClient.create(dataSource);
    }

    Optional<Stored> latest() {
        return jdbc.sql("""
                select generated_at, days, principals, with_unused, undefined_roles from iam.access_review
                order by generated_at desc limit 1""")
                .query((rs, n) -> new Stored(rs.getTimestamp(1).toInstant(), rs.getInt(2), rs.getInt(3),
                        split(rs.getString(4)), split(rs.getString(5))))
                .optional();
    }

    /** The latest review if it is fresh at {@code now}, else a new one, computed and stored. */
    Stored fresh(Instant now) {
        Optional<Stored> latest = latest();
        if (latest.isPresent() && !latest.get().generatedAt().isBefore(now.minus(FRESH))
                && !latest.get().generatedAt().isAfter(now)) {
            return latest.get();
        }
        return computeAndStore(now);
    }

    Stored computeAndStore(Instant now) {
        AccessReview.Report report = review.report(DAYS, now);
        List<String> withUnused = report.principals().stream().filter(p -> !p.disabled() && !p.unused().isEmpty())
                .map(p -> p.name() + " (" + p.unused().size() + " unused)").toList();
        List<String> undefined = report.principals().stream().filter(p -> !p.undefinedRoles().isEmpty())
                .map(AccessReview.Principal::name).toList();
        jdbc.sql("""
                insert into iam.access_review (generated_at, days, principals, with_unused, undefined_roles)
                values (?, ?, ?, ?, ?)""")
                .params(Timestamp.from(now), DAYS, report.principals().size(), String.join(", ", withUnused),
                        String.join(", ", undefined))
                .update();
        return new Stored(now, DAYS, report.principals().size(), withUnused, undefined);
    }

    private static List<String> split(String joined) {
        return joined == null || joined.isEmpty() ? List.of() : List.of(joined.split(", ")); // names hold no ", "
    }
}
