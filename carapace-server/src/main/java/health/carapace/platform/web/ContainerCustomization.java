package health.carapace.platform.web;

import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.Valve;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.stereotype.Component;

/**
 * Makes the embedded Tomcat answer in Carapace's words: its host's error report valve (which
 * renders every response Tomcat makes on its own, and any exception that reaches it) is
 * {@link ContainerErrorReport} instead of Tomcat's HTML page. Its connector accepts the characters
 * FHIR writes raw in search values ({@code identifier=urn:oid:1.2.3|123}, composite and
 * {@code [x]} parameters), as curl, Postman and integration engines send them: {@link #RELAXED_QUERY_CHARS}
 * in the query string only (never in the path). The application decodes and checks the query
 * itself ({@link DecodableParameters}); what Tomcat still refuses is answered by the valve.
 *
 * <p>Spring Boot gives no hook on the host before it starts, and the host puts its valve in place
 * as it starts, just before it starts the application's context. So the swap is made when the
 * context is about to start: the host's pipeline has not started yet, and no request has been
 * served.
 */
@Component
class ContainerCustomization implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {

    /** RFC 3986 leaves these out of a query; FHIR search writes them raw. Nothing else is relaxed. */
    static final String RELAXED_QUERY_CHARS = "|[]{}";

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        factory.addConnectorCustomizers(connector -> connector.setProperty("relaxedQueryChars", RELAXED_QUERY_CHARS));
        factory.addContextCustomizers(context -> context.addLifecycleListener(event -> {
            if (Lifecycle.BEFORE_START_EVENT.equals(event.getType())) {
                useOurErrorReport(context);
            }
        }));
    }

    static void useOurErrorReport(Context context) {
        Container parent = context.getParent();
        if (!(parent instanceof StandardHost host)) {
            throw new IllegalStateException("The application context is not inside a Tomcat host");
        }
        host.setErrorReportValveClass(ContainerErrorReport.class.getName());
        for (Valve valve : host.getPipeline().getValves()) {
            if (valve instanceof ErrorReportValve && !(valve instanceof ContainerErrorReport)) {
                host.getPipeline().removeValve(valve);
            }
        }
        for (Valve valve : host.getPipeline().getValves()) {
            if (valve instanceof ContainerErrorReport) {
                return;
            }
        }
        host.getPipeline().addValve(new ContainerErrorReport());
    }
}
