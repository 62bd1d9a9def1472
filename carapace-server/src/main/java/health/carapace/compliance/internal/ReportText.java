package health.carapace.compliance.internal;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** The report for a terminal: the verdict, then one line per check with its reason. */
final class ReportText {

    private ReportText() {
    }

    static String render(ObjectNode report) {
        StringBuilder out = new StringBuilder();
        out.append("Compliance report ").append(report.get("reportId").asString()).append(", measured ")
                .append(report.get("measuredAt").asString()).append(", mode ").append(report.get("mode").asString())
                .append('\n').append("OVERALL: ").append(report.get("overall").asString().toUpperCase(java.util.Locale.ROOT))
                .append("  (");
        StringBuilder counts = new StringBuilder();
        report.get("summary").properties().forEach(e -> counts.append(counts.isEmpty() ? "" : ", ")
                .append(e.getValue().asInt()).append(' ').append(e.getKey()));
        out.append(counts).append(")\n\n");
        for (JsonNode check : report.get("checks")) {
            out.append(String.format("%-15s %-28s %s%n", check.get("status").asString().toUpperCase(java.util.Locale.ROOT),
                    check.get("id").asString(), check.hasNonNull("reason") ? check.get("reason").asString() : ""));
        }
        out.append("\nThe signed report (evidence): ./carapace compliance export --out DIR; verify it with\n")
                .append("java -jar carapace-verify/target/carapace-verify.jar report FILE --public-key KEY.pem\n");
        return out.toString();
    }
}
