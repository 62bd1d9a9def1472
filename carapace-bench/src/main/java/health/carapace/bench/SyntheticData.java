package health.carapace.bench;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Realistic, made-up FHIR resources from a fixed seed: names, medical record numbers, addresses,
 * LOINC-coded vital signs and laboratory results with plausible values and dates.
 *
 * <p>Every resource is a pure function of (seed, stream, index): it draws from its own random
 * generator derived from those three, so the same seed gives the same data whatever the order
 * or the thread that asks, and the resources a run seeds never collide with the ones it creates
 * under load. The JSON is written by hand, on purpose: the bench has no FHIR model, so that
 * generating load costs the load generator as little as possible.
 */
final class SyntheticData {

    /** Which series of records a number belongs to; keeps seeded and created records apart. */
    enum Stream {
        /** Records the read and search workloads create before measuring, then draw from. */
        DATASET(1),
        /** Records the create workloads send under load. */
        CREATED(2);

        private final int digit;

        Stream(int digit) {
            this.digit = digit;
        }
    }

    static final String MRN_SYSTEM = "http://hospital.example.org/fhir/sid/mrn";

    /** A Patient split around its medical record number, so each create can carry a new one cheaply. */
    record PatientTemplate(byte[] beforeMrn, byte[] afterMrn) {}

    /** An Observation split around its subject's id, so any seeded patient can be its subject. */
    record ObservationTemplate(byte[] beforeSubjectId, byte[] afterSubjectId) {}

    private record Vital(String loinc, String display, String category, String unit, double low, double high,
            int decimals) {}

    private static final List<String> FEMALE_GIVEN = List.of("Mary", "Patricia", "Jennifer", "Linda", "Elizabeth",
            "Barbara", "Susan", "Jessica", "Sarah", "Karen", "Lisa", "Nancy", "Betty", "Margaret", "Sandra", "Ashley",
            "Emily", "Donna", "Michelle", "Carol", "Amanda", "Melissa", "Deborah", "Stephanie", "Rebecca", "Laura",
            "Sofia", "Aisha", "Mei", "Priya", "Fatima", "Ana", "Chloé", "Ingrid", "Yuki");
    private static final List<String> MALE_GIVEN = List.of("James", "Robert", "John", "Michael", "David", "William",
            "Richard", "Joseph", "Thomas", "Charles", "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Donald",
            "Steven", "Paul", "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald",
            "Mateo", "Omar", "Wei", "Arjun", "Kwame", "José", "Lars", "Hiroshi", "Dmitri");
    private static final List<String> FAMILY = List.of("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia",
            "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
            "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris",
            "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
            "Nguyen", "Patel", "Kim", "Chen", "Okafor", "Müller", "O'Brien", "Novak", "Kowalski", "Haddad");
    private static final List<String> STREETS = List.of("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St",
            "Elm St", "Washington Blvd", "Lakeview Rd", "Hillside Ave", "Park Pl", "River Rd", "Sunset Blvd");
    private static final List<String[]> CITIES = List.of(new String[] {"Springfield", "IL", "627"},
            new String[] {"Portland", "OR", "972"}, new String[] {"Austin", "TX", "787"},
            new String[] {"Columbus", "OH", "432"}, new String[] {"Madison", "WI", "537"},
            new String[] {"Raleigh", "NC", "276"}, new String[] {"Denver", "CO", "802"},
            new String[] {"Boston", "MA", "021"}, new String[] {"Sacramento", "CA", "958"},
            new String[] {"Albany", "NY", "122"});
    private static final List<Vital> VITALS = List.of(
            new Vital("8867-4", "Heart rate", "vital-signs", "/min", 48, 118, 0),
            new Vital("8480-6", "Systolic blood pressure", "vital-signs", "mm[Hg]", 95, 175, 0),
            new Vital("8462-4", "Diastolic blood pressure", "vital-signs", "mm[Hg]", 55, 105, 0),
            new Vital("8310-5", "Body temperature", "vital-signs", "Cel", 35.8, 39.2, 1),
            new Vital("9279-1", "Respiratory rate", "vital-signs", "/min", 11, 26, 0),
            new Vital("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "vital-signs", "%", 88, 100, 0),
            new Vital("29463-7", "Body weight", "vital-signs", "kg", 45, 140, 1),
            new Vital("8302-2", "Body height", "vital-signs", "cm", 150, 198, 1),
            new Vital("39156-5", "Body mass index (BMI) [Ratio]", "vital-signs", "kg/m2", 17, 42, 1),
            new Vital("2339-0", "Glucose [Mass/volume] in Blood", "laboratory", "mg/dL", 65, 240, 0),
            new Vital("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "laboratory", "mg/dL", 120, 290, 0),
            new Vital("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "laboratory", "%", 4.5, 11.5, 1),
            new Vital("718-7", "Hemoglobin [Mass/volume] in Blood", "laboratory", "g/dL", 9, 18, 1),
            new Vital("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "laboratory", "mg/dL", 0.5, 2.4, 2));
    private static final LocalDate OLDEST_BIRTH = LocalDate.of(1930, 1, 1);
    private static final long BIRTH_SPAN_DAYS = ChronoUnit.DAYS.between(OLDEST_BIRTH, LocalDate.of(2023, 12, 31));
    private static final LocalDateTime FIRST_OBSERVATION = LocalDateTime.of(2019, 1, 1, 0, 0);
    private static final long OBSERVATION_SPAN_MINUTES = 6L * 365 * 24 * 60;

    private final long seed;
    /** Four digits of every MRN, derived from the seed, so runs with different seeds rarely share numbers. */
    private final int facility;

    SyntheticData(long seed) {
        this.seed = seed;
        this.facility = (int) Math.floorMod(mix(seed), 10_000L);
    }

    long seed() {
        return seed;
    }

    /**
     * The medical record number of record {@code index} of {@code stream}: twelve digits, unique
     * within a stream and a seed, never equal across streams.
     */
    String mrn(Stream stream, long index) {
        if (index < 0 || index >= 10_000_000L) {
            throw new IllegalArgumentException("record index out of range: " + index);
        }
        // Called once per create under load: plain arithmetic rather than String.format.
        char[] digits = new char[12];
        digits[0] = (char) ('0' + stream.digit);
        long rest = facility * 10_000_000L + index;
        for (int i = 11; i > 0; i--) {
            digits[i] = (char) ('0' + rest % 10);
            rest /= 10;
        }
        return new String(digits);
    }

    /** The complete Patient JSON of record {@code index} of {@code stream}. */
    String patient(Stream stream, long index) {
        PatientTemplate template = patientTemplate(stream, index);
        return new String(template.beforeMrn(), StandardCharsets.UTF_8) + mrn(stream, index)
                + new String(template.afterMrn(), StandardCharsets.UTF_8);
    }

    /** Patient {@code index} of {@code stream}, split around its MRN. */
    PatientTemplate patientTemplate(Stream stream, long index) {
        SplittableRandom random = randomFor(stream, 'P', index);
        boolean female = random.nextBoolean();
        String given = pick(random, female ? FEMALE_GIVEN : MALE_GIVEN);
        String middle = pick(random, female ? FEMALE_GIVEN : MALE_GIVEN);
        String family = pick(random, FAMILY);
        LocalDate birthDate = OLDEST_BIRTH.plusDays(random.nextLong(BIRTH_SPAN_DAYS));
        String[] city = pick(random, CITIES);
        String street = (1 + random.nextInt(9_899)) + " " + pick(random, STREETS);
        String postalCode = city[2] + String.format(Locale.ROOT, "%02d", random.nextInt(100));
        String phone = String.format(Locale.ROOT, "555-%03d-%04d", 200 + random.nextInt(800), random.nextInt(10_000));

        StringBuilder before = new StringBuilder(512)
                .append("{\"resourceType\":\"Patient\",\"identifier\":[{\"use\":\"usual\",")
                .append("\"type\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v2-0203\",\"code\":\"MR\"}]},")
                .append("\"system\":").append(quote(MRN_SYSTEM)).append(",\"value\":\"");
        StringBuilder after = new StringBuilder(512)
                .append("\"}],\"active\":true,\"name\":[{\"use\":\"official\",\"family\":").append(quote(family))
                .append(",\"given\":[").append(quote(given)).append(',').append(quote(middle)).append("]}],")
                .append("\"telecom\":[{\"system\":\"phone\",\"value\":").append(quote(phone)).append(",\"use\":\"home\"}],")
                .append("\"gender\":").append(quote(female ? "female" : "male")).append(',')
                .append("\"birthDate\":").append(quote(birthDate.toString())).append(',')
                .append("\"address\":[{\"use\":\"home\",\"line\":[").append(quote(street)).append("],")
                .append("\"city\":").append(quote(city[0])).append(",\"state\":").append(quote(city[1]))
                .append(",\"postalCode\":").append(quote(postalCode)).append(",\"country\":\"US\"}]}");
        return new PatientTemplate(utf8(before), utf8(after));
    }

    /** The complete Observation JSON of record {@code index} of {@code stream}, about {@code patientId}. */
    String observation(Stream stream, long index, String patientId) {
        ObservationTemplate template = observationTemplate(stream, index);
        return new String(template.beforeSubjectId(), StandardCharsets.UTF_8) + patientId
                + new String(template.afterSubjectId(), StandardCharsets.UTF_8);
    }

    /** Observation {@code index} of {@code stream}, split around its subject's id. */
    ObservationTemplate observationTemplate(Stream stream, long index) {
        SplittableRandom random = randomFor(stream, 'O', index);
        Vital vital = pick(random, VITALS);
        double value = vital.low() + random.nextDouble() * (vital.high() - vital.low());
        String effective = FIRST_OBSERVATION.plusMinutes(random.nextLong(OBSERVATION_SPAN_MINUTES))
                .atOffset(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        String categoryDisplay = vital.category().equals("laboratory") ? "Laboratory" : "Vital Signs";

        StringBuilder before = new StringBuilder(512)
                .append("{\"resourceType\":\"Observation\",\"status\":\"final\",")
                .append("\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/observation-category\",")
                .append("\"code\":").append(quote(vital.category())).append(",\"display\":").append(quote(categoryDisplay))
                .append("}]}],\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":").append(quote(vital.loinc()))
                .append(",\"display\":").append(quote(vital.display())).append("}],\"text\":").append(quote(vital.display()))
                .append("},\"subject\":{\"reference\":\"Patient/");
        StringBuilder after = new StringBuilder(256)
                .append("\"},\"effectiveDateTime\":").append(quote(effective)).append(',')
                .append("\"valueQuantity\":{\"value\":").append(formatDecimal(value, vital.decimals()))
                .append(",\"unit\":").append(quote(vital.unit())).append(",\"system\":\"http://unitsofmeasure.org\",")
                .append("\"code\":").append(quote(vital.unit())).append("}}");
        return new ObservationTemplate(utf8(before), utf8(after));
    }

    private SplittableRandom randomFor(Stream stream, char kind, long index) {
        return new SplittableRandom(mix(seed ^ mix(((long) stream.digit << 56) ^ ((long) kind << 48) ^ index)));
    }

    /** SplitMix64's finaliser: spreads nearby inputs (index 1, 2, 3...) over unrelated seeds. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private static <T> T pick(SplittableRandom random, List<T> values) {
        return values.get(random.nextInt(values.size()));
    }

    private static String formatDecimal(double value, int decimals) {
        return decimals == 0 ? Long.toString(Math.round(value)) : String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    private static byte[] utf8(CharSequence text) {
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A JSON string literal; the word lists are plain text, but an apostrophe or accent must survive. */
    static String quote(String value) {
        StringBuilder out = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
