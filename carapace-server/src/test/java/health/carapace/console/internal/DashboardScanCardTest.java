package health.carapace.console.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.compliance.ComplianceReports;
import health.carapace.testing.IntegrationTest;
import java.time.Clock;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.thymeleaf.ITemplateEngine;
import org.thymeleaf.context.Context;

/**
 * The dashboard's last-scan card, rendered by the server's own template engine: "no scan recorded"
 * when the store has none (a state the shared test installation cannot be put back into once any
 * test recorded a scan), the latest scan's verdict, findings and time when it has one, and no card
 * at all without {@code view:compliance}. The card's reading of the store itself is proved through
 * the running console (ConsoleBrowserTest).
 */
class DashboardScanCardTest extends IntegrationTest {

    @Autowired
    private ITemplateEngine templates;

    @Test
    void withoutAScanTheCardSaysNoneIsRecordedAndWithOneItShowsItsVerdictFindingsAndTime() {
        String none = render(true, null);
        assertThat(none).contains("Last outside scan").contains("id=\"no-scan\"").contains("No scan recorded")
                .doesNotContain("id=\"scan-findings\"");

        Instant finished = Instant.parse("2026-11-30T10:15:00Z");
        String failed = render(true, new ComplianceReports.Scan(finished, "https://127.0.0.1:8443", false, 7, "wapiti: 7"));
        assertThat(failed).doesNotContain("id=\"no-scan\"").contains("FAILED the gate")
                .contains("<dd id=\"scan-findings\">7</dd>").contains("datetime=\"2026-11-30T10:15:00Z\"")
                .contains("2026-11-30 10:15 UTC");
        assertThat(render(true, new ComplianceReports.Scan(finished, "https://127.0.0.1:8443", true, 0, "clean")))
                .contains("passed the gate").contains("<dd id=\"scan-findings\">0</dd>");

        assertThat(render(false, null)).as("without view:compliance").doesNotContain("Last outside scan");
    }

    private String render(boolean compliance, ComplianceReports.Scan scan) {
        Context context = new Context();
        context.setVariable("viewer", new Viewer(null, false, false, false, compliance, false, false, false));
        context.setVariable("times", new Times(Clock.fixed(Instant.parse("2026-12-05T08:00:00Z"), java.time.ZoneOffset.UTC)));
        context.setVariable("title", "Dashboard");
        context.setVariable("lastScan", scan);
        return templates.process("console/dashboard", context);
    }
}
