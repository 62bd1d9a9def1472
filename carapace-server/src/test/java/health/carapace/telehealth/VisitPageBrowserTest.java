package health.carapace.telehealth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.Test;

/**
 * A visit end to end in real headless Chromium: a clinician and a patient join through the real
 * server, each decrypts the other's SFrame-encrypted frames (the page's counters), both show the
 * same SAS; when the patient leaves, the clinician's sender key id changes and the patient holds
 * no key for it.
 */
class VisitPageBrowserTest extends VisitTestSupport {

    @Test
    void aClinicianAndAPatientSeeEachOtherEncryptedEndToEnd() throws Exception {
        HeadlessChromium.require();
        Booking booking = booking();
        Parameters started = started(booking);
        String patientUrl = started.getParameter("patient-link").getValue().primitiveValue();
        String clinicianUrl = baseUrl() + "/telehealth/visit#ticket=" + ticket(booking.clinician(), booking.appointment());

        try (HeadlessChromium clinician = new HeadlessChromium(); HeadlessChromium patient = new HeadlessChromium()) {
            clinician.open(clinicianUrl);
            // the secret leaves the address bar as soon as the page's module has read it; read once,
            // right after the driver's page load returned, the URL still held it in one full run under load
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .untilAsserted(() -> assertThat(clinician.driver.getCurrentUrl()).doesNotContain("ticket"));
            clinician.click("join");
            patient.open(patientUrl);
            patient.click("join");

            try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                assertThat(clinician.number("decrypted")).as("clinician decrypted").isGreaterThan(60);
                assertThat(patient.number("decrypted")).as("patient decrypted").isGreaterThan(60);
            });
            } catch (AssertionError | RuntimeException e) {
                for (HeadlessChromium b : new HeadlessChromium[] {clinician, patient}) {
                    // what the page showed, for the report (counters and status, nothing secret)
                    System.out.println("visit page: " + b.text("status") + " | encrypted " + b.text("encrypted")
                            + ", decrypted " + b.text("decrypted") + ", failed " + b.text("failed"));
                }
                throw e;
            }
            assertThat(clinician.attribute("e2ee", "data-state")).isEqualTo("on");
            assertThat(patient.attribute("e2ee", "data-state")).isEqualTo("on");
            String sas = clinician.attribute("sas", "data-sas");
            assertThat(sas).matches("\\d{3} \\d{3}");
            assertThat(patient.attribute("sas", "data-sas")).isEqualTo(sas);
            assertThat(clinician.number("encrypted")).isGreaterThan(60);
            clinician.screenshot(Path.of("..", "docs", "images", "telehealth-visit.png"));

            String before = clinician.text("send-kid");
            patient.click("leave");
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(clinician.text("send-kid")).isNotEqualTo(before).isNotEqualTo("—"));
            String after = clinician.text("send-kid");
            // the departed patient was never given the new key: nothing sent from now on opens for them
            assertThat(patient.text("known-kids")).doesNotContain(after);
        }
    }

    @Test
    void aBrowserWithoutEncodedTransformsIsToldSoAndSendsNothing() {
        HeadlessChromium.require();
        Booking booking = booking();
        String patientUrl = started(booking).getParameter("patient-link").getValue().primitiveValue();
        try (HeadlessChromium old = new HeadlessChromium()) {
            // a browser as it was before RTCRtpScriptTransform
            old.driver.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument",
                    java.util.Map.of("source", "delete window.RTCRtpScriptTransform;"));
            old.open(patientUrl);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(old.driver.findElement(org.openqa.selenium.By.id("unsupported")).isDisplayed()).isTrue());
            assertThat(old.driver.findElement(org.openqa.selenium.By.id("join")).isEnabled()).isFalse();
            assertThat(old.text("status")).contains("nothing will be sent");
        }
        // the link was not spent by the refusal: the patient can still join from a browser that works
        try (SignalClient patient = joined("link", VisitTestSupport.patientLink(started(booking)))) {
            assertThat(patient.closed).isNotDone();
        }
    }
}
