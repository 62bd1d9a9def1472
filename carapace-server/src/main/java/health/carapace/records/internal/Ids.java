package health.carapace.records.internal;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.regex.Pattern;

/** Resource ids are server-assigned UUIDs; anything else cannot name a stored resource. */
final class Ids {

    private static final Pattern UUID_FORM =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private Ids() {
    }

    static Optional<UUID> parse(String id) {
        if (id == null || !UUID_FORM.matcher(id).matches()) {
            return Optional.empty();
        }
        return Optional.of(UUID.fromString(id));
    }

    /**
     * A version number as the store numbers versions: decimal digits only, within a long. Anything
     * else (a sign, letters, a number too large for a long) names no version, so it is empty and
     * answered like any missing version, after the decision on the type alone. HAPI's
     * {@code isVersionIdPartValidLong} checks the digits only, and the overflow was a
     * NumberFormatException (500) before the permission decision.
     */
    static OptionalLong version(String version) {
        if (version == null || version.isEmpty() || version.length() > 19 || !version.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(version));
        } catch (NumberFormatException tooLarge) {
            return OptionalLong.empty();
        }
    }

    static UUID require(String id) {
        return parse(id).orElseThrow(SafeFhirException::notFound);
    }
}
