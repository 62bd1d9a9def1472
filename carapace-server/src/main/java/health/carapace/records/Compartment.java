package health.carapace.records;

import java.util.Objects;
import java.util.UUID;

/**
 * A patient's compartment: every record that belongs to one patient, encrypted under that
 * patient's data keys and shredded with them. Written {@code Patient/<id>} where a string is
 * stored (the {@code compartment} columns, key names, audit events); made only from a Patient id,
 * so no other text can pass for one.
 */
public record Compartment(UUID patient) {

    private static final String PREFIX = "Patient/";

    public Compartment {
        Objects.requireNonNull(patient, "patient");
    }

    /** The compartment written {@code Patient/<uuid>}; refuses anything else. */
    public static Compartment parse(String text) {
        if (text == null || !text.startsWith(PREFIX)) {
            throw new IllegalArgumentException("not a patient compartment");
        }
        return new Compartment(UUID.fromString(text.substring(PREFIX.length())));
    }

    @Override
    public String toString() {
        return PREFIX + patient;
    }
}
