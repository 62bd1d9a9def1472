package health.carapace.cli;

import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** What an operator needs right after start: where the API is and how to get a token. */
final class StartupBanner {

    private StartupBanner() {
    }

    static void print(ConfigurableApplicationContext context) {
        int port = context instanceof WebServerApplicationContext web ? web.getWebServer().getPort() : -1;
        String base = "https://localhost:" + port;
        System.out.println("""

                Carapace is running.
                  FHIR base URL:  %1$s/fhir
                  Capabilities:   curl --cacert data/tls/server.crt %1$s/fhir/metadata

                  1. Create a client holding a role of data/policy (prints its secret once):
                       ./carapace admin create-client --name my-app --role records-service
                     or a person (prints a one-time enrolment link; password and TOTP follow):
                       ./carapace admin create-user alice --role admin
                  2. Get an access token (valid 15 minutes):
                       curl --cacert data/tls/server.crt -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials %1$s/oauth2/token
                  3. Call the API:
                       curl --cacert data/tls/server.crt -H "Authorization: Bearer ACCESS_TOKEN" %1$s/fhir/Patient
                """.formatted(base));
    }
}
