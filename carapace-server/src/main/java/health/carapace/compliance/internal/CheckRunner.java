package health.carapace.compliance.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.platform.logging.LogSafe;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Runs every contributed check. A check that throws is "could not evaluate" (unknown): its
 * exception's message is neither shown nor logged (a driver may echo what it was given), only its
 * type. Checks with malformed ids, no rules, or an id used twice refuse to start the server.
 */
@Component
class CheckRunner {

    private static final Logger log = LoggerFactory.getLogger(CheckRunner.class);

    private final List<ComplianceCheck> checks;
    private final Clock clock;

    CheckRunner(List<ComplianceCheck> checks, Clock clock) {
        Set<String> ids = new HashSet<>();
        for (ComplianceCheck check : checks) {
            if (!ComplianceCheck.ID.matcher(check.id()).matches() || check.rules().isEmpty() || !ids.add(check.id())) {
                throw new IllegalStateException("Compliance check " + check.getClass().getName()
                        + " has a malformed or duplicate id, or no rules");
            }
        }
        this.checks = checks.stream().sorted(Comparator.comparing(ComplianceCheck::id)).toList();
        this.clock = clock;
    }

    Set<String> ids() {
        Set<String> ids = new java.util.TreeSet<>();
        checks.forEach(c -> ids.add(c.id()));
        return ids;
    }

    List<EvaluatedCheck> evaluateAll() {
        Instant now = clock.instant();
        List<EvaluatedCheck> results = new ArrayList<>(checks.size());
        for (ComplianceCheck check : checks) {
            long started = System.nanoTime();
            CheckResult result;
            try {
                result = check.evaluate(now);
            } catch (RuntimeException e) {
                log.warn("Compliance check {} could not be evaluated: {}", LogSafe.of(check.id()),
                        LogSafe.of(e.getClass().getName()));
                result = CheckResult.unknown("could not evaluate (" + e.getClass().getSimpleName() + ")");
            }
            results.add(new EvaluatedCheck(check.id(), check.title(), check.rules(), result, now,
                    (System.nanoTime() - started) / 1_000_000));
        }
        return results;
    }
}
