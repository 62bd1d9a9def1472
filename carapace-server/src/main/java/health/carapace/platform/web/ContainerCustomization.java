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
 * {@link ContainerErrorReport} instead of Tomcat's HTML page.
 *
 * <p>Spring Boot gives no hook on the host before it starts, and the host puts its valve in place
 * as it starts, just before it starts the application's context. So the swap is made when the
 * context is about to start: the host's pipeline has not started yet, and no request has been
 * served.
 */
@Component
class ContainerCustomization implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
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
