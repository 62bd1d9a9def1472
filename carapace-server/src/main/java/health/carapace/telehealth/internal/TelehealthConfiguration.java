package health.carapace.telehealth.internal;

import health.carapace.audit.AuditTrail;
import health.carapace.platform.web.PublicBaseUrl;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.socket.config.annotation.EnableWebSocket;
import org.springframework.web.socket.config.annotation.WebSocketConfigurer;
import org.springframework.web.socket.config.annotation.WebSocketHandlerRegistry;
import org.springframework.web.socket.server.standard.ServletServerContainerFactoryBean;

/** Visits, the signaling socket and the visit page (docs/TELEHEALTH.md). */
@Configuration(proxyBeanMethods = false)
@EnableWebSocket
class TelehealthConfiguration implements WebSocketConfigurer {

    static final String SIGNAL_PATH = "/telehealth/signal";

    private final SignalingHandler signaling;
    private final SignalingHandshake handshake;

    TelehealthConfiguration(SignalingHandler signaling, SignalingHandshake handshake) {
        this.signaling = signaling;
        this.handshake = handshake;
    }

    @Bean
    static TelehealthSettings telehealthSettings(@Value("${carapace.telehealth.patient-link-ttl}") Duration patientLinkTtl,
            @Value("${carapace.telehealth.ticket-ttl}") Duration ticketTtl,
            @Value("${carapace.telehealth.key-rotation}") Duration keyRotation,
            @Value("${carapace.telehealth.max-message-bytes}") int maxMessageBytes,
            @Value("${carapace.telehealth.messages-per-second}") int messagesPerSecond,
            @Value("${carapace.telehealth.ice-servers:}") String iceServers) {
        return new TelehealthSettings(patientLinkTtl, ticketTtl, keyRotation, maxMessageBytes, messagesPerSecond,
                Arrays.stream(iceServers.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList());
    }

    @Bean
    static Visits telehealthVisits(DataSource dataSource, Clock clock) {
        return new Visits(dataSource, clock);
    }

    @Bean
    static JoinTickets joinTickets(Clock clock, TelehealthSettings settings) {
        return new JoinTickets(clock, settings.ticketTtl());
    }

    @Bean
    static VisitAudit visitAudit(AuditTrail audit, Clock clock) {
        return new VisitAudit(audit, clock);
    }

    @Bean
    static VisitRooms visitRooms() {
        return new VisitRooms();
    }

    @Bean(destroyMethod = "shutdownNow")
    static ScheduledExecutorService signalingTimers() {
        return Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "telehealth-timers");
            thread.setDaemon(true);
            return thread;
        });
    }

    @Bean
    static SignalingHandler signalingHandler(Visits visits, JoinTickets tickets, VisitRooms rooms, VisitAudit audit,
            TelehealthSettings settings, ScheduledExecutorService signalingTimers) {
        return new SignalingHandler(visits, tickets, rooms, audit, settings, signalingTimers);
    }

    @Bean
    static SignalingHandshake signalingHandshake(PublicBaseUrl baseUrl) {
        return new SignalingHandshake(baseUrl);
    }

    /** $start-visit, served through the FHIR endpoint by records ({@code records.InstanceOperation}). */
    @Bean
    static StartVisitOperation startVisitOperation(Visits visits, TelehealthSettings settings,
            PlatformTransactionManager transactionManager, AuditTrail audit, PublicBaseUrl baseUrl, Clock clock) {
        return new StartVisitOperation(visits, settings, new TransactionTemplate(transactionManager), audit, baseUrl, clock);
    }

    /** Tomcat's own limit on a text message: larger ones are refused with 1009 before the handler sees them. */
    @Bean
    @ConditionalOnWebApplication
    static ServletServerContainerFactoryBean webSocketContainer(org.springframework.core.env.Environment environment) {
        // A FactoryBean is made while the context is still looking at bean types, before @Value
        // placeholders resolve: the limit is read from the environment (checked by TelehealthSettings).
        ServletServerContainerFactoryBean container = new ServletServerContainerFactoryBean();
        container.setMaxTextMessageBufferSize(environment.getRequiredProperty("carapace.telehealth.max-message-bytes",
                Integer.class));
        container.setMaxBinaryMessageBufferSize(1024);
        return container;
    }

    @Override
    public void registerWebSocketHandlers(WebSocketHandlerRegistry registry) {
        // Origin is checked by SignalingHandshake against the public base URL, exactly; Spring's
        // own same-origin check would compare with the request's Host instead, so it is opened here.
        registry.addHandler(signaling, SIGNAL_PATH).addInterceptors(handshake).setAllowedOriginPatterns("*");
    }
}
