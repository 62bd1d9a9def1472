package health.carapace.records.internal;

import java.util.Optional;
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

    static UUID require(String id) {
        return parse(id).orElseThrow(SafeFhirException::notFound);
    }
}
