package health.carapace.audit;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.springframework.boot.json.JsonWriter;

/**
 * The accounting of disclosures (HIPAA §164.528) as JSON or CSV: for each disclosure the date,
 * the recipient, a description and the purpose. The window is six years back from today.
 */
public final class Disclosures {

    private Disclosures() {
    }

    private static final java.util.regex.Pattern PATIENT_ID = java.util.regex.Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    /**
     * The audit reference of a patient given as {@code ID} or {@code Patient/ID}.
     *
     * @throws IllegalArgumentException if it is not a Patient id (nothing else is looked up or echoed)
     */
    public static String patientReference(String patient) {
        String id = patient.startsWith("Patient/") ? patient.substring("Patient/".length()) : patient;
        if (!PATIENT_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("patient must be a Patient id");
        }
        return "Patient/" + id.toLowerCase(java.util.Locale.ROOT);
    }

    public static Instant windowStart(Instant now) {
        return now.atOffset(ZoneOffset.UTC).minusYears(6).toInstant();
    }

    private record Row(String date, String recipient, String description, String purpose) {}

    private static final JsonWriter<Row> ROW = JsonWriter.of(members -> {
        members.add("date", Row::date);
        members.add("recipient", Row::recipient);
        members.add("description", Row::description);
        members.add("purpose", Row::purpose);
    });

    private static Row row(AuditQueries.StoredEvent e) {
        return new Row(e.timestamp().toString(), e.user(), e.action() + " " + e.resource(),
                e.purposeOfUse() == null ? "not stated" : e.purposeOfUse());
    }

    public static String json(String patient, List<AuditQueries.StoredEvent> events) {
        // patient is a validated reference (patientReference), so it needs no escaping
        StringBuilder out = new StringBuilder("{\"patient\":\"").append(patientReference(patient))
                .append("\",\"disclosures\":[");
        for (int i = 0; i < events.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append(ROW.writeToString(row(events.get(i))));
        }
        return out.append("]}\n").toString();
    }

    public static String csv(List<AuditQueries.StoredEvent> events) {
        StringBuilder out = new StringBuilder("date,recipient,description,purpose\n");
        for (AuditQueries.StoredEvent e : events) {
            Row r = row(e);
            out.append(cell(r.date())).append(',').append(cell(r.recipient())).append(',')
                    .append(cell(r.description())).append(',').append(cell(r.purpose())).append('\n');
        }
        return out.toString();
    }

    /** RFC 4180 quoting, and no leading formula characters (CSV injection into spreadsheets). */
    private static String cell(String value) {
        String safe = value.isEmpty() || "=+-@".indexOf(value.charAt(0)) < 0 ? value : "'" + value;
        return "\"" + safe.replace("\"", "\"\"") + "\"";
    }
}
