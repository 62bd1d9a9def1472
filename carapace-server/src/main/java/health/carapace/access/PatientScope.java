package health.carapace.access;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Which records one search may see, decided by the policy before the search runs: records
 * outside any patient ({@code shared}), every patient's ({@code allPatients}, from
 * {@code view:all_patients}), those of the patients the caller is in a care relationship with,
 * and those of the patients the caller holds open emergency access to. A search is narrowed to
 * this scope in SQL, so counts and pages only ever cover what the caller may see.
 *
 * @param breakGlassPatients patients reachable only through emergency access; their records are
 *     audited with the break-glass flag
 * @param reason when nothing is in scope, the policy's reason code for the refusal
 * @param onlyPatient when an app's patient scope allows the search, the one {@code Patient/<id>}
 *     compartment it may see (within what the roles allow), else null
 */
public record PatientScope(Caller caller, boolean shared, boolean allPatients, boolean related,
        Set<String> breakGlassPatients, String reason, String onlyPatient) {

    public PatientScope {
        breakGlassPatients = Set.copyOf(breakGlassPatients);
    }

    public PatientScope(Caller caller, boolean shared, boolean allPatients, boolean related,
            Set<String> breakGlassPatients, String reason) {
        this(caller, shared, allPatients, related, breakGlassPatients, reason, null);
    }

    /** Nothing in scope, for this reason. */
    static PatientScope none(Caller caller, String reason) {
        return new PatientScope(caller, false, false, false, Set.of(), reason, null);
    }

    /** The same scope kept inside one patient's compartment (an app's patient scope). */
    PatientScope onlyPatient(String compartment) {
        return new PatientScope(caller, false, allPatients, related, breakGlassPatients, reason, compartment);
    }

    /** A SQL condition with its parameters, for a query's {@code WHERE}. */
    public record Clause(String sql, List<Object> args) {}

    /** True when nothing at all is in scope: the search is refused. */
    public boolean empty() {
        return !shared && !allPatients && !related && breakGlassPatients.isEmpty();
    }

    /** True when the scope does not narrow anything. */
    public boolean unrestricted() {
        return shared && allPatients && onlyPatient == null;
    }

    /** Whether records of this patient (a {@code Patient/<uuid>} compartment) are seen only by emergency access. */
    public boolean viaBreakGlass(String patient) {
        return patient != null && breakGlassPatients.contains(patient);
    }

    /**
     * The condition restricting {@code compartmentColumn} (values {@code shared} or
     * {@code Patient/<uuid>}) to this scope. The care relationships are read by the same query, so
     * paging a result later sees a relationship removed in between.
     */
    public Clause clause(String compartmentColumn) {
        List<String> any = new ArrayList<>();
        List<Object> args = new ArrayList<>();
        if (shared) {
            any.add(compartmentColumn + " = 'shared'");
        }
        if (allPatients) {
            any.add(compartmentColumn + " <> 'shared'");
        }
        if (related && !allPatients) {
            any.add(compartmentColumn + " in (select c.patient from iam.care_relationship c where c.member = any(?))");
            args.add(CareRelationships.members(caller));
        }
        if (!breakGlassPatients.isEmpty() && !allPatients) {
            any.add(compartmentColumn + " = any(?)");
            args.add(breakGlassPatients.toArray(String[]::new));
        }
        if (any.isEmpty()) {
            return new Clause("false", args);
        }
        String sql = String.join(" or ", any);
        if (onlyPatient != null) {
            // an app's patient scope: within what the roles allow, only the patient in context
            sql = "(" + sql + ") and " + compartmentColumn + " = ?";
            args.add(onlyPatient);
        }
        return new Clause(sql, args);
    }
}
