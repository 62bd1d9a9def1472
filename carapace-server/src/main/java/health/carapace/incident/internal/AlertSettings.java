package health.carapace.incident.internal;

import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.springframework.core.env.Environment;

/**
 * Where incident alerts go ({@code carapace.incident.alert.*}), encrypted channels only: e-mail
 * over SMTP with STARTTLS required ({@code starttls}) or implicit TLS ({@code tls}), the server's
 * certificate verified (there is no setting for plain SMTP: it is refused at start); webhooks over
 * HTTPS only, signed with HMAC-SHA256. Certificates are verified against the JDK's trust store, or
 * {@code trust-store} (PKCS#12) when set. Unset host and URL: no alerts (the metrics still show
 * the alert clock running out).
 */
record AlertSettings(String smtpHost, int smtpPort, boolean implicitTls, String smtpUsername, String smtpPassword,
        String from, List<String> to, List<String> escalateTo, URI webhook, URI escalationWebhook, byte[] webhookSecret,
        Duration escalateAfter, Path trustStore, char[] trustStorePassword, Outbox outbox) {

    static final String PREFIX = "carapace.incident.alert.";

    /**
     * How the outbox delivers ({@code carapace.incident.alert.outbox.*}, {@code .overdue.*}): the first
     * retry after {@code firstBackOff}, doubling up to {@code maxBackOff}; an alert not delivered
     * {@code giveUpAfter} after it was written is dead. A sender holds an alert it took for {@code lease}
     * (longer than one delivery can take: the SMTP and webhook timeouts); a sender that died with it
     * leaves it to the next after that (ADR 0041). Overdue clocks are looked for every
     * {@code overdueCheckInterval}; a deadline that passed more than {@code overdueCatchUp} before it
     * was first seen is recorded without an alert.
     */
    record Outbox(Duration poll, Duration firstBackOff, Duration maxBackOff, Duration giveUpAfter,
            Duration overdueCheckInterval, Duration overdueCatchUp, Duration lease) {}

    /** Which contact an alert is for: the compliance officer, or the second contact it escalates to. */
    enum Contact {
        PRIMARY, ESCALATION;

        String code() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static Contact of(String code) {
            return valueOf(code.toUpperCase(java.util.Locale.ROOT));
        }
    }

    boolean mail() {
        return smtpHost != null;
    }

    /** The e-mail recipients of a contact (empty: no e-mail for it). */
    List<String> recipients(Contact contact) {
        return !mail() ? List.of() : contact == Contact.PRIMARY ? to : escalateTo;
    }

    /** The webhook of a contact, or null. */
    URI webhook(Contact contact) {
        if (webhookSecret == null) {
            return null;
        }
        return contact == Contact.PRIMARY ? webhook : escalationWebhook;
    }

    /** Checks the settings; one sentence per problem, naming the setting, never its value. */
    static List<String> problems(Environment environment) {
        List<String> problems = new ArrayList<>();
        try {
            from(environment, problems);
        } catch (RuntimeException e) {
            problems.add(PREFIX + "* could not be read");
        }
        return problems;
    }

    static AlertSettings from(Environment environment) {
        List<String> problems = new ArrayList<>();
        AlertSettings settings = from(environment, problems);
        if (!problems.isEmpty()) {
            throw new IllegalStateException(String.join("; ", problems));
        }
        return settings;
    }

    private static AlertSettings from(Environment env, List<String> problems) {
        String host = blankToNull(env.getProperty(PREFIX + "smtp.host"));
        String security = env.getProperty(PREFIX + "smtp.security", "starttls").strip();
        boolean implicitTls = false;
        if (security.equals("tls")) {
            implicitTls = true;
        } else if (!security.equals("starttls")) {
            problems.add(PREFIX + "smtp.security must be starttls (required, never optional) or tls (implicit); "
                    + "plain SMTP is refused");
        }
        int port = 0;
        try {
            port = Integer.parseInt(env.getProperty(PREFIX + "smtp.port", implicitTls ? "465" : "587").strip());
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            problems.add(PREFIX + "smtp.port must be a port number");
        }
        List<String> to = list(env.getProperty(PREFIX + "smtp.to"));
        List<String> escalateTo = list(env.getProperty(PREFIX + "smtp.escalate-to"));
        String from = blankToNull(env.getProperty(PREFIX + "smtp.from"));
        if (host != null && (to.isEmpty() || from == null)) {
            problems.add(PREFIX + "smtp.from and " + PREFIX + "smtp.to are required with " + PREFIX + "smtp.host");
        }
        URI webhook = https(env, "webhook.url", problems);
        URI escalation = https(env, "webhook.escalation-url", problems);
        String secret = blankToNull(env.getProperty(PREFIX + "webhook.secret"));
        boolean webhookNamed = blankToNull(env.getProperty(PREFIX + "webhook.url")) != null
                || blankToNull(env.getProperty(PREFIX + "webhook.escalation-url")) != null;
        if (webhookNamed && (secret == null || secret.length() < 32)) {
            problems.add(PREFIX + "webhook.secret of at least 32 characters is required with a webhook URL");
        }
        Duration escalateAfter = Duration.ofMinutes(30);
        try {
            escalateAfter = Duration.parse(env.getProperty(PREFIX + "escalate-after", "PT30M").strip());
            if (escalateAfter.isNegative() || escalateAfter.isZero() || escalateAfter.compareTo(Duration.ofHours(4)) > 0) {
                throw new IllegalArgumentException();
            }
        } catch (RuntimeException e) {
            problems.add(PREFIX + "escalate-after must be an ISO-8601 duration up to PT4H");
        }
        String trustStore = blankToNull(env.getProperty(PREFIX + "trust-store"));
        if (trustStore != null && !Files.isRegularFile(Path.of(trustStore))) {
            problems.add(PREFIX + "trust-store must name a PKCS#12 file");
        }
        String trustPassword = env.getProperty(PREFIX + "trust-store-password", "");
        Outbox outbox = new Outbox(
                duration(env, "outbox.poll-interval", "PT1S", Duration.ofMillis(50), Duration.ofMinutes(1), problems),
                duration(env, "outbox.first-back-off", "PT1S", Duration.ofMillis(50), Duration.ofMinutes(10), problems),
                duration(env, "outbox.max-back-off", "PT1M", Duration.ofMillis(50), Duration.ofHours(1), problems),
                duration(env, "outbox.give-up-after", "PT24H", Duration.ofSeconds(1), Duration.ofDays(14), problems),
                duration(env, "overdue.check-interval", "PT30S", Duration.ofSeconds(1), Duration.ofMinutes(15),
                        problems),
                duration(env, "overdue.catch-up", "P7D", Duration.ofMinutes(1), Duration.ofDays(366), problems),
                duration(env, "outbox.lease", "PT5M", Duration.ofSeconds(1), Duration.ofHours(1), problems));
        if (outbox.maxBackOff().compareTo(outbox.firstBackOff()) < 0) {
            problems.add(PREFIX + "outbox.max-back-off must not be shorter than " + PREFIX + "outbox.first-back-off");
        }
        return new AlertSettings(host, port, implicitTls, blankToNull(env.getProperty(PREFIX + "smtp.username")),
                env.getProperty(PREFIX + "smtp.password"), from, to, escalateTo, webhook, escalation,
                secret == null ? null : secret.getBytes(java.nio.charset.StandardCharsets.UTF_8), escalateAfter,
                trustStore == null ? null : Path.of(trustStore), trustPassword.toCharArray(), outbox);
    }

    private static Duration duration(Environment env, String name, String fallback, Duration min, Duration max,
            List<String> problems) {
        try {
            Duration value = Duration.parse(env.getProperty(PREFIX + name, fallback).strip());
            if (value.compareTo(min) >= 0 && value.compareTo(max) <= 0) {
                return value;
            }
        } catch (RuntimeException malformed) {
            // reported below, without the value
        }
        problems.add(PREFIX + name + " must be an ISO-8601 duration between " + min + " and " + max);
        return Duration.parse(fallback);
    }

    /** The TLS context alerts verify servers with: the configured trust store, or the JDK's. */
    SSLContext sslContext() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            if (trustStore == null) {
                context.init(null, null, null);
                return context;
            }
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(trustStore)) {
                store.load(in, trustStorePassword);
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (Exception e) {
            throw new IllegalStateException("the alert trust store cannot be loaded", e);
        }
    }

    private static URI https(Environment env, String name, List<String> problems) {
        String text = blankToNull(env.getProperty(PREFIX + name));
        if (text == null) {
            return null;
        }
        try {
            URI uri = URI.create(text);
            if ("https".equals(uri.getScheme()) && uri.getHost() != null && uri.getUserInfo() == null) {
                return uri;
            }
        } catch (IllegalArgumentException malformed) {
            // reported below
        }
        problems.add(PREFIX + name + " must be an https:// URL without credentials (plain HTTP is refused)");
        return null;
    }

    private static List<String> list(String text) {
        List<String> values = new ArrayList<>();
        if (text != null) {
            for (String value : text.split(",")) {
                if (!value.isBlank()) {
                    values.add(value.strip());
                }
            }
        }
        return List.copyOf(values);
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text.strip();
    }
}
