package health.carapace.console.internal;

import health.carapace.access.Permissions;
import health.carapace.compliance.ComplianceReports;
import health.carapace.console.ConsoleApp;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;

/**
 * Compliance ({@code view:compliance}): the latest signed report's verdict, the history of
 * reports, each one's signed file (the evidence an auditor verifies with carapace-verify) and its
 * PDF rendering, the public key, and a new evaluation on request (what {@code GET
 * /admin/compliance} does). Reports hold evidence about the system, no patient data.
 */
@Controller
class CompliancePage {

    private static final String PAGE = ConsoleApp.PATH + "/compliance";

    private final ConsoleAccess access;
    private final ComplianceReports reports;

    CompliancePage(ConsoleAccess access, ComplianceReports reports) {
        this.access = access;
        this.reports = reports;
    }

    @GetMapping(PAGE)
    String show(HttpServletRequest request, Model model) {
        access.require(request, Permissions.VIEW_COMPLIANCE, PAGE);
        String done = new Fields(request, Set.of("done"), "done names a finished action").text("done");
        List<ComplianceReports.Stored> history = new ArrayList<>(reports.stored());
        Collections.reverse(history);
        model.addAttribute("reports", history);
        model.addAttribute("notice", "evaluated".equals(done) ? "A new report was evaluated, signed and stored." : null);
        model.addAttribute("title", "Compliance");
        return "console/compliance";
    }

    @PostMapping(PAGE + "/evaluate")
    String evaluate(HttpServletRequest request) {
        access.require(request, Permissions.VIEW_COMPLIANCE, PAGE + "/evaluate");
        new Fields(request, Set.of(), "evaluating takes no fields");
        reports.evaluateAndStore();
        return "redirect:" + PAGE + "?done=evaluated";
    }

    @GetMapping(PAGE + "/reports/{id}")
    void download(@PathVariable("id") String id, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        access.require(request, Permissions.VIEW_COMPLIANCE, ConsolePaths.audited(request));
        UUID reportId = Fields.id(id);
        String format = new Fields(request, Set.of("format"), "format is signed or pdf").parsed("format",
                value -> Set.of("signed", "pdf").contains(value) ? value : null);
        ComplianceReports.Stored stored = reports.stored(reportId)
                .orElseThrow(() -> new ConsoleRefusal(404, "There is no report with that id."));
        boolean pdf = "pdf".equals(format);
        byte[] bytes = pdf ? reports.render(stored, ComplianceReports.Format.PDF) : stored.signedFile();
        ConsoleHeaders.apply(response);
        response.setStatus(200);
        response.setContentType(pdf ? "application/pdf" : "application/json");
        response.setHeader("Content-Disposition", "attachment; filename=\"compliance-" + reportId
                + (pdf ? ".pdf\"" : ".signed.json\""));
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }

    @GetMapping(PAGE + "/public-key")
    void publicKey(HttpServletRequest request, HttpServletResponse response) throws IOException {
        access.require(request, Permissions.VIEW_COMPLIANCE, PAGE + "/public-key");
        new Fields(request, Set.of(), "the public key takes no fields");
        byte[] pem = reports.publicKeyPem().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        ConsoleHeaders.apply(response);
        response.setStatus(200);
        response.setContentType("application/x-pem-file");
        response.setHeader("Content-Disposition", "attachment; filename=\"compliance-report-key.pem\"");
        response.getOutputStream().write(pem);
    }
}
