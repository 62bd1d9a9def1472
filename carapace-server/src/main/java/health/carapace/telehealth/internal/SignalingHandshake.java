package health.carapace.telehealth.internal;

import health.carapace.audit.AuditContext;
import health.carapace.platform.logging.RequestIds;
import health.carapace.platform.web.OperationOutcomes;
import health.carapace.platform.web.PublicBaseUrl;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.http.server.ServletServerHttpRequest;
import org.springframework.http.server.ServletServerHttpResponse;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.server.HandshakeInterceptor;

/**
 * Admits a WebSocket upgrade only from the visit page itself: its {@code Origin} must be exactly
 * the public base URL (scheme, host and port), so that a page elsewhere cannot ride a participant's
 * browser into a visit. A refusal is a 403 OperationOutcome before any upgrade. Keeps the
 * connection's audit context (the real client address) and request id for its audit events.
 */
final class SignalingHandshake implements HandshakeInterceptor {

    private final PublicBaseUrl baseUrl;

    SignalingHandshake(PublicBaseUrl baseUrl) {
        this.baseUrl = baseUrl;
    }

    @Override
    public boolean beforeHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler handler,
            Map<String, Object> attributes) throws Exception {
        if (!"websocket".equalsIgnoreCase(request.getHeaders().getUpgrade())) {
            // a plain request to the socket's path: refused as every other refusal is, not with Spring's text
            refuse(response, 400, IssueType.NOTSUPPORTED, "This is the visit page's WebSocket (wss) endpoint");
            return false;
        }
        List<String> origins = request.getHeaders().getOrDefault("Origin", List.of());
        if (origins.size() != 1 || !origins.get(0).equals(baseUrl.value())) {
            refuse(response, 403, IssueType.FORBIDDEN, "The signaling socket is open to the visit page's origin only");
            return false;
        }
        if (request instanceof ServletServerHttpRequest servlet) {
            attributes.put(SignalingHandler.CONTEXT, AuditContext.of(servlet.getServletRequest()));
        } else {
            attributes.put(SignalingHandler.CONTEXT, AuditContext.none());
        }
        attributes.put(SignalingHandler.REQUEST_ID, RequestIds.current());
        return true;
    }

    private static void refuse(ServerHttpResponse response, int status, IssueType code, String message)
            throws java.io.IOException {
        if (response instanceof ServletServerHttpResponse servlet) {
            OperationOutcomes.write(servlet.getServletResponse(), status, code, message);
        } else {
            response.setStatusCode(HttpStatus.valueOf(status));
        }
    }

    @Override
    public void afterHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler handler,
            Exception exception) {
    }
}
