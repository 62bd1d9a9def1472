package health.carapace.compliance;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.CarapaceApplication;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.signin.AccessEndDates;
import health.carapace.signin.Users;
import health.carapace.testing.TestInstallation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Each check with a passing and a failing state made real, on an installation of its own (the
 * shared one holds other tests' users and scans, so "no user without MFA" could never be true
 * there): a user without MFA, an account past its end date, a KEK past its age, a stale and a
 * failed scan, an unsealed event left too long. No web server: the sealer does not run, so the
 * sealing lag is the test's to make.
 */
@SpringBootTest(classes = CarapaceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.NONE)
@DirtiesContext
class CheckStatesTest {

    private static DevEnvironment installation;

    @Autowired
    List<ComplianceCheck> checks;

    @Autowired
    Users users;

    @Autowired
    AccessEndDates accessEnds;

    @Autowired
    ComplianceReports reports;

    @Autowired
    AuditTrail audit;

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        installation().properties().forEach((key, value) -> registry.add(key, () -> value));
    }

    private static synchronized DevEnvironment installation() {
        if (installation == null) {
            installation = TestInstallation.separate("compliance-states");
        }
        return installation;
    }

    private CheckResult evaluate(String id, Instant at) {
        return checks.stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow().evaluate(at);
    }

    @Test
    void aUserWithoutMfaFailsTheMfaCheckUntilTheAccountIsDisabled() {
        String name = "nomfa-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(evaluate("signin.mfa", Instant.now()).status()).isEqualTo(CheckResult.Status.PASS);

        users.create(name, Set.of("clinician"), null);
        CheckResult failing = evaluate("signin.mfa", Instant.now());
        users.disable(name);
        CheckResult passing = evaluate("signin.mfa", Instant.now());

        assertThat(failing.status()).isEqualTo(CheckResult.Status.FAIL);
        assertThat(failing.evidence().get("users without MFA")).contains(name);
        assertThat(passing.status()).isEqualTo(CheckResult.Status.PASS);
    }

    @Test
    void anAccountStillEnabledAnHourPastItsEndDateFails() {
        String name = "leaver-" + UUID.randomUUID().toString().substring(0, 8);
        users.create(name, Set.of("clinician"), null);
        Instant now = Instant.now();
        accessEnds.set(name, now.minus(Duration.ofMinutes(30)), "test");
        CheckResult withinTheHour = evaluate("signin.access-end", now);
        accessEnds.set(name, now.minus(Duration.ofHours(2)), "test");
        CheckResult pastTheHour = evaluate("signin.access-end", now);
        users.disable(name);
        CheckResult disabled = evaluate("signin.access-end", now);

        assertThat(withinTheHour.status()).isEqualTo(CheckResult.Status.PASS);
        assertThat(pastTheHour.status()).isEqualTo(CheckResult.Status.FAIL);
        assertThat(pastTheHour.evidence().get("users still active more than an hour past their end date")).contains(name);
        assertThat(disabled.status()).isEqualTo(CheckResult.Status.PASS);
        assertThat(accessEnds.set("no-such-user", now, "test")).isFalse();
    }

    @Test
    void aKekPastItsRotationAgeFails() {
        Instant now = Instant.now();
        CheckResult young = evaluate("crypto.kek-age", now);
        CheckResult old = evaluate("crypto.kek-age", now.plus(Duration.ofDays(91)).plus(Duration.ofHours(2)));

        assertThat(young.status()).as(young.toString()).isEqualTo(CheckResult.Status.PASS);
        assertThat(old.status()).isEqualTo(CheckResult.Status.FAIL);
        assertThat(old.reason()).contains("kek v");
    }

    @Test
    void aStaleOrFailedScanFailsAndARecentPassingOnePasses() {
        Instant now = Instant.now();
        // (the installation has never been scanned before this test records one)
        reports.recordScan(new ComplianceReports.Scan(now.minus(Duration.ofDays(200)), "https://127.0.0.1:8443", true, 0,
                "testssl: 0, wapiti: 0"));
        CheckResult stale = evaluate("scan.vulnerability", now);
        reports.recordScan(new ComplianceReports.Scan(now, "https://127.0.0.1:8443", false, 3, "testssl: 3 above MEDIUM"));
        CheckResult failed = evaluate("scan.vulnerability", now);
        reports.recordScan(new ComplianceReports.Scan(now, "https://127.0.0.1:8443", true, 0, "testssl: 0, wapiti: 0"));
        CheckResult passed = evaluate("scan.vulnerability", now);

        assertThat(stale.status()).isEqualTo(CheckResult.Status.FAIL);
        assertThat(stale.reason()).contains("older than six months");
        assertThat(failed.status()).isEqualTo(CheckResult.Status.FAIL);
        assertThat(passed.status()).isEqualTo(CheckResult.Status.PASS);
    }

    @Test
    void anEventLeftUnsealedTooLongFailsTheSealingCheck() {
        audit.record(List.of(AuditEvent.now("states-test", AuditAction.VIEWED, "/fhir/Patient/" + UUID.randomUUID(),
                AuditContext.none(), true, "Patient/" + UUID.randomUUID(), null, null)));
        Instant now = Instant.now();

        CheckResult fresh = evaluate("audit.sealing", now);
        CheckResult stuck = evaluate("audit.sealing", now.plus(Duration.ofMinutes(2)));

        assertThat(fresh.status()).as(fresh.toString()).isEqualTo(CheckResult.Status.PASS);
        assertThat(stuck.status()).isEqualTo(CheckResult.Status.FAIL);
        assertThat(stuck.evidence().get("unsealed events")).isNotEqualTo("0");
    }

    @Test
    void aWholeReportWithFailuresExitsOneAndIsStored() {
        ComplianceReports.Stored stored = reports.evaluateAndStore();

        // start-dev is not production: the KEK is in a keystore, the database is not over TLS
        assertThat(stored.overall()).isIn(ComplianceReports.Overall.FAIL, ComplianceReports.Overall.UNKNOWN);
        assertThat(stored.overall().exitStatus()).isIn(1, 2);
        assertThat(new String(reports.render(stored, ComplianceReports.Format.TEXT))).contains("FAIL", "crypto.kek-custody");
        assertThat(reports.stored(stored.id())).isPresent();
    }
}
