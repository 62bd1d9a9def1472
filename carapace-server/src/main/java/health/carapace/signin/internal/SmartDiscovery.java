package health.carapace.signin.internal;

import com.nimbusds.jose.util.JSONObjectUtils;
import health.carapace.platform.web.RequestFilter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET [base]/.well-known/smart-configuration} (SMART App Launch 2.0 §"Discovery"), at the
 * FHIR base ({@code /fhir/.well-known/...}, where apps look) and at the root. Answered by a filter
 * because the FHIR servlet owns {@code /fhir/*}. Public, like {@code /fhir/metadata}: it says only
 * what the server supports.
 */
final class SmartDiscovery extends RequestFilter {

    static final List<String> PATHS = List.of("/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration");

    /** What this server does, in SMART's capability vocabulary (docs/SMART.md). */
    // Not claimed: authorize-post (a POSTed authorization request would not survive the sign-in
    // pages, which resume it by its URL) and client-confidential-asymmetric (private_key_jwt is for
    // backend services, not for apps that launch).
    static final List<String> CAPABILITIES = List.of("launch-ehr", "launch-standalone",
            "client-public", "client-confidential-symmetric", "context-ehr-patient",
            "context-standalone-patient", "sso-openid-connect", "permission-patient", "permission-user",
            "permission-v1", "permission-v2");

    private final String issuer;
    private final health.carapace.platform.web.PublicBaseUrl baseUrl;
    private volatile byte[] document;

    SmartDiscovery(String issuer, health.carapace.platform.web.PublicBaseUrl baseUrl) {
        this.issuer = issuer;
        this.baseUrl = baseUrl;
    }

    /** Built at the first request: the endpoints' addresses need the server's port. */
    private byte[] document() {
        if (document != null) {
            return document;
        }
        String base = baseUrl.value();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("issuer", issuer);
        json.put("jwks_uri", base + "/oauth2/jwks");
        json.put("authorization_endpoint", base + "/oauth2/authorize");
        json.put("token_endpoint", base + "/oauth2/token");
        json.put("revocation_endpoint", base + "/oauth2/revoke");
        json.put("introspection_endpoint", base + "/oauth2/introspect");
        json.put("grant_types_supported", List.of("authorization_code", "refresh_token", "client_credentials"));
        json.put("token_endpoint_auth_methods_supported",
                List.of("none", "client_secret_basic", "client_secret_post", "private_key_jwt"));
        json.put("token_endpoint_auth_signing_alg_values_supported", List.of("ES384", "RS384"));
        json.put("scopes_supported", List.of("openid", "fhirUser", "launch", "launch/patient", "patient/*.cruds",
                "user/*.cruds", "system/*.rs"));
        json.put("response_types_supported", List.of("code"));
        json.put("code_challenge_methods_supported", List.of("S256"));
        json.put("capabilities", CAPABILITIES);
        document = JSONObjectUtils.toJSONString(json).getBytes(StandardCharsets.UTF_8);
        return document;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !PATHS.contains(request.getRequestURI());
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (!"GET".equals(request.getMethod()) && !"HEAD".equals(request.getMethod())) {
            health.carapace.platform.web.OperationOutcomes.write(response, 405,
                    org.hl7.fhir.r4.model.OperationOutcome.IssueType.NOTSUPPORTED, "Only GET is supported here");
            return;
        }
        response.setStatus(200);
        response.setContentType("application/json");
        response.setHeader("Cache-Control", "max-age=3600");
        byte[] body = document();
        response.setContentLength(body.length);
        if ("GET".equals(request.getMethod())) {
            response.getOutputStream().write(body);
        }
    }
}
