package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.web.firewall.RequestRejectedException;

class HeaderFirewallTest {

    @Test
    void headerValuesAreVisibleAsciiSpaceAndTabOnly() {
        assertThat(HeaderFirewall.isFieldValue("Bearer eyJhbGciOiJFUzI1NiJ9.e30.sig")).isTrue();
        assertThat(HeaderFirewall.isFieldValue("a\tb c")).isTrue();
        assertThat(HeaderFirewall.isFieldValue("evil\r\nX-Injected: 1")).isFalse();
        assertThat(HeaderFirewall.isFieldValue("nul\u0000")).isFalse();
        assertThat(HeaderFirewall.isFieldValue("del\u007f")).isFalse();
        assertThat(HeaderFirewall.isFieldValue("Jos\u00e9")).isFalse();
    }

    @Test
    void headerNamesAreTokens() {
        assertThat(HeaderFirewall.isToken("X-Request-Id")).isTrue();
        assertThat(HeaderFirewall.isToken("Bad Name")).isFalse();
        assertThat(HeaderFirewall.isToken("bad:name")).isFalse();
        assertThat(HeaderFirewall.isToken("")).isFalse();
    }

    @Test
    void theFirewallRefusesABadHeaderWhenItIsRead() {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/fhir/Patient");
        request.addHeader("X-Device-Id", "ok\u0001");
        var firewalled = HeaderFirewall.create().getFirewalledRequest(request);
        assertThatThrownBy(() -> firewalled.getHeader("X-Device-Id")).isInstanceOf(RequestRejectedException.class);
    }
}
