package health.carapace.records.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

/**
 * One rule decides what an SSN is: masking on read, refusing a search, keeping values out of
 * links and restoring masks on writes all ask {@link SsnRule}, and nothing else in the records
 * module knows an SSN system, OID, type or pattern (issue 12, finding 2).
 */
class SsnRuleTest {

    private static final FhirContext FHIR = FhirContext.forR4Cached();

    private static final List<String> SYSTEMS = List.of("http://hl7.org/fhir/sid/us-ssn", "HTTP://HL7.ORG/FHIR/SID/US-SSN",
            "http://hl7.org/fhir/sid/us-ssn/", "https://hl7.org/fhir/sid/us-ssn", " http://hl7.org/fhir/sid/us-ssn ",
            "urn:oid:2.16.840.1.113883.4.1", "URN:OID:2.16.840.1.113883.4.1", "2.16.840.1.113883.4.1",
            "urn:carapace:mrn", "urn:zq:custom", "http://hl7.org/fhir/sid/us-npi", "urn:oid:2.16.840.1.113883.4.10", "");

    @Test
    void whatMaskingHidesIsExactlyWhatASearchWithoutViewSsnIsRefusedFor() {
        for (String system : SYSTEMS) {
            Patient patient = new Patient();
            patient.addIdentifier().setSystem(system.isEmpty() ? null : system).setValue("X12");
            SsnMasking.maskAll(FHIR, patient);
            boolean masked = !patient.getIdentifierFirstRep().getValue().equals("X12");
            boolean refused = AccessEnforcement.searchesSsn(Map.of("identifier", new String[] {system + "|X12"}));
            assertThat(refused).as(system).isEqualTo(masked)
                    .isEqualTo(SsnRule.isSsnSystem(system));
        }
        assertThat(SsnRule.isSsnSystem("HTTP://HL7.ORG/FHIR/SID/US-SSN/")).isTrue();
        assertThat(SsnRule.isSsnSystem("http://hl7.org/fhir/sid/us-ssnx")).isFalse();
    }

    @Test
    void anIdentifierTypedSsIsAnSsnWhateverItsSystemAndItsValueShapeIsRefusedInASearch() {
        Identifier typed = new Identifier().setSystem("urn:zq:custom").setValue("111-22-3333");
        typed.getType().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/v2-0203").setCode("SS");
        assertThat(SsnRule.isSsn(typed)).isTrue();
        for (String value : List.of("111-22-3333", "111223333", "111 22 3333", "111.22.3333", " 111223333 ")) {
            assertThat(AccessEnforcement.searchesSsn(Map.of("identifier", new String[] {"urn:zq:custom|" + value})))
                    .as(value).isTrue();
            assertThat(SsnRule.searchMayCarrySsn(Map.of("family", new String[] {value}))).as(value).isTrue();
        }
        for (String value : List.of("MRN-1234", "11122333", "1112233334", "A111223333")) {
            assertThat(AccessEnforcement.searchesSsn(Map.of("identifier", new String[] {"urn:zq:custom|" + value})))
                    .as(value).isFalse();
        }
        // without a system a value could match an SSN: refused whatever it looks like
        assertThat(AccessEnforcement.searchesSsn(Map.of("identifier", new String[] {"MRN-1234"}))).isTrue();
        assertThat(AccessEnforcement.searchesSsn(Map.of("identifier:of-type", new String[] {"a|b|111223333"}))).isTrue();
    }

    @Test
    void masksSentBackAreRestoredOnlyWhenTheyStandForTheStoredValues() {
        Patient stored = new Patient();
        stored.addIdentifier().setSystem("urn:oid:2.16.840.1.113883.4.1").setValue("123-45-6789");
        Patient sent = stored.copy();
        SsnMasking.maskAll(FHIR, sent);
        assertThat(sent.getIdentifierFirstRep().getValue()).isEqualTo("***-**-6789");
        assertThat(MaskedWriteBack.restore(FHIR, stored, sent)).isEmpty();
        assertThat(sent.getIdentifierFirstRep().getValue()).isEqualTo("123-45-6789");

        Patient guessed = stored.copy();
        assertThat(MaskedWriteBack.restore(FHIR, stored, guessed)).contains(MaskedWriteBack.CHANGE_REFUSED);
        assertThat(MaskedWriteBack.restore(FHIR, null, sent.copy().setIdentifier(List.of(
                new Identifier().setSystem("http://hl7.org/fhir/sid/us-ssn").setValue("***-**-6789")))))
                .contains(MaskedWriteBack.MASK_REFUSED);
        assertThat(MaskedWriteBack.restore(FHIR, null, stored.copy())).isEqualTo(Optional.empty());
    }

    /**
     * "The same code path", literally: no other class of the records module carries an SSN
     * system, OID, type code system or pattern of its own that could drift from the rule.
     */
    @Test
    void noClassButTheRuleKnowsWhatAnSsnLooksLike() throws IOException, URISyntaxException {
        Path classes = Path.of(SsnRule.class.getResource("SsnRule.class").toURI()).getParent();
        List<String> knowing = new ArrayList<>();
        try (Stream<Path> files = Files.list(classes)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String constants;
                try (InputStream in = Files.newInputStream(file)) {
                    constants = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                }
                if (Stream.of("us-ssn", "2.16.840.1.113883.4.1", "v2-0203", "[0-9]{3}").anyMatch(constants::contains)) {
                    knowing.add(file.getFileName().toString());
                }
            }
        }
        assertThat(knowing).containsExactly("SsnRule.class");
    }
}
