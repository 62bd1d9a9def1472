package health.carapace.telehealth;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's chromium driven by Debian's chromium-driver, headless, with a fake camera and
 * microphone whose permission prompt is answered yes. One browser per participant, as in a real
 * visit (separate profiles, separate WebRTC stacks). Missing browser: fails under CI=true, else skipped.
 */
final class HeadlessChromium implements AutoCloseable {

    static final Path BINARY = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");

    final ChromeDriver driver;

    HeadlessChromium() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BINARY.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1100",
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--mute-audio",
                // both browsers on this machine: host candidates as addresses (no mDNS names), loopback allowed
                "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns");
        // the test installation's self-signed certificate
        options.setAcceptInsecureCerts(true);
        org.openqa.selenium.logging.LoggingPreferences logs = new org.openqa.selenium.logging.LoggingPreferences();
        logs.enable(org.openqa.selenium.logging.LogType.BROWSER, java.util.logging.Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    }

    static boolean available() {
        return Files.isExecutable(BINARY) && Files.isExecutable(DRIVER);
    }

    /** Skips a browser test where Chromium is missing, except under CI, where that is a failure (.ci/run installs it). */
    static void require() {
        if (!available() && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("chromium and chromium-driver are required under CI (.ci/run installs them)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(available(), "chromium is not installed");
    }

    void open(String url) {
        driver.get(url);
    }

    void click(String id) {
        driver.findElement(By.id(id)).click();
    }

    String text(String id) {
        return driver.findElement(By.id(id)).getText();
    }

    String attribute(String id, String name) {
        return driver.findElement(By.id(id)).getDomAttribute(name);
    }

    long number(String id) {
        String text = text(id);
        return text.matches("\\d+") ? Long.parseLong(text) : 0;
    }

    void screenshot(Path to) throws java.io.IOException {
        File shot = driver.getScreenshotAs(org.openqa.selenium.OutputType.FILE);
        Files.createDirectories(to.getParent());
        Files.copy(shot.toPath(), to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void close() {
        driver.quit();
    }
}
