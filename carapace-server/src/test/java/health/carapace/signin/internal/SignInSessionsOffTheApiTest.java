package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

/** The sign-in session's filter sees every request except the FHIR API's, which never has a session. */
class SignInSessionsOffTheApiTest {

    @ParameterizedTest
    @CsvSource({
        "/fhir, /Patient/0b6f1f1e-2a5c-4c59-9f7e-0d7c3c1f2a11, false",
        "/fhir, /metadata, false",
        "/fhir, , false",
        "'', /login, true",
        "'', /login/totp, true",
        "'', /oauth2/authorize, true",
        "'', /console/incidents, true",
        "'', /fhirx/Patient, true",
        "/fhirx, /Patient, true",
        "'', /admin/roles, true"})
    void onlyTheApiGoesAround(String servletPath, String pathInfo, boolean sessionFilterRuns) throws Exception {
        AtomicInteger sessionRuns = new AtomicInteger();
        Filter sessions = (request, response, chain) -> {
            sessionRuns.incrementAndGet();
            chain.doFilter(request, response);
        };
        MockHttpServletRequest request = new MockHttpServletRequest("GET", servletPath + (pathInfo == null ? "" : pathInfo));
        request.setServletPath(servletPath);
        request.setPathInfo(pathInfo);
        MockFilterChain chain = new MockFilterChain(new HttpServlet() {}, new SharedBrowserSessions.OffTheApi(sessions));
        chain.doFilter(request, new MockHttpServletResponse());
        assertThat(sessionRuns.get()).isEqualTo(sessionFilterRuns ? 1 : 0);
        // the request reaches the servlet either way
        assertThat(chain.getRequest()).isSameAs(request);
    }
}
