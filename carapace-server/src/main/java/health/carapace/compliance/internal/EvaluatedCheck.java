package health.carapace.compliance.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.Rule;
import java.time.Instant;
import java.util.List;

/** One check's verdict as it goes into a report: what was checked, against which rules, when, and how long it took. */
record EvaluatedCheck(String id, String title, List<Rule> rules, CheckResult result, Instant measuredAt, long millis) {}
