package health.carapace.signin;

import static health.carapace.testing.SignInBrowser.location;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.SignedJWT;
import health.carapace.access.CareRelationships;
import health.carapace.audit.AuditContext;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import health.carapace.testing.SmartAppBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * SMART App Launch 2.0 end to end through the real pages and endpoints (issue #18 item 1): a
 * standalone launch (password, TOTP, consent, patient picker, code with PKCE, token with
 * {@code patient}, {@code scope} and an id token with {@code fhirUser}), then FHIR requests that
 * succeed inside the granted scopes and fail outside them; scope narrowing to a role; an EHR launch.
 */
class SmartLaunchTest extends IntegrationTest {

    private static final String PASSWORD = "correct horse battery staple";

    @Autowired
    private Users users;

    @Autowired
    private SmartApps apps;

    @Autowired
    private CareRelationships relationships;

    @Autowired
    private health.carapace.access.BreakGlass breakGlass;

    private String patientA;
    private String patientB;
    private String observationA;

    @BeforeEach
    void patients() {
        patientA = createPatient();
        patientB = createPatient();
        Observation observation = new Observation();
        observation.setStatus(Observation.ObservationStatus.FINAL);
        observation.getCode().setText("heart rate");
        observation.setSubject(new Reference("Patient/" + patientA));
        observationA = fhirClient().create().resource(observation).execute().getId().getIdPart();
    }

    private String createPatient() {
        Patient patient = new Patient();
        patient.addName().setFamily("Smart" + UUID.randomUUID().toString().replace("-", ""));
        return fhirClient().create().resource(patient).execute().getId().getIdPart();
    }

    private String app(String... scopes) {
        return apps.create("test app", List.of("http://127.0.0.1/callback"), List.of(scopes), false, null, "test-admin",
                AuditContext.none()).clientId();
    }

    private String user(String role, String practitioner, String... patients) {
        String name = "smart-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(name, Set.of(role), practitioner);
        for (String patient : patients) {
            relationships.assign(name, "Patient/" + patient, "test-admin", AuditContext.none());
        }
        lastLink = enrolment.link();
        return name;
    }

    private String lastLink;

    private SmartAppBrowser browser(String clientId) {
        return new SmartAppBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()), clientId);
    }

    @Test
    void aStandaloneLaunchPicksAPatientAndTheTokenReachesOnlyThatPatientWithinItsScopes() throws Exception {
        String clientId = app("launch/patient", "openid", "fhirUser", "patient/*.rs");
        String practitioner = UUID.randomUUID().toString();
        String user = user(TestPolicy.CLINICIAN, practitioner, patientA, patientB);
        SmartAppBrowser app = browser(clientId);

        HttpResponse<String> toLogin = app.authorize("launch/patient openid fhirUser patient/*.rs", Map.of());
        assertThat(toLogin.statusCode()).isEqualTo(302);
        assertThat(location(toLogin)).endsWith("/login");
        HttpResponse<String> afterTotp = app.firstSignIn(lastLink, user, PASSWORD);
        assertThat(afterTotp.statusCode()).isEqualTo(303);
        assertThat(location(afterTotp)).isEqualTo("/login/consent");

        HttpResponse<String> consent = app.consentPage();
        assertThat(consent.statusCode()).isEqualTo(200);
        assertThat(consent.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("default-src 'none'");
        assertThat(consent.body()).contains("patient/*.rs").contains("value=\"" + patientA + "\"")
                .contains("value=\"" + patientB + "\"").doesNotContain("<script");

        // A patient the person may not see is refused on the page (and not echoed).
        String stranger = createPatient();
        HttpResponse<String> refused = app.consent(consent.body(), Map.of("decision", "allow", "patient_id", stranger));
        assertThat(refused.statusCode()).isEqualTo(200);
        assertThat(refused.body()).contains("Choose a patient").doesNotContain(stranger);

        Map<String, String> callback = app.followToCallback(app.consent(refused.body(),
                Map.of("decision", "allow", "patient", patientA)));
        assertThat(callback.get("state")).isEqualTo(app.state);
        HttpResponse<String> exchanged = app.exchange(callback.get("code"));
        assertThat(exchanged.statusCode()).as(exchanged.body()).isEqualTo(200);
        Map<String, Object> token = SmartAppBrowser.json(exchanged);
        assertThat(token.get("patient")).isEqualTo(patientA);
        assertThat(((String) token.get("scope")).split(" "))
                .containsExactlyInAnyOrder("fhirUser", "launch/patient", "openid", "patient/*.rs");
        var idToken = SignedJWT.parse((String) token.get("id_token")).getJWTClaimsSet();
        assertThat(idToken.getStringClaim("fhirUser")).isEqualTo(fhirBase() + "/Practitioner/" + practitioner);
        assertThat(idToken.getAudience()).containsExactly(clientId);
        String access = (String) token.get("access_token");

        // Inside the scopes: the chosen patient's records.
        assertThat(app.browser.fhirGet("/fhir/Patient/" + patientA, access).statusCode()).isEqualTo(200);
        assertThat(app.browser.fhirGet("/fhir/Observation/" + observationA, access).statusCode()).isEqualTo(200);
        HttpResponse<String> search = app.browser.fhirGet("/fhir/Patient", access);
        assertThat(search.statusCode()).isEqualTo(200);
        assertThat(search.body()).contains(patientA).doesNotContain(patientB);
        // Outside them: another patient the person's roles reach, and writing (the role could).
        HttpResponse<String> other = app.browser.fhirGet("/fhir/Patient/" + patientB, access);
        assertThat(other.statusCode()).isEqualTo(403);
        assertThat(Refusals.outcomeOf(other).getIssueFirstRep().getDiagnostics()).contains("outside-app-scope");
        HttpResponse<String> write = app.browser.send(HttpRequest.newBuilder(uri("/fhir/Observation"))
                .header("Authorization", "Bearer " + access).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Observation\",\"status\":\"final\","
                        + "\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/" + patientA + "\"}}")));
        assertThat(write.statusCode()).isEqualTo(403);
        assertThat(Refusals.outcomeOf(write).getIssueFirstRep().getDiagnostics()).contains("outside-app-scope");

        // The code is single use.
        HttpResponse<String> replayed = app.exchange(callback.get("code"));
        assertThat(replayed.statusCode()).isEqualTo(400);
        assertThat(replayed.body()).contains("invalid_grant").doesNotContain(callback.get("code"));
    }

    /**
     * Review F8: a consent answers the authorization request it was given for (redirect URI, state,
     * launch, PKCE challenge), not any request of the same app with the same scopes: a second
     * request made in the same browser after consent (another party's PKCE challenge) gets no token.
     */
    @Test
    void aConsentCannotBeReplayedForAnotherAuthorizationRequest() {
        String clientId = app("launch/patient", "patient/*.rs");
        String user = user(TestPolicy.CLINICIAN, null, patientA);
        SmartAppBrowser app = browser(clientId);
        app.authorize("launch/patient patient/*.rs", Map.of());
        app.firstSignIn(lastLink, user, PASSWORD);
        HttpResponse<String> consented = app.consent(app.consentPage().body(), Map.of("decision", "allow", "patient", patientA));
        assertThat(consented.statusCode()).isEqualTo(303);
        // Instead of resuming its own request, the browser is made to send another one: new state and challenge.
        HttpResponse<String> other = app.authorize("launch/patient patient/*.rs", Map.of());
        if (other.statusCode() == 302 && location(other).startsWith(app.browser.redirectUri)) {
            Map<String, String> callback = app.callback(other);
            assertThat(callback).containsKey("code");
            HttpResponse<String> exchanged = app.exchange(callback.get("code"));
            assertThat(exchanged.statusCode()).as(exchanged.body()).isEqualTo(400);
            assertThat(exchanged.body()).contains("invalid_grant").doesNotContain(callback.get("code"));
        } else {
            assertThat(location(other)).as("asked again, never answered with the first consent").contains("/login");
        }
    }

    @Test
    void everyAuditEventOfAnAppsRequestNamesTheAppForThePrivacyOfficer() {
        String clientId = app("launch/patient", "patient/*.rs");
        String user = user(TestPolicy.CLINICIAN, null, patientA);
        SmartAppBrowser app = browser(clientId);
        app.authorize("launch/patient patient/*.rs", Map.of());
        app.firstSignIn(lastLink, user, PASSWORD);
        Map<String, String> callback = app.followToCallback(app.consent(app.consentPage().body(),
                Map.of("decision", "allow", "patient", patientA)));
        String access = (String) SmartAppBrowser.json(app.exchange(callback.get("code"))).get("access_token");
        HttpResponse<String> read = app.browser.fhirGet("/fhir/Observation/" + observationA, access);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(app.browser.fhirGet("/fhir/Patient/" + patientB, access).statusCode()).isEqualTo(403);
        // In the stored events (the Merkle leaves): the read and the refusal both name the app.
        List<String> stored = org.springframework.jdbc.core.simple.JdbcClient.create(dataSource)
                .sql("select convert_from(body, 'UTF8') from audit.event where actor = ? and patient in (?, ?)"
                        + " and action in ('viewed', 'denied')")
                .params(user, "Patient/" + patientA, "Patient/" + patientB)
                .query(String.class).list();
        assertThat(stored).hasSizeGreaterThanOrEqualTo(2).anyMatch(e -> e.contains("\"outcome\":\"failure\""))
                .allMatch(e -> e.contains("\"app\":\"" + clientId + "\""));
        // Through the AuditEvent API: the app is an agent of the event, by its client id.
        String reviewer = tokenWithRoles("f3-reviewer", TestPolicy.AUDITOR);
        HttpResponse<String> trail = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/AuditEvent?patient=Patient/"
                + patientA)).header("Authorization", "Bearer " + reviewer).GET());
        assertThat(trail.statusCode()).isEqualTo(200);
        var events = fhir.newJsonParser().parseResource(org.hl7.fhir.r4.model.Bundle.class, trail.body()).getEntry()
                .stream().map(entry -> (org.hl7.fhir.r4.model.AuditEvent) entry.getResource())
                .filter(e -> e.getAgent().stream().anyMatch(a -> user.equals(a.getWho().getIdentifier().getValue())))
                .filter(e -> e.getEntity().stream().anyMatch(n -> n.getWhat().getDisplay() != null
                        && n.getWhat().getDisplay().startsWith("/fhir/")))
                .toList();
        assertThat(events).isNotEmpty().allMatch(e -> e.getAgent().stream().anyMatch(a ->
                clientId.equals(a.getWho().getIdentifier().getValue())
                        && "https://carapace.health/fhir/sid/client-id".equals(a.getWho().getIdentifier().getSystem())));
    }

    @Test
    void aRoleWithDemographicsOnlyAskingForPatientStarReadsThePatientAndNothingClinical() {
        String clientId = app("launch/patient", "patient/*.rs", "patient/Observation.rs");
        String user = user(TestPolicy.DEMOGRAPHICS, null, patientA);
        SmartAppBrowser app = browser(clientId);
        app.authorize("launch/patient patient/*.rs patient/Observation.rs", Map.of());
        app.firstSignIn(lastLink, user, PASSWORD);
        HttpResponse<String> consent = app.consentPage();
        assertThat(consent.body()).contains("It will not be allowed").contains("your roles allow none of it");
        Map<String, String> callback = app.followToCallback(app.consent(consent.body(),
                Map.of("decision", "allow", "patient", patientA)));
        Map<String, Object> token = SmartAppBrowser.json(app.exchange(callback.get("code")));
        // The granted scopes are reported: Observation was dropped.
        assertThat(((String) token.get("scope")).split(" ")).containsExactlyInAnyOrder("launch/patient", "patient/*.rs");
        String access = (String) token.get("access_token");
        assertThat(app.browser.fhirGet("/fhir/Patient/" + patientA, access).statusCode()).isEqualTo(200);
        assertThat(app.browser.fhirGet("/fhir/Observation/" + observationA, access).statusCode()).isEqualTo(403);
        assertThat(app.browser.fhirGet("/fhir/Observation?patient=" + patientA, access).statusCode()).isEqualTo(403);
        // No administration through an app, whatever the roles (none here either way).
        assertThat(app.browser.fhirGet("/admin/roles", access).statusCode()).isEqualTo(403);
    }

    @Test
    void anEhrLaunchBringsItsPatientAndIsUsedOnce() {
        String clientId = app("launch", "patient/*.rs", "openid");
        String user = user(TestPolicy.CLINICIAN, null, patientA);
        // The person is signed in to the record system (a plain sign-in app) and opens the app for a patient.
        health.carapace.testing.SignInBrowser ehr = new health.carapace.testing.SignInBrowser(baseUrl(),
                TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        String ehrToken = ehr.firstSignIn(lastLink, user, PASSWORD).accessToken();
        HttpResponse<String> notMine = launch(ehrToken, clientId, patientB);
        assertThat(notMine.statusCode()).isEqualTo(403);
        HttpResponse<String> opened = launch(ehrToken, clientId, patientA);
        assertThat(opened.statusCode()).as(opened.body()).isEqualTo(201);
        Map<String, Object> launch = SmartAppBrowser.json(opened);
        assertThat(launch.get("iss")).isEqualTo(fhirBase());

        ehr.newBrowser();
        SmartAppBrowser app = new SmartAppBrowser(ehr, clientId);
        app.authorize("launch patient/*.rs openid", Map.of("launch", (String) launch.get("launch")));
        HttpResponse<String> afterMfa = app.signInAfterPassword(user, PASSWORD);
        assertThat(location(afterMfa)).isEqualTo("/login/consent");
        HttpResponse<String> consent = app.consentPage();
        assertThat(consent.body()).contains("Patient opened from your record system").doesNotContain("type=\"radio\"");
        Map<String, String> callback = app.followToCallback(app.consent(consent.body(), Map.of("decision", "allow")));
        Map<String, Object> token = SmartAppBrowser.json(app.exchange(callback.get("code")));
        assertThat(token.get("patient")).isEqualTo(patientA);
        assertThat(app.browser.fhirGet("/fhir/Patient/" + patientA, (String) token.get("access_token")).statusCode())
                .isEqualTo(200);
        // The launch was used up by the consent: it cannot bring a patient a second time.
        assertThat(org.springframework.jdbc.core.simple.JdbcClient.create(dataSource)
                .sql("select count(*) from iam.smart_launch where id_hash = sha256(convert_to(?, 'UTF8'))")
                .param((String) launch.get("launch")).query(Long.class).single()).isZero();
        // A SMART app's token cannot open launches itself.
        assertThat(launch((String) token.get("access_token"), clientId, patientA).statusCode()).isEqualTo(403);
        // The launch refused, the launch opened and the consent are on the audit trail, for the person.
        var db = org.springframework.jdbc.core.simple.JdbcClient.create(dataSource);
        assertThat(db.sql("select count(*) from audit.event where actor = ? and action = 'denied' and patient = ?")
                .params(user, "Patient/" + patientB).query(Long.class).single()).isEqualTo(1);
        assertThat(db.sql("select count(*) from audit.event where actor = ? and action = 'created' and patient = ?")
                .params(user, "Patient/" + patientA).query(Long.class).single()).isEqualTo(2);
    }

    /**
     * Review F1: a read-only app must not take over a telehealth visit. Before the fix
     * {@code $start-visit} on a running visit was decided as a read of the Appointment and re-issued
     * the patient's link (revoking theirs), and the join endpoint gave the app a clinician's ticket.
     */
    @Test
    void aReadOnlyAppCannotStartOrJoinAVisit() {
        String practitioner = fhirClient().create().resource(new org.hl7.fhir.r4.model.Practitioner().setActive(true))
                .execute().getId().getIdPart();
        String user = user(TestPolicy.VISIT_CLINICIAN, practitioner, patientA);
        String appointment = fhirClient().create().resource(fhir.newJsonParser().parseResource(
                "{\"resourceType\":\"Appointment\",\"status\":\"booked\",\"participant\":["
                + "{\"actor\":{\"reference\":\"Patient/" + patientA + "\"},\"status\":\"accepted\"},"
                + "{\"actor\":{\"reference\":\"Practitioner/" + practitioner + "\"},\"status\":\"accepted\"}]}"))
                .execute().getId().getIdPart();
        health.carapace.testing.SignInBrowser ehr = new health.carapace.testing.SignInBrowser(baseUrl(),
                TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        String clinicianToken = ehr.firstSignIn(lastLink, user, PASSWORD).accessToken();
        HttpResponse<String> started = startVisit(clinicianToken, appointment);
        assertThat(started.statusCode()).as(started.body()).isEqualTo(200);

        // The same person, through a read-only app, on the same running visit.
        String clientId = app("launch/patient", "patient/*.rs");
        ehr.newBrowser();
        SmartAppBrowser app = new SmartAppBrowser(ehr, clientId);
        app.authorize("launch/patient patient/*.rs", Map.of());
        app.signInAfterPassword(user, PASSWORD);
        Map<String, String> callback = app.followToCallback(app.consent(app.consentPage().body(),
                Map.of("decision", "allow", "patient", patientA)));
        String access = (String) SmartAppBrowser.json(app.exchange(callback.get("code"))).get("access_token");
        assertThat(app.browser.fhirGet("/fhir/Appointment/" + appointment, access).statusCode()).isEqualTo(200);

        List<String> linkBefore = visitLink(appointment);
        HttpResponse<String> takeover = startVisit(access, appointment);
        assertThat(takeover.statusCode()).as(takeover.body()).isEqualTo(403);
        assertThat(Refusals.outcomeOf(takeover).getIssueFirstRep().getDiagnostics()).contains("outside-app-scope");
        assertThat(visitLink(appointment)).as("the patient's link was not re-issued").isEqualTo(linkBefore);
        HttpResponse<String> join = sendWithoutToken(HttpRequest.newBuilder(uri("/telehealth/visits/" + appointment + "/join"))
                .header("Authorization", "Bearer " + access).POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(join.statusCode()).as(join.body()).isEqualTo(403);
        assertThat(Refusals.outcomeOf(join).getIssueFirstRep().getDiagnostics()).contains("outside-app-scope");
        // Also for a visit that does not exist: the app learns nothing (403, not 404).
        HttpResponse<String> none = sendWithoutToken(HttpRequest.newBuilder(uri("/telehealth/visits/"
                + UUID.randomUUID() + "/join")).header("Authorization", "Bearer " + access)
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(none.statusCode()).isEqualTo(403);
        // The person's own token still joins.
        assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/telehealth/visits/" + appointment + "/join"))
                .header("Authorization", "Bearer " + clinicianToken).POST(HttpRequest.BodyPublishers.noBody()))
                .statusCode()).isEqualTo(200);
    }

    /**
     * Review F2: the person's open emergency access is theirs, not their apps': an app never
     * reaches a patient only through it (read refused, search leaves the patient out, the picker
     * refuses the patient).
     */
    @Test
    void anAppNeverReachesAPatientOnlyThroughEmergencyAccess() {
        String user = user(TestPolicy.CLINICIAN, null, patientA);
        breakGlass.open(new health.carapace.access.Caller(user, health.carapace.access.Caller.Kind.USER,
                Set.of(TestPolicy.CLINICIAN), null), "Patient/" + patientB, "Unconscious in ER, allergy check",
                AuditContext.none());

        SmartAppBrowser picker = browser(app("launch/patient", "patient/*.rs"));
        picker.authorize("launch/patient patient/*.rs", Map.of());
        picker.firstSignIn(lastLink, user, PASSWORD);
        HttpResponse<String> consent = picker.consentPage();
        assertThat(consent.body()).doesNotContain(patientB);
        HttpResponse<String> refused = picker.consent(consent.body(), Map.of("decision", "allow", "patient_id", patientB));
        assertThat(refused.statusCode()).isEqualTo(200);
        assertThat(refused.body()).contains("Choose a patient").doesNotContain(patientB);
        assertThat(org.springframework.jdbc.core.simple.JdbcClient.create(dataSource)
                .sql("select count(*) from audit.event where actor = ? and action = 'denied'").param(user)
                .query(Long.class).single()).as("the picker's refusal is audited").isEqualTo(1);

        picker.browser.newBrowser();
        SmartAppBrowser app = new SmartAppBrowser(picker.browser, app("user/*.rs"));
        app.authorize("user/*.rs", Map.of());
        app.signInAfterPassword(user, PASSWORD);
        Map<String, String> callback = app.followToCallback(app.consent(app.consentPage().body(),
                Map.of("decision", "allow")));
        String access = (String) SmartAppBrowser.json(app.exchange(callback.get("code"))).get("access_token");
        assertThat(app.browser.fhirGet("/fhir/Patient/" + patientA, access).statusCode()).isEqualTo(200);
        HttpResponse<String> read = app.browser.fhirGet("/fhir/Patient/" + patientB, access);
        assertThat(read.statusCode()).isEqualTo(403);
        HttpResponse<String> search = app.browser.fhirGet("/fhir/Patient", access);
        assertThat(search.statusCode()).isEqualTo(200);
        assertThat(search.body()).contains(patientA).doesNotContain(patientB);
    }

    /** Review F3: disabling an app ends its live access tokens on their next request. */
    @Test
    void disablingAnAppEndsItsLiveTokensOnTheNextRequest() {
        String clientId = app("launch/patient", "patient/*.rs");
        String user = user(TestPolicy.CLINICIAN, null, patientA);
        SmartAppBrowser app = browser(clientId);
        app.authorize("launch/patient patient/*.rs", Map.of());
        app.firstSignIn(lastLink, user, PASSWORD);
        Map<String, String> callback = app.followToCallback(app.consent(app.consentPage().body(),
                Map.of("decision", "allow", "patient", patientA)));
        String access = (String) SmartAppBrowser.json(app.exchange(callback.get("code"))).get("access_token");
        assertThat(app.browser.fhirGet("/fhir/Patient/" + patientA, access).statusCode()).isEqualTo(200);
        org.springframework.jdbc.core.simple.JdbcClient.create(dataSource)
                .sql("update iam.login_app set disabled = true where client_id = ?").param(clientId).update();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .pollInterval(java.time.Duration.ofMillis(100))
                .until(() -> app.browser.fhirGet("/fhir/Patient/" + patientA, access).statusCode() == 401);
    }

    /** The visit's live (unused, unrevoked) patient link hashes. */
    private List<String> visitLink(String appointment) {
        return org.springframework.jdbc.core.simple.JdbcClient.create(dataSource)
                .sql("select encode(link_hash, 'hex') from telehealth.patient_link where appointment_id = ?::uuid "
                        + "and used_at is null and revoked_at is null").param(appointment).query(String.class).list();
    }

    private HttpResponse<String> startVisit(String bearer, String appointment) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Appointment/" + appointment + "/$start-visit"))
                .header("Authorization", "Bearer " + bearer).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Parameters\"}")));
    }

    private HttpResponse<String> launch(String bearer, String clientId, String patient) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/smart/launch")).header("Authorization", "Bearer " + bearer)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"client_id\":\"" + clientId + "\",\"patient\":\"" + patient
                        + "\"}")));
    }

    @Test
    @SuppressWarnings("unchecked")
    void discoveryListsTheEndpointsAndTheCapabilityStatementCarriesTheSmartExtension() {
        for (String path : List.of("/fhir/.well-known/smart-configuration", "/.well-known/smart-configuration")) {
            HttpResponse<String> discovery = sendWithoutToken(HttpRequest.newBuilder(uri(path)).GET());
            assertThat(discovery.statusCode()).isEqualTo(200);
            Map<String, Object> json = SmartAppBrowser.json(discovery);
            assertThat(json.get("authorization_endpoint")).isEqualTo(baseUrl() + "/oauth2/authorize");
            assertThat(json.get("token_endpoint")).isEqualTo(baseUrl() + "/oauth2/token");
            assertThat((List<Object>) json.get("code_challenge_methods_supported")).containsExactly("S256");
            assertThat((List<Object>) json.get("capabilities")).contains("launch-standalone", "launch-ehr",
                    "context-standalone-patient", "permission-v2", "sso-openid-connect");
        }
        HttpResponse<String> metadata = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/metadata")).GET());
        assertThat(metadata.body()).contains("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris")
                .contains(baseUrl() + "/oauth2/authorize").contains("SMART-on-FHIR");
    }

    @Test
    void denyingConsentSendsTheAppAccessDenied() {
        String clientId = app("launch/patient", "patient/*.rs");
        String user = user(TestPolicy.CLINICIAN, null, patientA);
        SmartAppBrowser app = browser(clientId);
        app.authorize("launch/patient patient/*.rs", Map.of());
        app.firstSignIn(lastLink, user, PASSWORD);
        HttpResponse<String> consent = app.consentPage();
        HttpResponse<String> denied = app.consent(consent.body(), Map.of("decision", "deny"));
        assertThat(denied.statusCode()).isEqualTo(303);
        Map<String, String> callback = app.callback(denied);
        assertThat(callback).containsEntry("error", "access_denied").containsEntry("state", app.state)
                .doesNotContainKey("code");
    }

    @Test
    void badAuthorizationRequestsAreRefusedAsOAuthErrorsBeforeSignIn() {
        String clientId = app("launch/patient", "patient/*.rs", "openid");
        SmartAppBrowser app = browser(clientId);
        Map<String, String> refusals = new HashMap<>();
        refusals.put("patient/Foo.xyz", "invalid_scope");           // unknown scope
        refusals.put("patient/*.cruds", "invalid_scope");           // wider than the app's ceiling
        refusals.put("user/*.rs", "invalid_scope");                 // another context than the ceiling
        refusals.put("launch/patient offline_access", "invalid_scope");
        for (var refusal : refusals.entrySet()) {
            HttpResponse<String> answer = app.authorize(refusal.getKey(), Map.of());
            assertThat(answer.statusCode()).as(refusal.getKey()).isEqualTo(302);
            assertThat(app.callback(answer)).as(refusal.getKey()).containsEntry("error", refusal.getValue())
                    .containsEntry("state", app.state).doesNotContainKey("code");
        }
        // No scope at all from a SMART app, missing or foreign aud, missing or plain PKCE.
        assertThat(app.callback(app.authorize("", Map.of()))).containsEntry("error", "invalid_scope");
        Map<String, String> noAud = new HashMap<>();
        noAud.put("aud", null);
        assertThat(app.callback(app.authorize("patient/*.rs", noAud))).containsEntry("error", "invalid_request");
        assertThat(app.callback(app.authorize("patient/*.rs", Map.of("aud", "https://elsewhere.example/fhir"))))
                .containsEntry("error", "invalid_request");
        Map<String, String> noPkce = new HashMap<>();
        noPkce.put("code_challenge", null);
        noPkce.put("code_challenge_method", null);
        assertThat(app.callback(app.authorize("patient/*.rs", noPkce))).containsEntry("error", "invalid_request");
        assertThat(app.callback(app.authorize("patient/*.rs", Map.of("code_challenge_method", "plain"))))
                .containsEntry("error", "invalid_request");
        // A redirect URI the app did not register: refused here, never sent there.
        HttpResponse<String> foreign = app.authorize("patient/*.rs", Map.of("redirect_uri", "https://evil.example/cb"));
        assertThat(foreign.statusCode()).isEqualTo(400);
        assertThat(foreign.headers().firstValue("Location")).isEmpty();
        assertThat(foreign.body()).doesNotContain("evil.example");
        // A plain sign-in app (no ceiling) may ask for no scope.
        SmartAppBrowser plain = browser(health.carapace.testing.SignInBrowser.APP);
        assertThat(plain.callback(plain.authorize("patient/*.rs", Map.of()))).containsEntry("error", "invalid_scope");
    }

    @Test
    void appsAreRegisteredThroughTheAdminApiByManageUsersOnly() {
        String admin = tokenWithRoles("smart-admin", "admin");
        String body = "{\"name\":\"Growth chart\",\"redirect_uris\":[\"https://app.example/cb\"],"
                + "\"scopes\":[\"launch/patient\",\"patient/Observation.rs\"],\"confidential\":true}";
        HttpResponse<String> created = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/apps"))
                .header("Authorization", "Bearer " + admin).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        Map<String, Object> json = SmartAppBrowser.json(created);
        assertThat((String) json.get("client_id")).startsWith("app-");
        assertThat((String) json.get("client_secret")).hasSizeGreaterThan(40);

        HttpResponse<String> notAdmin = send(HttpRequest.newBuilder(uri("/admin/apps"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
        assertThat(notAdmin.statusCode()).isEqualTo(403);
        for (String bad : List.of("{\"name\":\"x\",\"redirect_uris\":[\"https://a.example/cb\"],\"scopes\":[\"patient/Foo.zz\"]}",
                "{\"name\":\"x\",\"redirect_uris\":[\"http://evil.example/cb\"],\"scopes\":[\"patient/*.rs\"]}",
                "{\"name\":\"x\",\"redirect_uris\":[\"https://a.example/cb\"],\"scopes\":[\"system/*.rs\"]}",
                "{\"name\":\"x\",\"redirect_uris\":[\"https://a.example/cb\"],\"scopes\":[\"openid\"]}",
                "{\"name\":\"x\",\"extra\":1}", "[1,2]", "{\"name\":7,\"redirect_uris\":[\"https://a.example/cb\"],"
                        + "\"scopes\":[\"patient/*.rs\"]}")) {
            HttpResponse<String> refused = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/apps"))
                    .header("Authorization", "Bearer " + admin).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(bad)));
            assertThat(refused.statusCode()).as(bad).isEqualTo(400);
            assertThat(Refusals.outcomeOf(refused).getIssueFirstRep().getCode())
                    .isEqualTo(org.hl7.fhir.r4.model.OperationOutcome.IssueType.INVALID);
            assertThat(refused.body()).doesNotContain("evil.example").doesNotContain("Foo.zz");
        }
    }
}
