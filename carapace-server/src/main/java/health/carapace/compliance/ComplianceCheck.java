package health.carapace.compliance;

import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One check of the running system, contributed by the module it is about as a Spring bean (the
 * module's {@code internal} package holds the class). The report finds every bean of this type;
 * nothing central lists them.
 *
 * <p>{@link #evaluate} reads live state (settings in force, rows, keys) and judges it against
 * {@code now}, which the report passes in so that a test can ask "and 91 days later?" against the
 * real state. It must be cheap (the whole report has a budget of a few seconds: read stored
 * results, never recompute a year of audit trail) and must put no PHI in the evidence: counts,
 * settings, ages, user names of the workforce, key ids that name no patient.
 */
public interface ComplianceCheck {

    /** Lower-case words joined by '.' or '-', e.g. {@code crypto.kek-age}. */
    Pattern ID = Pattern.compile("[a-z][a-z0-9-]{0,30}(\\.[a-z][a-z0-9-]{0,40}){1,3}");

    /** Stable id, shown in reports and used in {@code ?check=} filters. */
    String id();

    /** One line saying what is checked. */
    String title();

    /** The rules this check gives evidence for; at least one. */
    List<Rule> rules();

    /**
     * Evaluates the check now. Throwing means "could not evaluate" (the report says so and
     * exits 2); the exception's message is not shown, since it may carry what the database said.
     */
    CheckResult evaluate(Instant now);
}
