package health.carapace.compliance.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.ComplianceReports;
import health.carapace.compliance.Rule;
import health.carapace.compliance.ScanTarget;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parts of checks that judge values without the server: versions, backups, overall verdicts, scan targets. */
class CheckJudgementTest {

    @TempDir
    Path temp;

    @Test
    void aComponentBelowAKnownWeakVersionIsFlaggedAndOneAtOrAboveItIsNot() {
        KnownWeakComponents list = KnownWeakComponents.parse("""
                # comment
                org.postgresql:postgresql   42.7.2   CVE-2024-1597
                postgresql-server           15.0     out of support
                """);

        assertThat(list.judge("org.postgresql:postgresql", "42.7.1")).isPresent();
        assertThat(list.judge("org.postgresql:postgresql", "42.7.2")).isEmpty();
        assertThat(list.judge("org.postgresql:postgresql", "42.10.0")).isEmpty();
        assertThat(list.judge("postgresql-server", "14.22")).isPresent();
        assertThat(list.judge("postgresql-server", "16.1")).isEmpty();
        assertThat(list.judge("other:thing", "0.1")).isEmpty();
        assertThat(KnownWeakComponents.bundled().size()).isPositive();
    }

    @Test
    void backupAgeIsJudgedFromTheNewestFileAndNotApplicableWithoutALocation() throws Exception {
        Instant now = Instant.now();
        assertThat(new BackupCheck("", Duration.ofDays(1)).evaluate(now).status())
                .isEqualTo(CheckResult.Status.NOT_APPLICABLE);
        assertThat(new BackupCheck(temp.toString(), Duration.ofDays(1)).evaluate(now).status())
                .as("empty location").isEqualTo(CheckResult.Status.FAIL);
        Path old = Files.writeString(temp.resolve("base-1.tar"), "x");
        Files.setLastModifiedTime(old, FileTime.from(now.minus(Duration.ofDays(3))));
        assertThat(new BackupCheck(temp.toString(), Duration.ofDays(1)).evaluate(now).status())
                .isEqualTo(CheckResult.Status.FAIL);
        Files.writeString(temp.resolve("base-2.tar"), "y");
        assertThat(new BackupCheck(temp.toString(), Duration.ofDays(1)).evaluate(now).status())
                .isEqualTo(CheckResult.Status.PASS);
    }

    @Test
    void theOverallVerdictIsTheWorstAndGivesTheExitStatus() {
        EvaluatedCheck pass = evaluated(CheckResult.pass(CheckResult.Evidence.of()));
        EvaluatedCheck na = evaluated(CheckResult.notApplicable("n/a", CheckResult.Evidence.of()));
        EvaluatedCheck fail = evaluated(CheckResult.fail("no", CheckResult.Evidence.of()));
        EvaluatedCheck unknown = evaluated(CheckResult.unknown("could not evaluate"));

        assertThat(ReportDocument.overall(List.of(pass, na))).isEqualTo(ComplianceReports.Overall.PASS);
        assertThat(ReportDocument.overall(List.of(pass, fail))).isEqualTo(ComplianceReports.Overall.FAIL);
        assertThat(ReportDocument.overall(List.of(fail, unknown))).isEqualTo(ComplianceReports.Overall.UNKNOWN);
        assertThat(List.of(ComplianceReports.Overall.PASS.exitStatus(), ComplianceReports.Overall.FAIL.exitStatus(),
                ComplianceReports.Overall.UNKNOWN.exitStatus())).containsExactly(0, 1, 2);
    }

    @Test
    void aCheckThatThrowsIsUnknownAndItsMessageIsNotShown() {
        ComplianceCheck throwing = new ComplianceCheck() {
            public String id() { return "test.throws"; }
            public String title() { return "throws"; }
            public List<Rule> rules() { return List.of(Rule.EVALUATION); }
            public CheckResult evaluate(Instant now) { throw new IllegalStateException("secret-from-driver"); }
        };
        List<EvaluatedCheck> results = new CheckRunner(List.of(throwing), java.time.Clock.systemUTC()).evaluateAll();

        assertThat(results.get(0).result().status()).isEqualTo(CheckResult.Status.UNKNOWN);
        assertThat(results.get(0).result().reason()).doesNotContain("secret-from-driver");
    }

    @Test
    void checksWithMalformedOrDuplicateIdsRefuseToStart() {
        ComplianceCheck bad = new OutsideEvidenceChecks.Declared("Not An Id", "t", List.of(Rule.EVALUATION), "r");
        ComplianceCheck a = new OutsideEvidenceChecks.Declared("a.b", "t", List.of(Rule.EVALUATION), "r");
        assertThatThrownBy(() -> new CheckRunner(List.of(bad), java.time.Clock.systemUTC()))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new CheckRunner(List.of(a, a), java.time.Clock.systemUTC()))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aScanTargetOutsideTheLoopbackIsRefusedWithoutEchoingIt() {
        assertThat(ScanTarget.parse("https://127.0.0.1:8443").url()).isEqualTo("https://127.0.0.1:8443");
        assertThat(ScanTarget.parse("https://localhost:9443/").port()).isEqualTo(9443);
        assertThat(ScanTarget.parse("https://[::1]:8443").host()).isEqualTo("[::1]");
        for (String target : List.of("https://example.org:443", "https://10.0.0.5:8443", "https://127.0.0.1.nip.io:8443",
                "http://127.0.0.1:8443", "https://user@127.0.0.1:8443", "https://127.0.0.1:8443/fhir",
                "https://127.0.0.1:8443?x=1", "https://127.0.0.1", "https://[::2]:8443", "https://0.0.0.0:8443",
                "https://127.0.0.256:8443", "not a url at all", "https://localhost.evil.example:8443")) {
            assertThatThrownBy(() -> ScanTarget.parse(target)).as(target).isInstanceOf(ScanTarget.Refused.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(target));
        }
    }

    private static EvaluatedCheck evaluated(CheckResult result) {
        return new EvaluatedCheck("a.b", "t", List.of(Rule.EVALUATION), result, Instant.now(), 0);
    }
}
