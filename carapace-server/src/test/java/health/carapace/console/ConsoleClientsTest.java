package health.carapace.console;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditQueries;
import health.carapace.signin.LoginApps;
import health.carapace.signin.ServiceClients;
import health.carapace.signin.SmartApps;
import health.carapace.testing.SmartAppBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Service clients and sign-in apps on the console's Users page ({@code manage:users}): listed with
 * their roles or scopes and state, disabled through the services the CLI, containment and
 * {@code /admin/apps} use, audited as the administrator's change. Checked through the API: a
 * disabled client's next token request and its live token are refused; a disabled app gets no
 * token and its live token stops working. Refusals (no permission, malformed or unknown ids, the
 * console's own app) change nothing and echo nothing.
 */
class ConsoleClientsTest extends ConsoleTesting {

    private static final String PASSWORD = "console-clients-password-1";

    @Autowired
    private SmartApps apps;

    @Autowired
    private LoginApps loginApps;

    /** Issue #20: a role's time window (with its zone) and address ranges in words, not only that it has them. */
    @Test
    void theRolesTableShowsEachRolesTimeWindowAndAddressRangesInWords() {
        String page = signedIn("admin").get("/console/users").body();
        // the dev policy's radiologist: "08:00-18:00 Mon-Fri", ["127.0.0.0/8", "::1/128"], the site's zone
        assertThat(page).containsPattern("<td>radiologist</td>\\s*<td>[^<]*</td>\\s*<td>only 08:00 to 18:00, Monday to "
                + "Friday, [A-Za-z_/+-]+ time; only from 127\\.0\\.0\\.0/8, ::1/128</td>");
        assertThat(page).containsPattern("<td>" + TestPolicy.REMOTE_BREAK_GLASS + "</td>\\s*<td>[^<]*</td>\\s*<td>at any "
                + "time; only from 203\\.0\\.113\\.0/24; break-glass allowed from elsewhere</td>");
        assertThat(page).containsPattern("<td>" + TestPolicy.EVERYTHING + "</td>\\s*<td>[^<]*</td>\\s*<td>at any time, "
                + "from any address \\(an access review lists it\\)</td>");
    }

    @Test
    void anAdministratorDisablesAServiceClientAndItsNextTokenRequestAndTokenUseAreRefused() {
        ServiceClients.Credentials feed = client("console-lab-feed", TestPolicy.EVERYTHING);
        String liveToken = tokenFor(feed.clientId(), feed.clientSecret());
        assertThat(read(liveToken).statusCode()).isEqualTo(200);
        ConsoleVisitor admin = signedIn("admin");

        HttpResponse<String> page = admin.get("/console/users");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains(feed.clientId()).contains("console-lab-feed").contains(TestPolicy.EVERYTHING)
                .contains("id=\"disable-client-" + feed.clientId() + "\"");

        HttpResponse<String> disabled = admin.postFrom("/console/users",
                "/console/users/clients/" + feed.clientId() + "/disable", Map.of());
        assertThat(disabled.statusCode()).isEqualTo(302);
        assertThat(disabled.headers().firstValue("Location").orElse("")).endsWith("/console/users?done=client-disabled");

        // through the API: no new token, and the token it holds stops working
        assertThat(tokenRequest(feed.clientId(), feed.clientSecret()).statusCode()).isEqualTo(401);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> read(liveToken).statusCode() == 401);
        assertThat(serviceClients.find(feed.clientId()).orElseThrow().disabled()).isTrue();
        // audited as the administrator's change of the client, as containment and the CLI audit it, from the console
        List<AuditQueries.StoredEvent> changes = auditQueries.search(new AuditQueries.Criteria(null, admin.user, null, null,
                List.of("admin_change"), true, 20));
        assertThat(changes).anySatisfy(event -> {
            assertThat(event.resource()).isEqualTo("/admin/clients/" + feed.clientId());
            assertThat(event.context().app()).isEqualTo(ConsoleApp.CLIENT_ID);
        });
        HttpResponse<String> after = admin.get("/console/users?done=client-disabled&clients=all");
        assertThat(after.body()).contains("Service client disabled").contains("id=\"client-state-" + feed.clientId()
                + "\">disabled<").doesNotContain("id=\"disable-client-" + feed.clientId() + "\"");
    }

    @Test
    void anAdministratorDisablesASignInAppAndItGetsNoTokenAndItsLiveTokenStopsWorking() {
        String clientId = apps.create("Console test app", List.of("http://127.0.0.1/callback"), List.of("user/*.rs"), false,
                null, "test-admin", AuditContext.none()).clientId();
        String user = "console-app-" + UUID.randomUUID().toString().substring(0, 8);
        String link = users.create(user, Set.of(TestPolicy.CLINICIAN), null).link();
        SmartAppBrowser app = new SmartAppBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()),
                clientId);
        app.authorize("user/*.rs", Map.of());
        app.firstSignIn(link, user, PASSWORD);
        Map<String, String> callback = app.followToCallback(app.consent(app.consentPage().body(), Map.of("decision", "allow")));
        String access = (String) SmartAppBrowser.json(app.exchange(callback.get("code"))).get("access_token");
        assertThat(app.browser.fhirGet("/fhir/Patient", access).statusCode()).isNotEqualTo(401);
        // the token endpoint knows the app: a refresh with a token it never issued is the grant's fault
        assertThat(refresh(app, "not-a-refresh-token").statusCode()).isEqualTo(400);
        ConsoleVisitor admin = signedIn("admin");
        assertThat(admin.get("/console/users").body()).contains(clientId).contains("Console test app").contains("user/*.rs");

        assertThat(admin.postFrom("/console/users", "/console/users/apps/" + clientId + "/disable", Map.of()).statusCode())
                .isEqualTo(302);

        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> app.browser.fhirGet("/fhir/Patient", access).statusCode() == 401);
        // no new token either: the authorization server no longer knows the app
        HttpResponse<String> refused = refresh(app, "not-a-refresh-token");
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(refused.body()).contains("invalid_client");
        assertThat(apps.find(clientId).orElseThrow().disabled()).isTrue();
        assertThat(auditQueries.search(new AuditQueries.Criteria(null, admin.user, null, null, List.of("admin_change"), true,
                20))).anySatisfy(event -> assertThat(event.resource()).isEqualTo("/admin/apps/" + clientId));
    }

    /**
     * M3: a plain sign-in app (no scopes, no consent: the console's kind, or one registered with
     * {@code create-app}) disabled: the person tokens it holds stop working on their next request.
     * Only SMART apps' tokens were checked against their app; a plain app's went on working until
     * they expired.
     */
    @Test
    void disablingAPlainSignInAppEndsTheAccessTokensItHoldsAtOnce() {
        String clientId = loginApps.create("Console plain test app", List.of("http://127.0.0.1/callback"));
        String user = "console-plain-" + UUID.randomUUID().toString().substring(0, 8);
        String link = users.create(user, Set.of(TestPolicy.CLINICIAN), null).link();
        SmartAppBrowser app = new SmartAppBrowser(baseUrl(),
                TestInstallation.trustingSslContext(TestInstallation.dataDir()), clientId);
        // a plain app asks for no scope and sends no SMART aud parameter: the person's roles are what it gets
        Map<String, String> plain = new java.util.HashMap<>();
        plain.put("scope", null);
        plain.put("aud", null);
        app.authorize("", plain);
        Map<String, String> callback = app.followToCallback(app.firstSignIn(link, user, PASSWORD));
        Map<String, Object> issued = SmartAppBrowser.json(app.exchange(callback.get("code")));
        String access = (String) issued.get("access_token");
        String refreshToken = (String) issued.get("refresh_token");
        assertThat(app.browser.fhirGet("/fhir/Patient?_count=1", access).statusCode()).isNotEqualTo(401);
        ConsoleVisitor admin = signedIn("admin");

        assertThat(admin.postFrom("/console/users", "/console/users/apps/" + clientId + "/disable", Map.of())
                .statusCode()).isEqualTo(302);

        // the very next request (no waiting: the change is this node's own) is refused, and so is a refresh
        assertThat(app.browser.fhirGet("/fhir/Patient?_count=1", access).statusCode()).isEqualTo(401);
        assertThat(refresh(app, refreshToken).statusCode()).isEqualTo(401);
        assertThat(apps.find(clientId).orElseThrow().disabled()).isTrue();
        // the account is untouched: it is the app that ended, not the person
        assertThat(users.list().stream().filter(u -> u.userName().equals(user)).findFirst().orElseThrow().disabled())
                .isFalse();
    }

    @Test
    void withoutManageUsersNoClientIsDisabledAndTheRefusalIsAudited() {
        ServiceClients.Credentials feed = client("console-kept-feed", TestPolicy.EVERYTHING);
        ConsoleVisitor officer = signedIn("privacy-officer");
        String token = ConsoleVisitor.metaCsrf(officer.get("/console").body());

        HttpResponse<String> refused = officer.post("/console/users/clients/" + feed.clientId() + "/disable",
                Map.of("_csrf", token));
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("role=\"alert\"").contains("permission");
        HttpResponse<String> app = officer.post("/console/users/apps/" + ConsoleApp.CLIENT_ID + "/disable",
                Map.of("_csrf", token));
        assertThat(app.statusCode()).isEqualTo(403);
        // a malformed id is refused as a refusal too (the permission is decided first), named * in the trail
        assertThat(officer.post("/console/users/clients/%3Cx%3E/disable", Map.of("_csrf", token)).statusCode())
                .isEqualTo(403);

        assertThat(serviceClients.find(feed.clientId()).orElseThrow().disabled()).isFalse();
        assertThat(tokenRequest(feed.clientId(), feed.clientSecret()).statusCode()).isEqualTo(200);
        assertThat(events(officer.user, "denied")).extracting(AuditQueries.StoredEvent::resource)
                .contains("/console/users/clients/" + feed.clientId() + "/disable",
                        "/console/users/apps/" + ConsoleApp.CLIENT_ID + "/disable", "/console/users/clients/*/disable");
    }

    @Test
    void malformedUnknownAndProtectedIdsChangeNothingAndEchoNothing() {
        ConsoleVisitor admin = signedIn("admin");
        String canary = "zq" + UUID.randomUUID().toString().substring(0, 8);
        for (String path : List.of("/console/users/clients/" + "%3Cscript%3E" + canary + "/disable",
                "/console/users/clients/SVC-" + canary + "/disable",
                "/console/users/clients/svc-" + UUID.randomUUID() + "/disable",
                "/console/users/apps/app-" + UUID.randomUUID() + "/disable",
                "/console/users/apps/" + canary + "%E2%80%AE/disable")) {
            HttpResponse<String> refused = admin.postFrom("/console/users", path, Map.of());
            assertThat(refused.statusCode()).as(path).isIn(400, 404);
            assertThat(refused.body()).as(path).contains("role=\"alert\"").doesNotContain(canary).doesNotContain("<script>");
        }
        ServiceClients.Credentials feed = client("console-fielded-feed", TestPolicy.EVERYTHING);
        HttpResponse<String> withField = admin.postFrom("/console/users", "/console/users/clients/" + feed.clientId()
                + "/disable", Map.of(canary, "1"));
        assertThat(withField.statusCode()).isEqualTo(400);
        assertThat(withField.body()).doesNotContain(canary);
        assertThat(admin.get("/console/users?clients=" + canary).statusCode()).isEqualTo(400);

        // the console's own app: disabling it would end every console session, this one's too
        HttpResponse<String> own = admin.postFrom("/console/users", "/console/users/apps/" + ConsoleApp.CLIENT_ID
                + "/disable", Map.of());
        assertThat(own.statusCode()).isEqualTo(409);
        assertThat(apps.find(ConsoleApp.CLIENT_ID).orElseThrow().disabled()).isFalse();
        assertThat(serviceClients.find(feed.clientId()).orElseThrow().disabled()).isFalse();
        // nothing was changed in this administrator's name (a disabling is audited as admin_change)
        assertThat(events(admin.user, "admin_change")).isEmpty();
        assertThat(admin.get("/console").statusCode()).isEqualTo(200);
    }

    private HttpResponse<String> refresh(SmartAppBrowser app, String refreshToken) {
        return app.browser.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=refresh_token&client_id=" + app.clientId
                        + "&refresh_token=" + URLEncoder.encode(refreshToken, StandardCharsets.UTF_8))));
    }

    private HttpResponse<String> read(String token) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient?_count=1"))
                .header("Authorization", "Bearer " + token).GET());
    }

    private HttpResponse<String> tokenRequest(String clientId, String secret) {
        String basic = Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8));
        return sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
    }
}
