package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import health.carapace.audit.AuditContext;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The sign-in pages in real headless Chromium (Debian's chromium and chromium-driver): a person
 * sets their password from the enrolment link, signs in to a registered SMART app by keyboard
 * alone, enrols TOTP, consents, and the app's code is exchanged; later a refused sign-in and the
 * TOTP page. On every page: the product's name, the app's display name and the scopes in words are
 * shown; axe-core (vendored, injected) finds no serious or critical violation; the page has no
 * horizontal scroll at 200% zoom (a 640 px wide viewport for a 1280 px window); a screenshot goes
 * to docs/images/signin-*.png. An app's display name holding HTML and script is shown as text and
 * never runs. Missing browser: fails under CI=true, else skipped.
 */
class SignInPagesInChromiumTest extends IntegrationTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    private static final String PASSWORD = "a passphrase typed in chromium";
    private static final String SCOPE = "openid fhirUser user/Patient.rs user/Observation.rs";
    private static final int WIDTH = 1280;

    @Autowired
    private Users users;

    @Autowired
    private SmartApps apps;

    private ChromeDriver chromium;
    private HttpServer appServer;
    private String axe;

    @BeforeEach
    void openBrowser() throws IOException {
        boolean available = Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER);
        if (!available && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("chromium and chromium-driver are required under CI (.ci/run installs them)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(available, "chromium is not installed");
        try (InputStream in = getClass().getResourceAsStream("/health/carapace/signin/axe/axe.min.js")) {
            axe = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        // the app's redirect URI: answers the browser so that the callback's URL can be read
        appServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        appServer.createContext("/callback", exchange -> {
            byte[] body = "<!DOCTYPE html><html lang=\"en\"><title>app</title><p>back in the app</p></html>"
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        appServer.start();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=" + WIDTH + ",1000", "--lang=en-US");
        options.setAcceptInsecureCerts(true); // the test installation's self-signed certificate
        chromium = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort().build(), options);
        chromium.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
        chromium.manage().timeouts().scriptTimeout(Duration.ofSeconds(60));
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

    @Test
    void signInTotpEnrolmentAndConsentShowTheProductTheAppAndTheScopesAccessibly() throws Exception {
        String appName = "Ward Rounds Viewer";
        String clientId = apps.create(appName, List.of("http://127.0.0.1/callback"), List.of(SCOPE.split(" ")), false,
                null, "test-admin", AuditContext.none()).clientId();
        String user = "chromium-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(user, Set.of(TestPolicy.CLINICIAN), null);
        SignInBrowser http = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        List<String> problems = new ArrayList<>();

        // the enrolment link: choose a password
        chromium.get(http.local(enrolment.link()));
        checkPage("enrol", problems);
        type("password", PASSWORD);
        type("confirm", PASSWORD);
        chromium.findElement(By.id("confirm")).sendKeys(Keys.ENTER);
        await().atMost(Duration.ofSeconds(30)).until(() -> chromium.getPageSource().contains("Your password is set"));

        // the app asks: the sign-in page names the product and the app, and works by keyboard alone
        String verifier = SignInBrowser.randomText();
        String state = SignInBrowser.randomText();
        chromium.get(authorizeUrl(clientId, SCOPE, verifier, state));
        waitForPath("/login");
        assertThat(chromium.findElement(By.id("product")).getText()).isEqualTo("Carapace");
        assertThat(chromium.findElement(By.id("asking-app")).getText()).isEqualTo("Signing in to " + appName);
        checkPage("login", problems);
        new Actions(chromium).sendKeys(Keys.TAB).perform();
        assertThat(chromium.switchTo().activeElement().getDomAttribute("id")).isEqualTo("username");
        new Actions(chromium).sendKeys(user).sendKeys(Keys.TAB).perform();
        assertThat(chromium.switchTo().activeElement().getDomAttribute("id")).isEqualTo("password");
        new Actions(chromium).sendKeys(PASSWORD).sendKeys(Keys.TAB).perform();
        assertThat(chromium.switchTo().activeElement().getText()).isEqualTo("Continue");
        new Actions(chromium).sendKeys(Keys.ENTER).perform();

        // TOTP enrolment
        waitForPath("/login/totp");
        assertThat(chromium.findElement(By.id("asking-app")).getText()).contains(appName);
        checkPage("totp", problems);
        String secret = chromium.findElement(By.id("secret")).getText();
        type("code", http.nextCode(secret));
        chromium.findElement(By.id("code")).sendKeys(Keys.ENTER);

        // consent: the app by its display name, the scopes in words
        waitForPath("/login/consent");
        String consent = chromium.findElement(By.id("consent-app")).getText();
        assertThat(consent).startsWith(appName + " (" + clientId + ") asks to act for you, " + user);
        String granted = chromium.findElement(By.id("granted-scopes")).getText();
        assertThat(granted).contains("Confirm who you are to the application")
                .contains("Read, search Patient records of every patient you may see user/Patient.rs")
                .contains("Read, search Observation records of every patient you may see user/Observation.rs");
        checkPage("consent", problems);
        chromium.findElement(By.xpath("//button[normalize-space()='Allow']")).click();

        // back at the app with a code that the app can exchange (PKCE)
        waitForPath("/callback");
        Map<String, String> callback = SignInBrowser.query(URI.create(chromium.getCurrentUrl()));
        assertThat(callback.get("state")).isEqualTo(state);
        HttpResponse<String> exchanged = http.post(baseUrl() + "/oauth2/token", Map.of("grant_type", "authorization_code",
                "code", callback.get("code"), "redirect_uri", redirectUri(), "client_id", clientId,
                "code_verifier", verifier));
        assertThat(exchanged.statusCode()).as(exchanged.body()).isEqualTo(200);

        // later: a refused sign-in (a name that does not exist), then the person's own, with the TOTP page
        chromium.get(baseUrl() + "/login"); // cookies are deleted for the page's own site: the server's
        chromium.manage().deleteAllCookies();
        chromium.get(authorizeUrl(clientId, SCOPE, SignInBrowser.randomText(), SignInBrowser.randomText()));
        waitForPath("/login");
        type("username", "nobody-" + UUID.randomUUID().toString().substring(0, 8));
        type("password", "not a password of anyone");
        chromium.findElement(By.id("password")).sendKeys(Keys.ENTER);
        await().atMost(Duration.ofSeconds(30)).until(() -> !chromium.findElements(By.id("error")).isEmpty());
        assertThat(chromium.findElement(By.id("error")).getText())
                .isEqualTo("Sign-in failed. Check your user name and password, or try again later.");
        checkPage("error", problems);
        type("username", user);
        type("password", PASSWORD);
        chromium.findElement(By.id("password")).sendKeys(Keys.ENTER);
        waitForPath("/login/mfa");
        checkPage("mfa", problems);

        assertThat(problems).as("accessibility and 200% zoom findings").isEmpty();
    }

    @Test
    void anAppsDisplayNameHoldingMarkupIsShownAsTextAndNeverRuns() {
        String hostile = "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script>Rounds";
        String clientId = apps.create(hostile, List.of("http://127.0.0.1/callback"), List.of("openid", "user/Patient.rs"),
                false, null, "test-admin", AuditContext.none()).clientId();

        chromium.get(authorizeUrl(clientId, "openid user/Patient.rs", SignInBrowser.randomText(),
                SignInBrowser.randomText()));
        waitForPath("/login");

        assertThat(chromium.findElement(By.id("asking-app")).getText()).isEqualTo("Signing in to " + hostile);
        assertThat(chromium.executeScript("return typeof window.pwned")).isEqualTo("undefined");
        assertThat(chromium.executeScript("return document.querySelectorAll('img, script').length")).isEqualTo(0L);
    }

    // --- each page --------------------------------------------------------------------------------

    /** axe-core, the 200% zoom check, and the screenshot of one page. */
    private void checkPage(String name, List<String> problems) throws IOException {
        problems.addAll(axeViolations(name));
        chromium.manage().window().setSize(new Dimension(WIDTH / 2, 1000));
        Object overflow = chromium.executeScript(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth");
        if (((Number) overflow).longValue() > 0) {
            problems.add(name + ": scrolls sideways at 200% zoom by " + overflow + " px");
        }
        chromium.manage().window().setSize(new Dimension(WIDTH, 1000));
        Path shot = Path.of("..", "docs", "images", "signin-" + name + ".png");
        Files.createDirectories(shot.getParent());
        Files.copy(chromium.getScreenshotAs(OutputType.FILE).toPath(), shot, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Serious and critical axe-core violations of the page, as "page: rule (impact) × nodes". */
    @SuppressWarnings("unchecked")
    private List<String> axeViolations(String name) {
        chromium.executeScript(axe);
        Object result = chromium.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                axe.run(document, {resultTypes: ['violations']})
                    .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))))
                    .catch(e => done('axe failed: ' + e));""");
        assertThat(result).as("axe-core ran on " + name).isInstanceOf(List.class);
        return ((List<Map<String, Object>>) result).stream()
                .filter(v -> "serious".equals(v.get("impact")) || "critical".equals(v.get("impact")))
                .map(v -> name + ": " + v.get("id") + " (" + v.get("impact") + ") x " + v.get("nodes"))
                .collect(Collectors.toList());
    }

    private void type(String id, String text) {
        WebElement field = chromium.findElement(By.id(id));
        field.clear();
        field.sendKeys(text);
    }

    private void waitForPath(String path) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> URI.create(chromium.getCurrentUrl()).getPath(), path::equals);
    }

    private String redirectUri() {
        return "http://127.0.0.1:" + appServer.getAddress().getPort() + "/callback";
    }

    private String authorizeUrl(String clientId, String scope, String verifier, String state) {
        Map<String, String> query = new LinkedHashMap<>();
        query.put("response_type", "code");
        query.put("client_id", clientId);
        query.put("redirect_uri", redirectUri());
        query.put("scope", scope);
        query.put("state", state);
        query.put("aud", fhirBase());
        query.put("code_challenge", SignInBrowser.s256(verifier));
        query.put("code_challenge_method", "S256");
        return baseUrl() + "/oauth2/authorize?" + query.entrySet().stream()
                .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
    }
}
