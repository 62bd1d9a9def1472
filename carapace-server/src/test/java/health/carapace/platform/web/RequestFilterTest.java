package health.carapace.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.mock.web.MockServletContext;
import org.springframework.web.filter.OncePerRequestFilter;

/** A Carapace filter keeps Spring's once-per-request behaviour, with its attribute name made once. */
class RequestFilterTest {

    /** Counts its runs; the subject. */
    static final class Counting extends RequestFilter {
        final AtomicInteger runs = new AtomicInteger();

        @Override
        protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                throws jakarta.servlet.ServletException, java.io.IOException {
            runs.incrementAndGet();
            chain.doFilter(request, response);
        }

        String attributeName() {
            return getAlreadyFilteredAttributeName();
        }
    }

    /** The same filter with Spring's own name, to compare with. */
    static final class Spring extends OncePerRequestFilter {
        @Override
        protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain) {
        }

        String attributeName() {
            return getAlreadyFilteredAttributeName();
        }
    }

    @Test
    void theAttributeNameIsSpringsAndIsMadeOnce() {
        Counting filter = new Counting();
        filter.setBeanName("requestIds");
        Spring spring = new Spring();
        spring.setBeanName("requestIds");

        String first = filter.attributeName();
        assertThat(first).isEqualTo(spring.attributeName()).isEqualTo("requestIds.FILTERED");
        // the very same string on every request: no concatenation, its hash computed once
        assertThat(filter.attributeName()).isSameAs(first);
    }

    @Test
    void aFilterNamedByItsClassKeepsThatName() {
        Counting filter = new Counting();
        assertThat(filter.attributeName()).isEqualTo(Counting.class.getName() + ".FILTERED");
    }

    @Test
    void aFilterMetTwiceInOneRequestRunsOnce() throws Exception {
        Counting filter = new Counting();
        filter.setBeanName("counting");
        MockHttpServletRequest request = new MockHttpServletRequest(new MockServletContext(), "GET", "/fhir/Patient/x");
        new MockFilterChain(new jakarta.servlet.http.HttpServlet() {}, filter, filter)
                .doFilter(request, new MockHttpServletResponse());
        assertThat(filter.runs).hasValue(1);
        // and the mark is gone once the request has passed, so the next request is filtered again
        assertThat(request.getAttribute("counting.FILTERED")).isNull();
    }

    @Test
    void anErrorDispatchInsideTheRequestIsSkippedAsBefore() throws Exception {
        Counting filter = new Counting();
        filter.setBeanName("counting");
        MockHttpServletRequest request = new MockHttpServletRequest(new MockServletContext(), "GET", "/error");
        request.setDispatcherType(DispatcherType.ERROR);
        request.setAttribute("jakarta.servlet.error.request_uri", "/fhir/Patient/x");
        new MockFilterChain(new jakarta.servlet.http.HttpServlet() {}, filter).doFilter(request, new MockHttpServletResponse());
        assertThat(filter.runs).hasValue(0);
    }
}
