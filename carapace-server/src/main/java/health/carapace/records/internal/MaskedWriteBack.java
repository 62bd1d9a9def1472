package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Resource;

/**
 * What a caller without {@code view:ssn} may write where SSNs are concerned (ADR 0012). Such a
 * caller only ever saw SSNs masked ({@link SsnMasking}), so a resource it sends back carries
 * masks, and storing them would replace the real values for everyone, in every later version.
 * Every write of a resource (create, update, bundle entries, and any future write such as PATCH
 * or conditional update, which must end in {@link RecordStore#create} or
 * {@link RecordStore#update}) is reconciled here against the current stored version before it is
 * encrypted:
 * <ul>
 *   <li>each SSN identifier of the stored version must come back as the caller saw it (the mask
 *       of its value, same system and type) and is restored to the stored value; one removed,
 *       changed or sent in clear instead of masked is refused ({@value #CHANGE_REFUSED});</li>
 *   <li>the narrative ({@code text.div}, masked on read) likewise: its masks must stand, in
 *       order, in its text (never in an attribute value such as an image or link URL, nor a
 *       comment), for the SSN-shaped numbers of the stored narrative, and are restored there;
 *       text around them may change ({@link SsnRule#restoreNarrative});</li>
 *   <li>an SSN the caller adds in clear (a value it knows: registering a patient's card) is kept;
 *       an SSN identifier whose value is a mask with no stored value behind it is refused
 *       ({@value #MASK_REFUSED}), because a mask is never a value;</li>
 *   <li>contained resources are reconciled one by one, matched by their local id.</li>
 * </ul>
 * Every decision depends only on what the caller saw (masks), never on the hidden value, so the
 * outcome of a write cannot be used to confirm a guessed SSN.
 */
final class MaskedWriteBack {

    /** Refusal code: a stored SSN would be removed or changed by a caller who cannot see it. */
    static final String CHANGE_REFUSED = "ssn-change-needs-view-ssn";
    /** Refusal code: a masked value would be stored where there is no stored value to restore. */
    static final String MASK_REFUSED = "masked-ssn-cannot-be-stored";

    private MaskedWriteBack() {
    }

    /**
     * Restores, in {@code incoming}, the stored values behind the masks of a caller without
     * {@code view:ssn}. {@code stored} is the current version (null for a create, or when the
     * resource is deleted). Returns the refusal code if the write must be refused; the resource
     * may then be partly restored and must be discarded.
     */
    static Optional<String> restore(FhirContext fhir, Resource stored, Resource incoming) {
        Map<String, Resource> storedParts = parts(stored);
        Map<String, Resource> incomingParts = parts(incoming);
        for (var part : storedParts.entrySet()) {
            Resource sent = incomingParts.get(part.getKey());
            Optional<String> refusal = restorePart(fhir, part.getValue(), sent);
            if (refusal.isPresent()) {
                return refusal;
            }
        }
        for (var part : incomingParts.entrySet()) {
            if (!storedParts.containsKey(part.getKey())) {
                Optional<String> refusal = restorePart(fhir, null, part.getValue());
                if (refusal.isPresent()) {
                    return refusal;
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<String> restorePart(FhirContext fhir, Resource stored, Resource sent) {
        List<Identifier> storedSsns = stored == null ? List.of()
                : ownIdentifiers(fhir, stored).stream().filter(i -> SsnRule.isSsn(i) && i.hasValue()).toList();
        List<Identifier> sentIdentifiers = sent == null ? List.of() : ownIdentifiers(fhir, sent);
        Set<Identifier> restored = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Identifier original : storedSsns) {
            String mask = SsnRule.masked(original.getValue());
            Optional<Identifier> echo = sentIdentifiers.stream()
                    .filter(i -> !restored.contains(i) && mask.equals(i.getValue())
                            && java.util.Objects.equals(original.getSystem(), i.getSystem())
                            && original.getType().equalsDeep(i.getType()))
                    .findFirst();
            if (echo.isEmpty()) {
                return Optional.of(CHANGE_REFUSED);
            }
            echo.get().setValue(original.getValue());
            restored.add(echo.get());
        }
        for (Identifier other : sentIdentifiers) {
            if (!restored.contains(other) && SsnRule.isSsn(other) && SsnRule.holdsMask(other.getValue())) {
                return Optional.of(MASK_REFUSED);
            }
        }
        Optional<String> strings = restoreStrings(stored, sent);
        if (strings.isPresent()) {
            return strings;
        }
        return restoreNarrative(stored, sent);
    }

    /** SSN-bearing strings outside identifiers ({@link SsnBearingStrings}): the same rule, by key. */
    private static Optional<String> restoreStrings(Resource stored, Resource sent) {
        Map<String, org.hl7.fhir.r4.model.StringType> storedStrings = stored == null ? Map.of() : SsnBearingStrings.of(stored);
        Map<String, org.hl7.fhir.r4.model.StringType> sentStrings = sent == null ? Map.of() : SsnBearingStrings.of(sent);
        Set<String> restored = new java.util.HashSet<>();
        for (var original : storedStrings.entrySet()) {
            if (!SsnBearingStrings.holdsSsn(original.getValue())) {
                continue;
            }
            var echo = sentStrings.get(original.getKey());
            if (echo == null || !SsnRule.masked(original.getValue().getValue()).equals(echo.getValue())) {
                return Optional.of(CHANGE_REFUSED);
            }
            echo.setValue(original.getValue().getValue());
            restored.add(original.getKey());
        }
        for (var other : sentStrings.entrySet()) {
            if (!restored.contains(other.getKey()) && SsnRule.holdsMask(other.getValue().getValue())) {
                return Optional.of(MASK_REFUSED);
            }
        }
        return Optional.empty();
    }

    private static Optional<String> restoreNarrative(Resource stored, Resource sent) {
        List<List<String>> storedSsns = stored instanceof DomainResource domain && domain.hasText()
                && domain.getText().hasDiv() ? SsnRule.ssnsInNarrative(domain.getText().getDiv()) : List.of();
        if (storedSsns.isEmpty()) {
            return Optional.empty(); // nothing hidden from the caller: its narrative is its own
        }
        if (!(sent instanceof DomainResource domain) || !domain.hasText() || !domain.getText().hasDiv()
                || !SsnRule.restoreNarrative(domain.getText().getDiv(), storedSsns)) {
            return Optional.of(CHANGE_REFUSED);
        }
        return Optional.empty();
    }

    /** The resource and each contained resource, by local id ("" for the resource itself). */
    private static Map<String, Resource> parts(Resource resource) {
        Map<String, Resource> parts = new LinkedHashMap<>();
        if (resource == null) {
            return parts;
        }
        parts.put("", resource);
        if (resource instanceof DomainResource domain) {
            for (Resource contained : domain.getContained()) {
                String id = contained.getIdElement().getIdPart();
                // a contained resource without a usable id cannot be matched: it counts as new
                parts.putIfAbsent(id == null ? "#" + parts.size() : "#" + id, contained);
            }
        }
        return parts;
    }

    /** The identifiers anywhere in a resource, but not those of resources it contains. */
    private static List<Identifier> ownIdentifiers(FhirContext fhir, Resource resource) {
        var terser = fhir.newTerser();
        List<Identifier> all = new ArrayList<>(terser.getAllPopulatedChildElementsOfType(resource, Identifier.class));
        if (resource instanceof DomainResource domain && domain.hasContained()) {
            Set<Identifier> nested = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Resource contained : domain.getContained()) {
                nested.addAll(terser.getAllPopulatedChildElementsOfType(contained, Identifier.class));
            }
            all.removeIf(nested::contains);
        }
        return all;
    }
}
