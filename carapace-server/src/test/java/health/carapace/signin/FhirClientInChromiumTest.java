package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.util.JSONObjectUtils;
import com.sun.net.httpserver.HttpServer;
import health.carapace.access.CareRelationships;
import health.carapace.audit.AuditContext;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * SMART's own JavaScript client, {@code fhirclient} 2.6.3 (the npm registry's browser build, see
 * {@code fhirclient/ORIGIN.md}), in a small app page served from {@code http://127.0.0.1:<port>}
 * and driven in real headless Chromium (Debian's chromium and chromium-driver) through a full
 * standalone launch (issue #18): discovery and the authorization request by fhirclient, sign-in
 * with password and TOTP, the consent page with its patient picker, the code exchange by
 * fhirclient (PKCE S256, cross-origin), then FHIR requests from the page that succeed inside the
 * granted scopes and fail outside them. The consent page is kept as docs/images/smart-consent.png.
 */
class FhirClientInChromiumTest extends IntegrationTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    private static final String PASSWORD = "correct horse battery staple";
    private static final String SCOPE = "launch/patient openid fhirUser patient/*.rs";

    @Autowired
    private Users users;

    @Autowired
    private SmartApps apps;

    @Autowired
    private CareRelationships relationships;

    private HttpServer appServer;
    private ChromeDriver chromium;

    @BeforeEach
    void appPageAndBrowser() throws Exception {
        if (!(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER))) {
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError("chromium and chromium-driver are required under CI (.ci/run installs them)");
            }
            org.junit.jupiter.api.Assumptions.assumeTrue(false, "chromium is not installed");
        }
        // the test app: its pages and fhirclient, on a loopback origin of its own
        appServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        Map<String, String> files = Map.of("/app/launch.html", "launch.html", "/app/index.html", "index.html",
                "/app/fhir-client.js", "fhir-client.pure.min.js");
        appServer.createContext("/app/", exchange -> {
            String file = files.get(exchange.getRequestURI().getPath());
            if (file == null) {
                exchange.sendResponseHeaders(404, -1);
                exchange.close();
                return;
            }
            byte[] body;
            try (InputStream in = getClass().getResourceAsStream("fhirclient/" + file)) {
                body = in.readAllBytes();
            }
            exchange.getResponseHeaders().set("Content-Type",
                    file.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        appServer.start();

        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,1200");
        options.setAcceptInsecureCerts(true); // the test installation's self-signed certificate
        options.setCapability("goog:loggingPrefs", Map.of("browser", "ALL"));
        chromium = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort().build(), options);
        chromium.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    }

    @AfterEach
    void closeBrowser() {
        if (chromium != null) {
            chromium.quit();
        }
        if (appServer != null) {
            appServer.stop(0);
        }
    }

    private String patient() {
        Patient patient = new Patient();
        patient.addName().setFamily("Chromium" + UUID.randomUUID().toString().replace("-", ""));
        return fhirClient().create().resource(patient).execute().getId().getIdPart();
    }

    private void waitForPath(String path) {
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> URI.create(chromium.getCurrentUrl()).getPath(), path::equals);
        } catch (org.awaitility.core.ConditionTimeoutException timeout) {
            // what the page says and what the browser logged, so a failure explains itself
            StringBuilder page = new StringBuilder("page " + chromium.getCurrentUrl() + " did not reach " + path + ":\n");
            for (var element : chromium.findElements(By.id("status"))) {
                page.append("status: ").append(element.getText()).append('\n');
            }
            for (var entry : chromium.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER)) {
                page.append(entry).append('\n');
            }
            throw new AssertionError(page.toString(), timeout);
        }
    }

    private void type(String id, String text) {
        chromium.findElement(By.id(id)).sendKeys(text);
    }

    private void press(String label) {
        chromium.findElement(By.xpath("//button[normalize-space()='" + label + "']")).click();
    }

    @Test
    @SuppressWarnings("unchecked")
    void fhirclientLaunchesSignsInWithTotpConsentsPicksAPatientAndReadsOnlyInsideItsScopes() throws Exception {
        String patientA = patient();
        String patientB = patient();
        Observation observation = new Observation();
        observation.setStatus(Observation.ObservationStatus.FINAL);
        observation.getCode().setText("heart rate");
        observation.setSubject(new Reference("Patient/" + patientA));
        String observationA = fhirClient().create().resource(observation).execute().getId().getIdPart();

        String origin = "http://127.0.0.1:" + appServer.getAddress().getPort();
        String clientId = apps.create("fhirclient test app", List.of(origin + "/app/index.html"),
                List.of(SCOPE.split(" ")), false, null, "test-admin", AuditContext.none()).clientId();
        String user = "fhirclient-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(user, Set.of(TestPolicy.CLINICIAN), null);
        relationships.assign(user, "Patient/" + patientA, "test-admin", AuditContext.none());
        relationships.assign(user, "Patient/" + patientB, "test-admin", AuditContext.none());
        // A new app's origin is allowed on every node within a second (SmartAppOrigins): a launch made
        // sooner gets no CORS answer, and fhirclient does not try again.
        awaitAllowed(origin);
        SignInBrowser enrolling = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        assertThat(enrolling.setPassword(enrolment.link(), PASSWORD).statusCode()).isEqualTo(200);

        // fhirclient: discovery, then the authorization request, which lands on the sign-in page
        chromium.get(origin + "/app/launch.html?client=" + clientId + "&scope=" + URLEncoder.encode(SCOPE, StandardCharsets.UTF_8)
                + "&iss=" + URLEncoder.encode(fhirBase(), StandardCharsets.UTF_8) + "&other=" + patientB);
        waitForPath("/login");
        type("username", user);
        type("password", PASSWORD);
        chromium.findElement(By.id("password")).submit();
        waitForPath("/login/totp");
        String secret = chromium.findElement(By.id("secret")).getText();
        type("code", SignInBrowser.totp(secret, System.currentTimeMillis() / 30_000));
        chromium.findElement(By.id("code")).submit();

        // the consent page: what the app asks for, and the picker of the person's patients
        waitForPath("/login/consent");
        assertThat(chromium.getPageSource()).contains("patient/*.rs").contains(patientA).contains(patientB);
        Path shot = Path.of("..", "docs", "images", "smart-consent.png");
        Files.createDirectories(shot.getParent());
        Files.copy(chromium.getScreenshotAs(OutputType.FILE).toPath(), shot, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        chromium.findElement(By.cssSelector("input[type=radio][name=patient][value='" + patientA + "']")).click();
        press("Allow");

        // back in the app: fhirclient exchanged the code (cross-origin, PKCE) and made the requests
        waitForPath("/app/index.html");
        String json = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> chromium.findElement(By.id("result")).getText(), text -> !text.isBlank());
        Map<String, Object> result = JSONObjectUtils.parse(json);
        assertThat(result).as(json).doesNotContainKey("error");
        assertThat(result.get("patient")).isEqualTo(patientA);
        assertThat(((String) result.get("scope")).split(" ")).contains("patient/*.rs", "launch/patient");
        Map<String, Object> read = (Map<String, Object>) result.get("readPatient");
        assertThat(read.get("ok")).as(json).isEqualTo(true);
        assertThat(read.get("id")).isEqualTo(patientA);
        Map<String, Object> search = (Map<String, Object>) result.get("searchObservations");
        assertThat(search.get("ok")).as(json).isEqualTo(true);
        assertThat((List<String>) search.get("entries")).containsExactly("Observation/" + observationA);
        // outside the scopes: another patient the person's role reaches, and a write the role could make
        assertThat(((Map<String, Object>) result.get("readOtherPatient")).get("status")).as(json).isEqualTo(403L);
        assertThat(((Map<String, Object>) result.get("write")).get("status")).as(json).isEqualTo(403L);
    }

    /** Only registered SMART app origins get CORS answers, and only on the routes an app calls. */
    @Test
    void crossOriginAnswersGoOnlyToRegisteredAppOrigins() throws Exception {
        String origin = "http://127.0.0.1:" + appServer.getAddress().getPort();
        apps.create("cors test app", List.of(origin + "/app/index.html"), List.of("launch/patient", "patient/*.rs"), false,
                null, "test-admin", AuditContext.none());
        awaitAllowed(origin);
        HttpResponse<String> allowed = preflight(origin, "/fhir/Patient");
        assertThat(allowed.headers().firstValue("Access-Control-Allow-Credentials")).isEmpty();
        assertThat(allowed.headers().firstValue("Access-Control-Allow-Headers").orElse("").toLowerCase())
                .contains("authorization");
        for (String other : List.of("https://evil.example", "http://127.0.0.1:1", "null", origin + ".evil.example")) {
            HttpResponse<String> refused = preflight(other, "/fhir/Patient");
            assertThat(refused.headers().firstValue("Access-Control-Allow-Origin")).as(other).isEmpty();
            assertThat(refused.headers().firstValue("Access-Control-Allow-Methods")).as(other).isEmpty();
            assertThat(refused.body()).as(other).doesNotContain("resourceType\":\"Bundle");
        }
        // the sign-in and consent pages are never answered cross-origin
        HttpResponse<String> login = sendWithoutToken(HttpRequest.newBuilder(uri("/login")).header("Origin", origin).GET());
        assertThat(login.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        HttpResponse<String> discovery = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/.well-known/smart-configuration"))
                .header("Origin", origin).GET());
        assertThat(discovery.headers().firstValue("Access-Control-Allow-Origin")).contains(origin);
    }

    private void awaitAllowed(String origin) {
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).until(() -> preflight(origin,
                "/fhir/Patient").headers().firstValue("Access-Control-Allow-Origin").orElse(""), origin::equals);
    }

    private HttpResponse<String> preflight(String origin, String path) {
        return sendWithoutToken(HttpRequest.newBuilder(uri(path)).header("Origin", origin)
                .header("Access-Control-Request-Method", "GET")
                .header("Access-Control-Request-Headers", "authorization")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
    }
}
