package health.carapace.compliance.internal;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The report as a readable, self-contained XHTML page (no scripts, no external resources): the
 * verdict, a table by rule, each check with its evidence, the inventory, and what the system
 * cannot evidence. Every value is escaped. Also the input of the PDF.
 */
final class ReportHtml {

    private ReportHtml() {
    }

    static String render(ObjectNode report) {
        StringBuilder html = new StringBuilder(16_384);
        html.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/>")
                .append("<title>Carapace compliance report ").append(esc(text(report, "reportId"))).append("</title>")
                .append("<style>body{font-family:sans-serif;font-size:10pt;margin:1.5em}table{border-collapse:collapse;width:100%;margin-bottom:1em}")
                .append("td,th{border:1px solid #999;padding:3px 5px;vertical-align:top;text-align:left}")
                .append(".pass{color:#075e07}.fail{color:#a00000;font-weight:bold}.unknown{color:#a05a00;font-weight:bold}")
                .append(".not-applicable,.not-evidenced{color:#555}code{font-size:9pt}</style></head><body>\n");
        html.append("<h1>Carapace compliance report</h1>\n<table>")
                .append(row("Report", text(report, "reportId")))
                .append(row("Measured at", text(report, "measuredAt")))
                .append(row("Mode", text(report, "mode")))
                .append("<tr><th>Overall</th><td class=\"").append(esc(text(report, "overall"))).append("\">")
                .append(esc(text(report, "overall"))).append("</td></tr>")
                .append(row("Checks", summary(report.get("summary"))))
                .append(row("Previous report (SHA-256)", text(report, "previousReportSha256")))
                .append("</table>\n");
        html.append("<p>The signed JSON of this report is the evidence; this page is a rendering of it. Verify the JSON ")
                .append("offline with <code>java -jar carapace-verify.jar report FILE --public-key KEY.pem</code>.</p>\n");

        html.append("<h2>By rule</h2>\n<table><tr><th>Citation</th><th>Rule</th><th>Status</th><th>Checks</th></tr>");
        for (JsonNode rule : report.get("rules")) {
            html.append("<tr><td>").append(esc(text(rule, "citation"))).append("</td><td>").append(esc(text(rule, "title")))
                    .append("</td><td class=\"").append(esc(text(rule, "status"))).append("\">")
                    .append(esc(text(rule, "status"))).append("</td><td>");
            for (JsonNode id : rule.get("checks")) {
                html.append("<code>").append(esc(id.asString())).append("</code> ");
            }
            html.append("</td></tr>");
        }
        html.append("</table>\n<h2>Checks</h2>\n");
        for (JsonNode check : report.get("checks")) {
            html.append("<h3><code>").append(esc(text(check, "id"))).append("</code> ").append(esc(text(check, "title")))
                    .append("</h3>\n<table>")
                    .append("<tr><th>Status</th><td class=\"").append(esc(text(check, "status"))).append("\">")
                    .append(esc(text(check, "status"))).append("</td></tr>");
            if (check.hasNonNull("reason")) {
                html.append(row("Reason", text(check, "reason")));
            }
            StringBuilder rules = new StringBuilder();
            for (JsonNode r : check.get("rules")) {
                rules.append(rules.isEmpty() ? "" : "; ").append(r.asString());
            }
            html.append(row("Rules", rules.toString())).append(row("Measured at", text(check, "measuredAt")));
            check.get("evidence").properties().forEach(e -> html.append(row(e.getKey(), e.getValue().asString())));
            html.append("</table>\n");
        }
        html.append("<h2>Inventory and ePHI flows</h2>\n<table><tr><th>Kind</th><th>Asset</th><th>Version</th><th>Details</th><th>ePHI flows</th></tr>");
        for (JsonNode asset : report.path("inventory").path("assets")) {
            html.append("<tr><td>").append(esc(text(asset, "kind"))).append("</td><td>").append(esc(text(asset, "name")))
                    .append("</td><td>").append(esc(text(asset, "version"))).append("</td><td>");
            asset.get("details").properties().forEach(e -> html.append(esc(e.getKey())).append(": ")
                    .append(esc(e.getValue().asString())).append("<br/>"));
            html.append("</td><td>");
            for (JsonNode flow : asset.get("ephiFlows")) {
                html.append(esc(flow.asString())).append("<br/>");
            }
            html.append("</td></tr>");
        }
        html.append("</table>\n<p>Software bill of materials: ").append(esc(report.path("inventory").path("sbom")
                .path("format").asString("missing"))).append(", ")
                .append(report.path("inventory").path("sbom").path("components").size()).append(" components (listed in the JSON).</p>\n");
        html.append("<h2>What this report cannot evidence</h2>\n<ul>");
        for (JsonNode item : report.get("notEvidenced")) {
            html.append("<li>").append(esc(item.asString())).append("</li>");
        }
        html.append("</ul>\n</body></html>\n");
        return html.toString();
    }

    private static String summary(JsonNode summary) {
        StringBuilder out = new StringBuilder();
        summary.properties().forEach(e -> out.append(out.isEmpty() ? "" : ", ").append(e.getKey()).append(' ')
                .append(e.getValue().asInt()));
        return out.toString();
    }

    private static String row(String name, String value) {
        return "<tr><th>" + esc(name) + "</th><td>" + esc(value) + "</td></tr>";
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? "" : value.asString();
    }

    static String esc(String value) {
        if (value == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> {
                    // XML 1.0 forbids most control characters; the PDF renderer parses this as XML.
                    if (c < 0x20 && c != '\n' && c != '\t') {
                        out.append(' ');
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
