package health.carapace.records.internal;

import health.carapace.access.CareRelationships;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * Keeps the care relationships in step with the records that assert them, in the write's own
 * transaction and from the plaintext the server holds at that moment: a CareTeam links each
 * {@code participant.member} that is a Practitioner to its {@code subject}; an Encounter links
 * each {@code participant.individual} that is a Practitioner to its {@code subject}. A CareTeam
 * that is inactive or entered in error, and an Encounter that was cancelled or entered in error,
 * assert nothing.
 */
final class CareTeamLinks {

    private final CareRelationships relationships;

    CareTeamLinks(CareRelationships relationships) {
        this.relationships = relationships;
    }

    /** @param practitioners {@link #practitioners} of the resource, worked out once by the write */
    void written(String type, UUID id, String compartment, Resource resource, List<UUID> practitioners) {
        if (!(resource instanceof CareTeam) && !(resource instanceof Encounter)) {
            return;
        }
        if (practitioners.isEmpty()) {
            relationships.remove(source(type, id));
            return;
        }
        relationships.replace(source(type, id), compartment.startsWith("Patient/") ? compartment : null, practitioners);
    }

    /**
     * The practitioners this resource puts in a care relationship with its subject: the members of
     * a CareTeam or the participants of an Encounter, none if it is not one, or inactive,
     * cancelled or entered in error.
     */
    static List<UUID> practitioners(Resource resource) {
        List<Reference> members = new ArrayList<>();
        if (resource instanceof CareTeam team) {
            if (team.getStatus() == CareTeam.CareTeamStatus.INACTIVE
                    || team.getStatus() == CareTeam.CareTeamStatus.ENTEREDINERROR) {
                return List.of();
            }
            team.getParticipant().forEach(p -> members.add(p.getMember()));
        } else if (resource instanceof Encounter encounter) {
            if (encounter.getStatus() == Encounter.EncounterStatus.CANCELLED
                    || encounter.getStatus() == Encounter.EncounterStatus.ENTEREDINERROR) {
                return List.of();
            }
            encounter.getParticipant().forEach(p -> members.add(p.getIndividual()));
        }
        List<UUID> practitioners = new ArrayList<>();
        for (Reference member : members) {
            if (member != null && member.hasReference()
                    && "Practitioner".equals(member.getReferenceElement().getResourceType())) {
                Ids.parse(member.getReferenceElement().getIdPart()).ifPresent(practitioners::add);
            }
        }
        return practitioners;
    }

    void deleted(String type, UUID id) {
        if (type.equals("CareTeam") || type.equals("Encounter")) {
            relationships.remove(source(type, id));
        }
    }

    private static String source(String type, UUID id) {
        return type + "/" + id;
    }
}
