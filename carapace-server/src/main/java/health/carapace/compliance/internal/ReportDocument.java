package health.carapace.compliance.internal;

import health.carapace.compliance.Asset;
import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceReports.Overall;
import health.carapace.compliance.Rule;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One compliance report as JSON (format {@code carapace-compliance-report/1}): the checks with
 * their rules, status, reason and evidence; the same by rule; the inventory; what the system
 * cannot evidence; and the SHA-256 of the report before it (a chain: a removed report shows).
 * These bytes are what is signed and stored.
 */
final class ReportDocument {

    static final String FORMAT = "carapace-compliance-report/1";
    static final List<String> NOT_EVIDENCED = List.of(
            "Policies and procedures (§164.316), and the risk analysis and risk management plan (§164.308(a)(1))",
            "Workforce security awareness and training (§164.308(a)(5)(i)) and sanctions (§164.308(a)(1)(ii)(C))",
            "Business associate agreements (§164.308(b), §164.314)",
            "Facility access and workstation and device controls (§164.310)",
            "Penetration tests, restore drills and incident drills run by people (kept beside these reports)");

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ReportDocument() {
    }

    static Overall overall(Collection<EvaluatedCheck> checks) {
        if (checks.stream().anyMatch(c -> c.result().status() == CheckResult.Status.UNKNOWN)) {
            return Overall.UNKNOWN;
        }
        if (checks.stream().anyMatch(c -> c.result().status() == CheckResult.Status.FAIL)) {
            return Overall.FAIL;
        }
        return Overall.PASS;
    }

    static ObjectNode build(UUID id, Instant measuredAt, String mode, List<EvaluatedCheck> checks, List<Asset> assets,
            SoftwareBillOfMaterials sbom, String previousSha256) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("reportId", id.toString());
        root.put("measuredAt", measuredAt.toString());
        root.put("mode", mode);
        root.put("overall", overall(checks).name().toLowerCase(Locale.ROOT));
        ObjectNode summary = root.putObject("summary");
        Map<CheckResult.Status, Integer> counts = new EnumMap<>(CheckResult.Status.class);
        checks.forEach(c -> counts.merge(c.result().status(), 1, Integer::sum));
        for (CheckResult.Status status : CheckResult.Status.values()) {
            summary.put(status.label(), counts.getOrDefault(status, 0));
        }
        root.put("previousReportSha256", previousSha256);
        ArrayNode checkArray = root.putArray("checks");
        checks.forEach(c -> checkArray.add(check(c)));
        ArrayNode rules = root.putArray("rules");
        for (Rule rule : Rule.values()) {
            ObjectNode r = rules.addObject();
            r.put("citation", rule.citation());
            r.put("title", rule.title());
            r.put("source", rule.source().citation());
            ArrayNode ids = r.putArray("checks");
            List<EvaluatedCheck> serving = checks.stream().filter(c -> c.rules().contains(rule)).toList();
            serving.forEach(c -> ids.add(c.id()));
            r.put("status", serving.isEmpty() ? "not-evidenced" : ruleStatus(serving));
        }
        ObjectNode inventory = root.putObject("inventory");
        ArrayNode assetArray = inventory.putArray("assets");
        for (Asset asset : assets) {
            ObjectNode a = assetArray.addObject();
            a.put("kind", asset.kind());
            a.put("name", asset.name());
            a.put("version", asset.version());
            ObjectNode details = a.putObject("details");
            asset.details().forEach(details::put);
            ArrayNode flows = a.putArray("ephiFlows");
            asset.flows().forEach(flows::add);
        }
        ObjectNode sbomNode = inventory.putObject("sbom");
        if (sbom != null) {
            sbomNode.put("format", "CycloneDX " + sbom.specVersion());
            sbomNode.put("application", sbom.application() + " " + sbom.applicationVersion());
            ArrayNode components = sbomNode.putArray("components");
            sbom.components().forEach(c -> components.add(c.coordinates() + "@" + c.version()));
        }
        ArrayNode notEvidenced = root.putArray("notEvidenced");
        NOT_EVIDENCED.forEach(notEvidenced::add);
        return root;
    }

    /** The worst status among the checks serving a rule (unknown, fail, pass, then not-applicable). */
    private static String ruleStatus(List<EvaluatedCheck> serving) {
        List<CheckResult.Status> order = List.of(CheckResult.Status.UNKNOWN, CheckResult.Status.FAIL,
                CheckResult.Status.PASS, CheckResult.Status.NOT_APPLICABLE);
        for (CheckResult.Status status : order) {
            if (serving.stream().anyMatch(c -> c.result().status() == status)) {
                return status.label();
            }
        }
        return "not-evidenced";
    }

    static ObjectNode check(EvaluatedCheck c) {
        ObjectNode node = JSON.createObjectNode();
        node.put("id", c.id());
        node.put("title", c.title());
        ArrayNode rules = node.putArray("rules");
        c.rules().forEach(r -> rules.add(r.citation()));
        node.put("status", c.result().status().label());
        node.put("reason", c.result().reason());
        ObjectNode evidence = node.putObject("evidence");
        c.result().evidence().forEach(evidence::put);
        node.put("measuredAt", c.measuredAt().toString());
        node.put("millis", c.millis());
        return node;
    }

    static byte[] bytes(ObjectNode report) {
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report).getBytes(StandardCharsets.UTF_8);
    }

    static ObjectNode parse(byte[] report) {
        return (ObjectNode) JSON.readTree(report);
    }

    /** Only the checks whose id is in {@code ids} (all when empty) and whose status is in {@code statuses} (all when empty). */
    static ObjectNode filtered(ObjectNode report, java.util.Set<String> ids, java.util.Set<String> statuses) {
        ObjectNode copy = report.deepCopy();
        ArrayNode kept = JSON.createArrayNode();
        for (var check : report.withArray("checks")) {
            if ((ids.isEmpty() || ids.contains(check.get("id").asString()))
                    && (statuses.isEmpty() || statuses.contains(check.get("status").asString()))) {
                kept.add(check);
            }
        }
        copy.set("checks", kept);
        copy.put("filtered", true);
        return copy;
    }
}
