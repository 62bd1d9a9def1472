package health.carapace.signin.internal;

import health.carapace.access.BreakGlass;
import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.platform.web.OperationOutcomes;
import health.carapace.signin.AccessReview;
import health.carapace.signin.AccessReviewSheet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code GET /admin/access-review[?days=N]}: the access review as JSON ({@link AccessReviewSheet}),
 * for {@code view:audit} (security rules), audited as {@code exported}. {@code POST
 * /admin/access-review/break-glass/{grantId}} with {@code outcome=appropriate|inappropriate}
 * records the review of one emergency access, for {@code view:audit} with {@code manage:incidents}.
 * Bad input is refused with an OperationOutcome that repeats none of it, before anything is read
 * or written. The answer holds break-glass reasons (free text that may hold PHI): never cached
 * (the platform's {@code no-store}).
 */
@RestController
@ConditionalOnWebApplication
class AccessReviewEndpoint {

    private static final Logger log = LoggerFactory.getLogger(AccessReviewEndpoint.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern DAYS = Pattern.compile("[1-9][0-9]{0,3}");
    private static final Pattern GRANT_ID =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    private final AccessReviewSheet sheets;

    AccessReviewEndpoint(AccessReviewSheet sheets) {
        this.sheets = sheets;
    }

    @GetMapping(AccessReviewSheet.RESOURCE)
    void read(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Map<String, String[]> parameters = request.getParameterMap();
        if (!Set.of("days").containsAll(parameters.keySet())) {
            refuse(response, 400, "unknown parameter: only days is accepted");
            return;
        }
        int days = AccessReviewSheet.DEFAULT_DAYS;
        String[] given = parameters.get("days");
        if (given != null) {
            if (given.length != 1 || !DAYS.matcher(given[0]).matches()
                    || Integer.parseInt(given[0]) > AccessReviewSheet.MAX_DAYS) {
                refuse(response, 400, "days must be a whole number from 1 to " + AccessReviewSheet.MAX_DAYS);
                return;
            }
            days = Integer.parseInt(given[0]);
        }
        AccessReviewSheet.Sheet sheet;
        try {
            sheet = sheets.read(reviewer(request), days, AuditContext.of(request));
        } catch (AuditUnavailableException e) {
            log.warn("An access review could not be audited; it was not read", e);
            refuse(response, 503, "the audit trail is unavailable; try again later");
            return;
        }
        write(response, 200, json(sheet));
    }

    @PostMapping(AccessReviewSheet.RESOURCE + "/break-glass/{grantId}")
    void review(@PathVariable("grantId") String grantId, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        if (!GRANT_ID.matcher(grantId).matches()) {
            refuse(response, 400, "a grant id is a UUID in lower case");
            return;
        }
        Map<String, String[]> parameters = request.getParameterMap();
        String[] outcome = parameters.get("outcome");
        Optional<BreakGlass.ReviewOutcome> parsed = outcome == null || outcome.length != 1 || parameters.size() != 1
                ? Optional.empty() : BreakGlass.ReviewOutcome.ofLabel(outcome[0]);
        if (parsed.isEmpty()) {
            refuse(response, 400, "exactly one parameter is accepted: outcome=appropriate or outcome=inappropriate");
            return;
        }
        UUID grant = UUID.fromString(grantId);
        String reviewer = reviewer(request);
        BreakGlass.Reviewing result;
        try {
            result = sheets.reviewEmergencyAccess(grant, reviewer, parsed.get(), AuditContext.of(request));
        } catch (AuditUnavailableException e) {
            log.warn("A break-glass review could not be audited; nothing was recorded", e);
            refuse(response, 503, "the audit trail is unavailable; try again later");
            return;
        }
        switch (result) {
            case RECORDED -> {
                ObjectNode body = JSON.createObjectNode().put("grant", grant.toString())
                        .put("outcome", parsed.get().label()).put("reviewedBy", reviewer);
                write(response, 200, body);
            }
            case NO_SUCH_GRANT -> refuse(response, 404, "no such break-glass grant");
            case OWN_GRANT -> OperationOutcomes.write(response, 403, IssueType.FORBIDDEN,
                    "nobody reviews their own emergency access");
            case STILL_OPEN -> refuse(response, 409, "the grant is still open; review it once it has ended");
            case ALREADY_REVIEWED -> refuse(response, 409, "the grant has been reviewed already; the first review stands");
        }
    }

    private static String reviewer(HttpServletRequest request) {
        // the security rules let only a resolved caller with the permission reach here
        return Callers.of(request).map(Caller::principal).orElseThrow();
    }

    private static ObjectNode json(AccessReviewSheet.Sheet sheet) {
        AccessReview.Report report = sheet.accounts();
        ObjectNode root = JSON.createObjectNode();
        root.put("generatedAt", report.generatedAt().toString()).put("days", report.days())
                .put("usageReadAt", report.usageReadAt().toString());
        ArrayNode principals = root.putArray("principals");
        for (AccessReview.Principal p : report.principals()) {
            ObjectNode one = principals.addObject().put("name", p.name()).put("kind", p.kind())
                    .put("disabled", p.disabled()).put("mfaEnrolled", p.mfaEnrolled())
                    .put("lastSignIn", text(p.lastSignIn())).put("dormant", p.dormant())
                    .put("usageReadAt", text(p.usageReadAt()));
            p.roles().forEach(one.putArray("roles")::add);
            p.granted().forEach(one.putArray("granted")::add);
            p.unused().forEach(one.putArray("unused")::add);
            p.undefinedRoles().forEach(one.putArray("undefinedRoles")::add);
        }
        report.usersWithoutMfa().forEach(root.putArray("usersWithoutMfa")::add);
        report.dormant().forEach(root.putArray("dormant")::add);
        report.disabledWithLiveSessions().forEach(root.putArray("disabledWithLiveSessions")::add);
        report.unconstrainedRoles().forEach(root.putArray("unconstrainedRoles")::add);
        ArrayNode grants = root.putArray("breakGlass");
        for (BreakGlass.Review g : sheet.emergencyAccesses()) {
            grants.addObject().put("grant", g.grantId().toString()).put("principal", g.principal())
                    .put("patient", g.patient()).put("openedAt", text(g.openedAt())).put("expiresAt", text(g.expiresAt()))
                    .put("closedAt", text(g.closedAt()))
                    // null once the patient was crypto-shredded: the reason went with the keys
                    .put("reason", g.reason())
                    // the patient's data key is missing without a tombstone (ADR 0049): unreadable, not shredded
                    .put("reasonUnavailable", g.reasonKeyMissing() ? "data key missing" : null)
                    .put("awaitingReview", g.awaitingReview()).put("reviewedBy", g.reviewedBy())
                    .put("reviewedAt", text(g.reviewedAt()))
                    .put("outcome", g.outcome() == null ? null : g.outcome().label());
        }
        return root;
    }

    private static String text(Instant instant) {
        return instant == null ? null : instant.toString();
    }

    private static void refuse(HttpServletResponse response, int status, String message) throws IOException {
        OperationOutcomes.write(response, status, status == 404 ? IssueType.NOTFOUND
                : status == 409 ? IssueType.CONFLICT : status == 503 ? IssueType.TRANSIENT : IssueType.INVALID, message);
    }

    private static void write(HttpServletResponse response, int status, ObjectNode body) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json;charset=UTF-8");
        response.getOutputStream().write(JSON.writeValueAsString(body).getBytes(StandardCharsets.UTF_8));
    }
}
