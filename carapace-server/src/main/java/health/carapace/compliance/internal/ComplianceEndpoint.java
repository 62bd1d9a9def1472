package health.carapace.compliance.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.ComplianceReports;
import health.carapace.platform.web.OperationOutcomes;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /admin/compliance[?check=ID...][&status=pass|fail|not-applicable|unknown...][&format=json|html|pdf|signed]}:
 * evaluates every check now, stores the signed report, and answers it (filtered views are
 * answered unsigned; the stored report is always whole). {@code GET /admin/compliance/reports}
 * lists stored reports, {@code /admin/compliance/reports/{id}} answers one signed file, and
 * {@code /admin/compliance/public-key} the key that verifies them. Needs {@code view:compliance}
 * (the security rules). A malformed filter, an unknown check id or parameter is refused with an
 * OperationOutcome that does not repeat it, before anything is evaluated or stored.
 */
@RestController
@ConditionalOnWebApplication
class ComplianceEndpoint {

    private static final Set<String> PARAMETERS = Set.of("check", "status", "format");
    private static final Set<String> FORMATS = Set.of("json", "html", "pdf", "signed");

    private final SignedReports reports;

    ComplianceEndpoint(SignedReports reports) {
        this.reports = reports;
    }

    @GetMapping("/admin/compliance")
    void report(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Map<String, String[]> parameters = request.getParameterMap();
        for (String name : parameters.keySet()) {
            if (!PARAMETERS.contains(name)) {
                refuse(response, "unknown parameter: only check, status and format are accepted");
                return;
            }
        }
        Set<String> ids = new LinkedHashSet<>();
        for (String id : parameters.getOrDefault("check", new String[0])) {
            if (!ComplianceCheck.ID.matcher(id).matches() || !reports.isKnownCheck(id)) {
                refuse(response, "unknown check id (GET /admin/compliance lists the checks)");
                return;
            }
            ids.add(id);
        }
        Set<String> statuses = new LinkedHashSet<>();
        for (String status : parameters.getOrDefault("status", new String[0])) {
            if (CheckResult.Status.ofLabel(status).isEmpty()) {
                refuse(response, "status must be pass, fail, not-applicable or unknown");
                return;
            }
            statuses.add(status);
        }
        String[] formats = parameters.getOrDefault("format", new String[] {"json"});
        if (formats.length != 1 || !FORMATS.contains(formats[0])) {
            refuse(response, "format must be one of json, html, pdf, signed");
            return;
        }
        String format = formats[0];
        if (format.equals("signed") && !(ids.isEmpty() && statuses.isEmpty())) {
            refuse(response, "a signed report is always whole: format=signed takes no check or status filter");
            return;
        }
        SignedReports.Evaluated evaluated = reports.evaluate();
        var view = ids.isEmpty() && statuses.isEmpty() ? evaluated.report()
                : ReportDocument.filtered(evaluated.report(), ids, statuses);
        response.setHeader("X-Compliance-Report-Id", evaluated.stored().id().toString());
        response.setHeader("X-Compliance-Overall", evaluated.stored().overall().name().toLowerCase(java.util.Locale.ROOT));
        switch (format) {
            case "html" -> write(response, "text/html; charset=utf-8", ReportHtml.render(view).getBytes(StandardCharsets.UTF_8));
            case "pdf" -> write(response, "application/pdf", ReportPdf.render(ReportHtml.render(view)));
            case "signed" -> write(response, "application/json; charset=utf-8", evaluated.stored().signedFile());
            default -> write(response, "application/json; charset=utf-8", ReportDocument.bytes(view));
        }
    }

    @GetMapping("/admin/compliance/reports")
    void list(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!request.getParameterMap().isEmpty()) {
            refuse(response, "this route takes no parameters");
            return;
        }
        StringBuilder json = new StringBuilder("{\"reports\":[");
        List<ComplianceReports.Stored> stored = reports.stored();
        for (int i = 0; i < stored.size(); i++) {
            var s = stored.get(i);
            json.append(i == 0 ? "" : ",").append("{\"id\":\"").append(s.id()).append("\",\"measuredAt\":\"")
                    .append(s.measuredAt()).append("\",\"overall\":\"")
                    .append(s.overall().name().toLowerCase(java.util.Locale.ROOT)).append("\"}");
        }
        write(response, "application/json; charset=utf-8", json.append("]}").toString().getBytes(StandardCharsets.UTF_8));
    }

    @GetMapping("/admin/compliance/reports/{id}")
    void one(@PathVariable("id") String id, HttpServletResponse response) throws IOException {
        UUID reportId;
        try {
            reportId = UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            refuse(response, "a report id is a UUID");
            return;
        }
        var stored = reports.stored(reportId);
        if (stored.isEmpty()) {
            OperationOutcomes.write(response, 404, IssueType.NOTFOUND, "no such report");
            return;
        }
        write(response, "application/json; charset=utf-8", stored.get().signedFile());
    }

    @GetMapping("/admin/compliance/public-key")
    void publicKey(HttpServletResponse response) throws IOException {
        write(response, "application/x-pem-file", reports.publicKeyPem().getBytes(StandardCharsets.US_ASCII));
    }

    private static void write(HttpServletResponse response, String contentType, byte[] body) throws IOException {
        response.setStatus(200);
        response.setContentType(contentType);
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    private static void refuse(HttpServletResponse response, String message) throws IOException {
        OperationOutcomes.write(response, 400, IssueType.INVALID, message);
    }
}
