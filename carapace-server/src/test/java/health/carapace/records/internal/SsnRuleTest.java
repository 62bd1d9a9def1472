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
        // without a system: served unless SSN-shaped, since the match never counts an SSN (issue 17)
        assertThat(AccessEnforcement.searchesSsn(Map.of("identifier", new String[] {"MRN-1234"}))).isFalse();
        assertThat(AccessEnforcement.searchesSsn(Map.of("identifier", new String[] {"111-22-3333"}))).isTrue();
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

    @Test
    void anSsnIsRecognisedInAnyScriptWithAnySeparatorsAndAcrossInlineMarkup() {
        for (String spelling : List.of("871-23-4501", "871.23.4501", "871 23 4501", "871234501", "871-23 4501",
                "871\u201123\u20114501", "871\u201323\u20134501", "871\u00a023\u00a04501", "871/23/4501",
                "\uff18\uff17\uff11\uff12\uff13\uff14\uff15\uff10\uff11", "\u0668\u0667\u0661\u0662\u0663\u0664\u0665\u0660\u0661",
                "871\u200b23\u200b4501")) {
            assertThat(SsnRule.isSsnShaped(spelling)).as(spelling).isTrue();
            assertThat(masked("SSN " + spelling)).as(spelling).doesNotContain("871").contains("***");
        }
        assertThat(masked("SSN 871-23-<b>4501</b>")).contains("***-**-<b>4501</b>");
        assertThat(masked("<p>SSN 871-</p><p>23-4501</p>")).doesNotContain("871");
        assertThat(masked("<span title=\"871-23-4501\">x</span><!-- 871-23-4501 -->")).doesNotContain("871");
        for (String notAnSsn : List.of("555-123-4567", "1871-23-4501", "87123450", "2024-11-25")) {
            assertThat(masked("n " + notAnSsn)).as(notAnSsn).contains(notAnSsn);
        }
    }

    @Test
    void anSsnIsRecognisedWithLongOrOddSeparatorRunsAndAcrossLineBreaksAndTableCells() {
        // Found by the second attack on the running server: these stayed in clear.
        for (String spelling : List.of("871 -- 23 -- 4511", "871 _-_ 23 _-_ 4513", "871,23,4515", "871+23+4517",
                "871:23:4518")) {
            assertThat(SsnRule.isSsnShaped(spelling)).as(spelling).isTrue();
            assertThat(masked("SSN " + spelling)).as(spelling).doesNotContain("871").contains("***");
        }
        assertThat(masked("871<br/><br/>23<br/><br/>4512")).doesNotContain("871");
        assertThat(masked("<table><tr><td>871</td></tr><tr><td>23</td></tr><tr><td>4514</td></tr></table>"))
                .doesNotContain("871");
        assertThat(masked("n 555-123-4567")).as("a telephone number (3-3-4) is no SSN").contains("555-123-4567");
    }

    @Test
    void aNarrativeMaskIsRestoredOnlyInTextAndOnlyForTheStoredNumbers() {
        Patient stored = narrative("SSN 871-23-<b>4501</b>");
        Patient sent = stored.copy();
        SsnMasking.maskAll(FHIR, sent);
        sent.getText().getDiv().addText(" edited");
        assertThat(MaskedWriteBack.restore(FHIR, stored, sent)).isEmpty();
        assertThat(sent.getText().getDivAsString()).contains("871-23-<b>4501</b>").contains("edited");

        for (String moved : List.of("<img src=\"https://evil.example/?***-**-4501\"/>",
                "<span title=\"***-**-4501\">x</span>", "<!-- ***-**-4501 -->", "***-**-4502", "nothing")) {
            Patient attack = narrative(moved);
            assertThat(MaskedWriteBack.restore(FHIR, stored, attack)).as(moved).contains(MaskedWriteBack.CHANGE_REFUSED);
        }
    }

    @Test
    void typeSsUnderAnySystemAndSsnSystemsWithVersionsQueriesOrFragmentsAreSsns() {
        for (String typeSystem : List.of("http://terminology.hl7.org/CodeSystem/v2-0203|2.9", "urn:zq:types", "")) {
            Identifier typed = new Identifier().setSystem("urn:zq:custom").setValue("X");
            typed.getType().addCoding().setSystem(typeSystem.isEmpty() ? null : typeSystem).setCode("SS");
            assertThat(SsnRule.isSsn(typed)).as(typeSystem).isTrue();
        }
        for (String system : List.of("http://hl7.org/fhir/sid/us-ssn#", "http://hl7.org/fhir/sid/us-ssn?x=1",
                "http://hl7.org/fhir/sid/us-ssn/#")) {
            assertThat(SsnRule.isSsnSystem(system)).as(system).isTrue();
        }
    }

    private static String masked(String xhtml) {
        Patient patient = narrative(xhtml);
        SsnMasking.maskAll(FHIR, patient);
        return patient.getText().getDivAsString();
    }

    private static Patient narrative(String xhtml) {
        Patient patient = new Patient();
        patient.getText().setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">" + xhtml + "</div>");
        return patient;
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
