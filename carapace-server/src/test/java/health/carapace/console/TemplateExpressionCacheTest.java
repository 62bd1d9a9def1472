package health.carapace.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.thymeleaf.spring6.SpringTemplateEngine;

/**
 * Every expression of the console's pages stays parsed while an officer moves between them.
 * Thymeleaf keeps 500 by default, fewer than the pages hold together: pages visited in turn evicted
 * each other's expressions, which were then parsed and (with the SpEL compiler on) compiled into new
 * classes again on the next visit.
 */
class TemplateExpressionCacheTest extends ConsoleTesting {

    @Autowired
    private SpringTemplateEngine templates;

    @Test
    void aSecondRoundOverEveryPageFindsEveryExpressionOfTheFirstStillParsed() {
        ConsoleVisitor admin = signedIn("admin");
        String patient = createPatient();
        String incident = openIncident().id().toString();
        List<String> pages = List.of("/console", "/console/incidents", "/console/incidents/" + incident, "/console/audit",
                "/console/audit?patient=" + patient, "/console/audit/disclosures",
                "/console/audit/disclosures?patient=" + patient, "/console/access-review", "/console/drills",
                "/console/compliance", "/console/keys", "/console/users");
        visit(admin, pages);
        Set<Object> afterFirst = new HashSet<>(templates.getCacheManager().getExpressionCache().keySet());
        visit(admin, pages);
        Set<Object> afterSecond = new HashSet<>(templates.getCacheManager().getExpressionCache().keySet());

        assertThat(afterFirst).as("the pages' expressions (more than Thymeleaf's default of 500 kept)").hasSizeGreaterThan(500);
        assertThat(afterSecond).as("none evicted by the second round").containsAll(afterFirst);
    }

    private static void visit(ConsoleVisitor admin, List<String> pages) {
        for (String page : pages) {
            assertThat(admin.get(page).statusCode()).as(page).isEqualTo(200);
        }
    }
}
