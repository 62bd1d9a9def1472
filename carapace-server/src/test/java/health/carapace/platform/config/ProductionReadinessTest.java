package health.carapace.platform.config;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.platform.logging.RedactingJsonFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.mock.env.MockEnvironment;

@ExtendWith(OutputCaptureExtension.class)
class ProductionReadinessTest {

    private static MockEnvironment complete() {
        return new MockEnvironment()
                .withProperty("carapace.mode", "prod")
                .withProperty("logging.structured.format.console", RedactingJsonFormat.class.getName())
                .withProperty("carapace.db.url", "jdbc:postgresql://db.example:5432/carapace?sslmode=verify-full")
                .withProperty("carapace.keyring.url", "jdbc:postgresql://keys.example:5432/keyring?sslmode=verify-full")
                .withProperty("carapace.db.username", "carapace_phi")
                .withProperty("carapace.keyring.username", "carapace_keyring")
                .withProperty("server.ssl.key-store", "/etc/carapace/tls.p12")
                .withProperty("carapace.kek.provider", "pkcs11")
                .withProperty("carapace.kek.pkcs11.library", "/usr/lib/softhsm/libsofthsm2.so")
                .withProperty("carapace.kek.pkcs11.pin", "1234")
                .withProperty("carapace.kek.pkcs11.key-label", "carapace-kek")
                .withProperty("carapace.audit.witness-dir", "/mnt/worm/carapace-witness")
                .withProperty("carapace.access.policy-dir", System.getProperty("java.io.tmpdir"))
                .withProperty("carapace.public-base-url", "https://fhir.example.org")
                .withProperty("carapace.incident.evidence.public-key", existingFile());
    }

    private static String existingFile() {
        try {
            java.nio.file.Path key = java.nio.file.Files.createTempFile("evidence-public-key", ".json");
            key.toFile().deleteOnExit();
            return key.toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void productionRefusesToStartWithoutTheEvidencePublicKey() {
        assertThat(ProductionReadiness.problems(complete().withProperty("carapace.incident.evidence.public-key", "")))
                .anyMatch(p -> p.contains("carapace.incident.evidence.public-key is required")
                        && p.contains("private key the compliance officer holds offline"));
        assertThat(ProductionReadiness.problems(complete()
                .withProperty("carapace.incident.evidence.public-key", "/nonexistent/evidence-public-key.json")))
                .anyMatch(p -> p.contains("names no file"));
    }

    @Test
    void productionRefusesToStartWithoutAPublicBaseUrlToBuildLinksFrom() {
        assertThat(ProductionReadiness.problems(complete().withProperty("carapace.public-base-url", "")))
                .anyMatch(p -> p.contains("carapace.public-base-url is required"));
        for (String bad : List.of("http://fhir.example.org", "https://fhir.example.org/fhir", "https://localhost:0",
                "fhir.example.org", "https://fhir.example.org/?a=b", "https://user@fhir.example.org")) {
            assertThat(ProductionReadiness.problems(complete().withProperty("carapace.public-base-url", bad)))
                    .as(bad).anyMatch(p -> p.contains("carapace.public-base-url must be https://host[:port]"));
        }
        assertThat(ProductionReadiness.problems(complete().withProperty("carapace.public-base-url",
                "https://fhir.example.org:8443/"))).isEmpty();
    }

    @Test
    void productionNeedsAnExistingPolicyDirectoryAndHasNoImplicitRoles() {
        assertThat(ProductionReadiness.problems(complete().withProperty("carapace.access.policy-dir", "")))
                .anyMatch(p -> p.contains("carapace.access.policy-dir is required") && p.contains("no implicit roles"));
        assertThat(ProductionReadiness.problems(complete()
                .withProperty("carapace.access.policy-dir", "/nonexistent/carapace-policy")))
                .anyMatch(p -> p.contains("carapace.access.policy-dir does not exist"));
    }

    @Test
    void productionRefusesJwksUrlsOnThisMachineWhichStartDevAllows() {
        assertThat(ProductionReadiness.problems(complete().withProperty("carapace.smart.jwks-allow-loopback", "true")))
                .anyMatch(p -> p.contains("carapace.smart.jwks-allow-loopback is for start-dev only"));
        assertThat(ProductionReadiness.problems(complete().withProperty("carapace.smart.jwks-allow-loopback", "yes")))
                .anyMatch(p -> p.contains("carapace.smart.jwks-allow-loopback must be true or false"));
        assertThat(ProductionReadiness.problems(complete().withProperty("carapace.mode", "dev")
                .withProperty("carapace.smart.jwks-allow-loopback", "true")))
                .noneMatch(p -> p.contains("jwks"));
    }

    @Test
    void aCompleteProductionConfigurationPasses() {
        assertThat(ProductionReadiness.problems(complete())).isEmpty();
    }

    @Test
    void anEmptyProductionConfigurationNamesEverythingMissing() {
        List<String> problems = ProductionReadiness.problems(new MockEnvironment()
                .withProperty("carapace.mode", "prod")
                .withProperty("logging.structured.format.console", RedactingJsonFormat.class.getName()));
        assertThat(String.join("\n", problems))
                .contains("carapace.db.url is required")
                .contains("carapace.keyring.url is required")
                .contains("TLS certificate is required")
                .contains("carapace.kek.provider must be pkcs11")
                .contains("carapace.kek.pkcs11.pin is required")
                .contains("carapace.public-base-url is required");
    }

    @Test
    void theDevKeystoreIsRefused() {
        assertThat(ProductionReadiness.problems(complete().withProperty("carapace.kek.provider", "dev-keystore")))
                .anyMatch(p -> p.contains("dev keystore KEK is for start-dev only"));
    }

    @Test
    void databaseWithoutVerifiedTlsIsRefused() {
        assertThat(ProductionReadiness.problems(complete()
                .withProperty("carapace.db.url", "jdbc:postgresql://db.example:5432/carapace?sslmode=require")))
                .anyMatch(p -> p.contains("carapace.db.url must use TLS with certificate verification"));
    }

    @Test
    void keyringAndPhiMustUseDifferentDatabaseUsers() {
        assertThat(ProductionReadiness.problems(complete().withProperty("carapace.keyring.username", "carapace_phi")))
                .anyMatch(p -> p.contains("different database users"));
    }

    @Test
    void startDevWarnsWithoutSecretsWhenKeyringAndPhiShareADatabaseUser(CapturedOutput output) {
        MockEnvironment shared = new MockEnvironment()
                .withProperty("carapace.mode", "dev")
                .withProperty("logging.structured.format.console", RedactingJsonFormat.class.getName())
                .withProperty("carapace.db.username", "shared_user_7f3a")
                .withProperty("carapace.db.password", "pw-9c41e2")
                .withProperty("carapace.keyring.username", "shared_user_7f3a")
                .withProperty("carapace.keyring.password", "pw-9c41e2");
        assertThat(ProductionReadiness.problems(shared)).as("start-dev still starts").isEmpty();

        ProductionReadiness readiness = new ProductionReadiness();
        readiness.setEnvironment(shared);
        readiness.postProcessBeanFactory(new DefaultListableBeanFactory());

        assertThat(output.getAll()).contains("Key separation is off")
                .doesNotContain("shared_user_7f3a").doesNotContain("pw-9c41e2");
    }

    @Test
    void startDevDoesNotWarnWhenTheUsersDiffer(CapturedOutput output) {
        MockEnvironment separate = new MockEnvironment()
                .withProperty("carapace.mode", "dev")
                .withProperty("logging.structured.format.console", RedactingJsonFormat.class.getName())
                .withProperty("carapace.db.username", "carapace_phi")
                .withProperty("carapace.keyring.username", "carapace_keyring");
        ProductionReadiness readiness = new ProductionReadiness();
        readiness.setEnvironment(separate);
        readiness.postProcessBeanFactory(new DefaultListableBeanFactory());

        assertThat(output.getAll()).doesNotContain("Key separation is off");
    }

    @Test
    void logRedactionCannotBeSwitchedOff() {
        assertThat(ProductionReadiness.problems(complete().withProperty("logging.structured.format.console", "ecs")))
                .anyMatch(p -> p.contains("PHI redaction"));
        assertThat(ProductionReadiness.problems(complete().withProperty("logging.file.name", "/var/log/carapace.log")))
                .anyMatch(p -> p.contains("logging.structured.format.file"));
    }

    @Test
    void httpsCannotBeSwitchedOff() {
        assertThat(ProductionReadiness.problems(complete().withProperty("server.ssl.enabled", "false")))
                .anyMatch(p -> p.contains("HTTPS only"));
    }

    @Test
    void aMissingModeIsRefusedEvenOutsideProduction() {
        assertThat(ProductionReadiness.problems(new MockEnvironment())).anyMatch(p -> p.contains("carapace.mode"));
    }
}
