package health.carapace.access;

import java.net.InetAddress;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import org.springframework.stereotype.Service;

/**
 * The enforcement side of the policy for records: works out the caller's relation to the patient
 * whose compartment a record is in (care relationship, open emergency access, or none) and asks
 * {@link AccessPolicy#decide} with it. It reads metadata only (compartments, relationships,
 * grants), never a record, so a decision is made before any PHI is loaded.
 */
@Service
public class RecordAccess {

    private final AccessPolicy policy;
    private final CareRelationships relationships;
    private final BreakGlass breakGlass;

    RecordAccess(AccessPolicy policy, CareRelationships relationships, BreakGlass breakGlass) {
        this.policy = policy;
        this.relationships = relationships;
        this.breakGlass = breakGlass;
    }

    /**
     * Decides one interaction on a record in {@code compartment} ({@code shared} or
     * {@code Patient/<uuid>}). Tries the relations the caller actually has, cheapest first, and
     * returns the first allowing decision (flagged break-glass when only emergency access allows
     * it), else the refusal of the most specific relation tried.
     */
    public AccessDecision decide(Caller caller, Interaction interaction, String type, String category,
            String compartment, InetAddress address, Instant at) {
        // An app's scopes narrow what the roles allow (never widen it): outside them, nothing else is asked.
        if (!caller.appScope().permits(interaction, type, compartment)) {
            return AccessDecision.deny(AppScope.OUTSIDE_APP_SCOPE);
        }
        if (!isPatient(compartment)) {
            return policy.decide(new AccessRequest(caller, interaction, type, category, address, at,
                    PatientRelation.NOT_PATIENT_DATA));
        }
        AccessDecision none = policy.decide(new AccessRequest(caller, interaction, type, category, address, at,
                PatientRelation.NONE));
        if (none.allowed()) {
            return none;
        }
        AccessDecision refusal = none;
        if (relationships.related(caller, compartment)) {
            AccessDecision care = policy.decide(new AccessRequest(caller, interaction, type, category, address, at,
                    PatientRelation.CARE_RELATIONSHIP));
            if (care.allowed()) {
                return care;
            }
            refusal = care;
        }
        // Emergency access is the person's, for their own eyes: an app never reaches a patient
        // through it (the app could read on, unattended, for as long as the grant is open).
        if (!caller.appScope().narrows() && breakGlass.openGrant(caller, compartment, at).isPresent()) {
            AccessDecision glass = policy.decide(new AccessRequest(caller, interaction, type, category, address, at,
                    PatientRelation.BREAK_GLASS));
            if (glass.allowed()) {
                return new AccessDecision(true, glass.reason(), true);
            }
            refusal = glass;
        }
        return refusal;
    }

    /**
     * The scope of a search (or any interaction over many records) of {@code type}: each relation
     * the policy allows adds the records it covers. Empty, with the policy's reason, if none does.
     *
     * @param patientType whether records of this type can belong to a patient at all
     */
    public PatientScope scope(Caller caller, Interaction interaction, String type, String category, boolean patientType,
            InetAddress address, Instant at) {
        // An app's scopes narrow the roles' scope: to nothing, or to the patient in context.
        java.util.Optional<String> app = caller.appScope().searchCompartment(interaction, type);
        if (app.isEmpty()) {
            return PatientScope.none(caller, AppScope.OUTSIDE_APP_SCOPE);
        }
        PatientScope byRoles = scopeByRoles(caller, interaction, type, category, patientType, address, at);
        return app.get().isEmpty() || byRoles.empty() ? byRoles : byRoles.onlyPatient(app.get());
    }

    private PatientScope scopeByRoles(Caller caller, Interaction interaction, String type, String category,
            boolean patientType, InetAddress address, Instant at) {
        AccessDecision shared = policy.decide(new AccessRequest(caller, interaction, type, category, address, at,
                PatientRelation.NOT_PATIENT_DATA));
        if (!patientType) {
            return new PatientScope(caller, shared.allowed(), false, false, Set.of(), shared.reason());
        }
        AccessDecision all = policy.decide(new AccessRequest(caller, interaction, type, category, address, at,
                PatientRelation.NONE));
        if (all.allowed()) {
            return new PatientScope(caller, shared.allowed(), true, false, Set.of(), all.reason());
        }
        AccessDecision care = policy.decide(new AccessRequest(caller, interaction, type, category, address, at,
                PatientRelation.CARE_RELATIONSHIP));
        AccessDecision glass = policy.decide(new AccessRequest(caller, interaction, type, category, address, at,
                PatientRelation.BREAK_GLASS));
        Set<String> emergency = Set.of();
        if (glass.allowed() && !caller.appScope().narrows()) {
            Set<String> open = new HashSet<>(breakGlass.openPatients(caller, at));
            if (care.allowed() && !open.isEmpty()) {
                open.removeAll(relationships.patientsOf(caller));
            }
            emergency = open;
        }
        return new PatientScope(caller, shared.allowed(), false, care.allowed(), emergency, care.reason());
    }

    /**
     * Whether the caller may open emergency access at all: the policy must let them read a
     * patient under {@link PatientRelation#BREAK_GLASS} from where they are (IP range).
     */
    public AccessDecision mayOpenBreakGlass(Caller caller, InetAddress address, Instant at) {
        // Emergency access is a person's decision, never an app's (SMART scopes cannot ask for it).
        if (caller.appScope().narrows()) {
            return AccessDecision.deny(AppScope.OUTSIDE_APP_SCOPE);
        }
        return policy.decide(new AccessRequest(caller, Interaction.READ, "Patient", null, address, at,
                PatientRelation.BREAK_GLASS));
    }

    /** Whether the caller holds a permission that is not an interaction ({@code view:ssn}, ...). */
    public boolean grants(Caller caller, String permission, InetAddress address, Instant at) {
        return policy.grants(caller, permission, address, at);
    }

    private static boolean isPatient(String compartment) {
        return compartment != null && compartment.startsWith("Patient/");
    }
}
