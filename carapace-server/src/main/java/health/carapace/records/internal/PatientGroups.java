package health.carapace.records.internal;

import health.carapace.records.Compartment;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.Resource;

/**
 * Groups of patients (issue #18, ADR 0027): a Group stored here is a group of patients
 * ({@code type = person}) whose every member is a Patient on this server (the reference rule,
 * {@link LocalReferences}, checks that they exist). A Group is in the shared compartment and is
 * read whole, so its permissions ({@code view:groups}, {@code edit:groups}) are only given to roles
 * that reach every patient; the export decides each member again.
 */
final class PatientGroups {

    private PatientGroups() {
    }

    /** Refuses (400, naming the element, never the value) a Group that is not a group of patients. */
    static void check(Resource resource) {
        if (!(resource instanceof Group group)) {
            return;
        }
        if (group.getType() != Group.GroupType.PERSON) {
            throw SafeFhirException.structure("This server keeps groups of patients only: Group.type must be 'person'",
                    "Group.type");
        }
        for (Group.GroupMemberComponent member : group.getMember()) {
            if (patient(member).isEmpty()) {
                throw SafeFhirException.structure(
                        "Every Group.member.entity must reference a Patient on this server (Patient/id)",
                        "Group.member.entity");
            }
        }
    }

    /** The compartments of the group's members not marked inactive, each once, in compartment order. */
    static List<Compartment> activeMembers(Group group) {
        TreeSet<String> members = new TreeSet<>();
        for (Group.GroupMemberComponent member : group.getMember()) {
            if (!member.getInactive()) {
                patient(member).ifPresent(id -> members.add(new Compartment(id).toString()));
            }
        }
        return members.stream().map(Compartment::parse).toList();
    }

    private static Optional<UUID> patient(Group.GroupMemberComponent member) {
        var reference = member.getEntity().getReferenceElement();
        if (!member.getEntity().hasReference() || reference.isAbsolute() || reference.hasVersionIdPart()
                || !"Patient".equals(reference.getResourceType())) {
            return Optional.empty();
        }
        return Ids.parse(reference.getIdPart());
    }
}
