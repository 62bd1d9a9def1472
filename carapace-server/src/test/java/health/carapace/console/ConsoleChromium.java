package health.carapace.console;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's chromium through Debian's chromium-driver, headless, downloading into a directory of the
 * test's own; axe-core (vendored, see ORIGIN.md beside it) injected into the page on request.
 * Missing browser: fails under CI=true (.ci/run installs it), else the test is skipped.
 */
final class ConsoleChromium implements AutoCloseable {

    static final Path BINARY = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");

    final ChromeDriver driver;
    final Path downloads;

    ConsoleChromium() throws java.io.IOException {
        downloads = Files.createTempDirectory("console-downloads-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BINARY.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000");
        options.setAcceptInsecureCerts(true); // the test installation's self-signed certificate
        options.setExperimentalOption("prefs", Map.of("download.default_directory", downloads.toString(),
                "download.prompt_for_download", false));
        org.openqa.selenium.logging.LoggingPreferences logs = new org.openqa.selenium.logging.LoggingPreferences();
        logs.enable(org.openqa.selenium.logging.LogType.BROWSER, java.util.logging.Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    }

    static void require() {
        boolean available = Files.isExecutable(BINARY) && Files.isExecutable(DRIVER);
        if (!available && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("chromium and chromium-driver are required under CI (.ci/run installs them)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(available, "chromium is not installed");
    }

    void open(String url) {
        driver.get(url);
    }

    WebElement find(By by) {
        return new WebDriverWait(driver, Duration.ofSeconds(20)).until(ExpectedConditions.presenceOfElementLocated(by));
    }

    void type(By by, String text) {
        WebElement field = find(by);
        field.clear();
        field.sendKeys(text);
    }

    void click(By by) {
        find(by).click();
    }

    /** Waits until the page's URL passes {@code path} (a navigation finished). */
    void awaitPath(String path) {
        new WebDriverWait(driver, Duration.ofSeconds(20)).until(d -> java.net.URI.create(d.getCurrentUrl()).getPath()
                .equals(path));
    }

    /** Waits until the page's URL has {@code query} as its query (a GET form's answer arrived). */
    void awaitQuery(String query) {
        new WebDriverWait(driver, Duration.ofSeconds(20)).until(d -> query.equals(java.net.URI.create(d.getCurrentUrl())
                .getRawQuery()));
    }

    String text(By by) {
        return find(by).getText();
    }

    /**
     * Waits until the element's text starts with {@code expected} (a form's answer replaced the page):
     * the previous page's element of the same id may still be there, or go stale while it is read.
     */
    String awaitText(By by, String expected) {
        return new WebDriverWait(driver, Duration.ofSeconds(20)).ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                .until(d -> {
                    String text = d.findElements(by).isEmpty() ? "" : d.findElement(by).getText();
                    return text.startsWith(expected) ? text : null;
                });
    }

    /** Serious and critical axe-core violations on the current page: "rule-id: help (n nodes)". */
    @SuppressWarnings("unchecked")
    List<String> seriousAccessibilityViolations() throws java.io.IOException {
        try (var in = ConsoleChromium.class.getResourceAsStream("axe-4.14.1.min.js")) {
            driver.executeScript(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
        Object result = driver.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                axe.run(document, {resultTypes: ['violations']})
                  .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                      .map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ' nodes: '
                          + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ') + ')')))
                  .catch(e => done(['axe failed: ' + e]));""");
        return (List<String>) result;
    }

    /** Errors in the browser's console (a CSP violation is one). */
    List<String> consoleErrors() {
        return driver.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER).getAll().stream()
                .filter(entry -> entry.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue())
                .map(entry -> entry.getMessage()).toList();
    }

    void screenshot(Path to) throws java.io.IOException {
        File shot = driver.getScreenshotAs(OutputType.FILE);
        Files.createDirectories(to.getParent());
        Files.copy(shot.toPath(), to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void close() {
        driver.quit();
    }
}
