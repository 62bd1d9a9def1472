package health.carapace.records.internal;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;

/**
 * The one rule for "is this a Social Security number", used by everything that protects SSNs:
 * masking on the way out ({@link SsnMasking}), refusing searches that could confirm one
 * ({@link AccessEnforcement}), keeping searched values out of {@code Bundle.link}
 * ({@link SsnFreeLinks}) and keeping masked values from being written back
 * ({@link MaskedWriteBack}). Anything that decides about SSNs asks here, so a spelling the mask
 * recognises is a spelling the search refuses, and the other way round.
 *
 * <p>An SSN is an identifier in the us-ssn namespace, however the system is spelled (case,
 * trailing slash, {@code https}, the OID with or without {@code urn:oid:}), or one typed
 * {@code SS} in HL7 v2-0203 whatever its system. In free text (the narrative), and as a searched
 * value, anything shaped like one (nine digits, optionally grouped 3-2-4 by dashes or spaces)
 * counts: a number cannot be told apart from an SSN by its looks, so it is treated as one.
 */
final class SsnRule {

    /** The canonical us-ssn system, as FHIR writes it. */
    static final String SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn";
    /** The same namespace as an OID (HL7 v2 and CDA feeds send this one). */
    static final String SSN_OID = "2.16.840.1.113883.4.1";

    /** Identifier type "SS" (Social Security number) in HL7's v2-0203 table, by URL and by OID. */
    private static final Set<String> V2_0203 = Set.of("terminology.hl7.org/codesystem/v2-0203",
            "hl7.org/fhir/v2/0203", "2.16.840.1.113883.18.108");

    /** An SSN written out in free text, with or without separators (the same ones throughout). */
    private static final Pattern SSN_TEXT =
            Pattern.compile("(?<![0-9])[0-9]{3}([- ]?)[0-9]{2}\\1[0-9]{4}(?![0-9])");
    /** What {@link #masked} writes, as found in text sent back to the server. */
    private static final Pattern MASK_TEXT = Pattern.compile("\\*\\*\\*-\\*\\*-[0-9*]{4}");
    /** A whole searched value that is an SSN: nine digits, any of them separated by dashes, spaces or dots. */
    private static final Pattern SSN_SHAPED = Pattern.compile("\\s*(?:[0-9][\\s.-]*){8}[0-9]\\s*");

    private SsnRule() {
    }

    /** An SSN: in the us-ssn namespace (any spelling), or typed SS whatever its system. */
    static boolean isSsn(Identifier identifier) {
        return isSsnSystem(identifier.getSystem()) || (identifier.hasType()
                && identifier.getType().getCoding().stream().anyMatch(SsnRule::isSsType));
    }

    /**
     * Whether a system names the us-ssn namespace: compared without case, scheme, {@code www.},
     * trailing slashes or {@code urn:oid:}, so that no spelling slips past a check the canonical
     * one would meet.
     */
    static boolean isSsnSystem(String system) {
        String canonical = canonicalSystem(system);
        return canonical.equals("hl7.org/fhir/sid/us-ssn") || canonical.equals(SSN_OID);
    }

    private static boolean isSsType(Coding coding) {
        return coding.hasCode() && coding.getCode().trim().equalsIgnoreCase("SS")
                && V2_0203.contains(canonicalSystem(coding.getSystem()));
    }

    private static String canonicalSystem(String system) {
        if (system == null) {
            return "";
        }
        String s = system.trim().toLowerCase(Locale.ROOT);
        for (String prefix : List.of("urn:oid:", "https://", "http://", "www.")) {
            if (s.startsWith(prefix)) {
                s = s.substring(prefix.length());
            }
        }
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return s;
    }

    /** {@code ***-**-} and the last four digits; fewer than four digits are all masked. */
    static String masked(String ssn) {
        String digits = ssn.replaceAll("[^0-9]", "");
        return "***-**-" + (digits.length() >= 4 ? digits.substring(digits.length() - 4) : "****");
    }

    /** Whether a value holds a mask written by {@link #masked} (never a real value). */
    static boolean holdsMask(String value) {
        return value != null && MASK_TEXT.matcher(value).find();
    }

    /** Free text with every SSN-shaped number in it masked. */
    static String maskText(String text) {
        return SSN_TEXT.matcher(text).replaceAll(match -> Matcher.quoteReplacement(masked(match.group())));
    }

    /** The SSN-shaped numbers in free text, in order. */
    static List<String> ssnsInText(String text) {
        return SSN_TEXT.matcher(text).results().map(m -> m.group()).toList();
    }

    /** The masks in free text sent back to the server, in order. */
    static List<String> masksInText(String text) {
        return MASK_TEXT.matcher(text).results().map(m -> m.group()).toList();
    }

    /** Free text with its masks replaced, in order, by {@code originals}. */
    static String unmaskText(String text, List<String> originals) {
        var next = originals.iterator();
        return MASK_TEXT.matcher(text).replaceAll(match -> Matcher.quoteReplacement(next.next()));
    }

    /** Whether a searched value, as a whole, is shaped like an SSN (whatever separators it uses). */
    static boolean isSsnShaped(String value) {
        return value != null && SSN_SHAPED.matcher(value).matches();
    }

    /**
     * Whether search parameters could confirm an SSN: an {@code identifier} criterion (of any
     * resource type) with any modifier, without a system, in the us-ssn namespace, or with an SSN-shaped value
     * whatever the system (the type {@code SS} that makes a custom system's identifier an SSN is
     * not in the query, so the value decides).
     */
    static boolean searchNamesSsn(Map<String, String[]> parameters) {
        for (var entry : parameters.entrySet()) {
            String[] nameAndModifier = entry.getKey().split(":", 2);
            if (!nameAndModifier[0].equals("identifier")) {
                continue;
            }
            if (nameAndModifier.length > 1 || entry.getValue() == null) {
                // :of-type can name the type SS itself, :text matches anything: fail closed
                return true;
            }
            for (String value : entry.getValue()) {
                for (String alternative : RecordSearch.splitOr(value == null ? "" : value)) {
                    int bar = alternative.indexOf('|');
                    if (bar < 0 || isSsnSystem(alternative.substring(0, bar))
                            || isSsnShaped(alternative.substring(bar + 1))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * Whether a search's criteria might carry an SSN, so that they must not be echoed (in
     * {@code Bundle.link}): any identifier criterion, and any SSN-shaped value of any parameter.
     */
    static boolean searchMayCarrySsn(Map<String, String[]> parameters) {
        for (var entry : parameters.entrySet()) {
            if (entry.getKey().split(":", 2)[0].equals("identifier")) {
                return true;
            }
            if (entry.getValue() == null) {
                continue;
            }
            for (String value : entry.getValue()) {
                if (value != null && (isSsnShaped(value) || SSN_TEXT.matcher(value).find()
                        || RecordSearch.splitOr(value).stream().anyMatch(SsnRule::isSsnShaped))) {
                    return true;
                }
            }
        }
        return false;
    }
}
