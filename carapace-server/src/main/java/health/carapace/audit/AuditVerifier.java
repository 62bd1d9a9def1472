package health.carapace.audit;

/**
 * Recomputes the Merkle tree from the audit tables, checks every stored and every witnessed tree
 * head against it, and reports the first entry that does not match.
 */
public interface AuditVerifier {

    /**
     * @param ok true when every check passed
     * @param eventsChecked leaves recomputed from event bodies
     * @param headsChecked tree heads whose root and signature were checked
     * @param firstProblem what failed first, naming the leaf index or tree size; null when ok
     */
    record Report(boolean ok, long eventsChecked, long headsChecked, String firstProblem) {}

    Report verify();
}
