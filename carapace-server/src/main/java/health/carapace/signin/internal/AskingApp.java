package health.carapace.signin.internal;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Optional;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.web.savedrequest.RequestCache;
import org.springframework.security.web.savedrequest.SavedRequest;

/**
 * The app a person is signing in to, as the sign-in pages name it: the registered display name of
 * the client in the authorization request the server saved (validated by the authorization
 * endpoint before it was saved), never a value the browser sends to the page itself.
 */
final class AskingApp {

    private final RequestCache authorizationRequests;
    private final RegisteredClientRepository clients;

    AskingApp(RequestCache authorizationRequests, RegisteredClientRepository clients) {
        this.authorizationRequests = authorizationRequests;
        this.clients = clients;
    }

    /** The display name of the app whose authorization request waits in this browser, if any. */
    Optional<String> name(HttpServletRequest request) {
        SavedRequest saved = authorizationRequests.getRequest(request, null);
        String[] clientId = saved == null ? null : saved.getParameterValues("client_id");
        if (clientId == null || clientId.length != 1) {
            return Optional.empty();
        }
        RegisteredClient client = clients.findByClientId(clientId[0]);
        return client == null ? Optional.empty() : Optional.ofNullable(displayName(client));
    }

    /** The registered name; Spring fills the client id in when a client has none, which names nothing. */
    static String displayName(RegisteredClient client) {
        String name = client.getClientName();
        return name == null || name.isBlank() || name.equals(client.getId()) ? client.getClientId() : name;
    }
}
