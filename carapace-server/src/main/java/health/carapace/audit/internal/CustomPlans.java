package health.carapace.audit.internal;

/**
 * For statements whose best plan depends on the values bound to them, such as "the events above
 * the highest sealed id": the driver prepares a statement on the server after its fifth use, and
 * PostgreSQL may then keep one generic plan for every later value. A generic plan estimates a third
 * of the trail above an unknown id and scans the whole table; it is chosen for good when the first
 * executions were costly (a backlog after a restart), and at 1,000,000 events each seal then took
 * 0.9 s of a core and the audit-health read as much, once per second and per dashboard visit.
 * Selected in a statement's column list, this makes PostgreSQL plan every later statement of the
 * current transaction for its actual values (a fraction of a millisecond each).
 */
final class CustomPlans {

    /** A select-list expression; transaction-local, so the pooled connection keeps its own setting. */
    static final String FOR_THIS_TRANSACTION = "set_config('plan_cache_mode', 'force_custom_plan', true)";

    private CustomPlans() {}
}
