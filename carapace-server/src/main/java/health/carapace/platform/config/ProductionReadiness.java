package health.carapace.platform.config;

import health.carapace.platform.logging.RedactingJsonFormat;
import health.carapace.platform.logging.SafeMessage;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Runs as a bean-factory post-processor, so before any other bean is created (no connection
 * opened, no key touched), and refuses to start a server whose configuration would break
 * a protection. In {@code prod} mode: TLS to PostgreSQL with certificate checks, a TLS
 * certificate for HTTPS, the PKCS#11 KEK, separate database roles for PHI and keyring, and the
 * redacting log format, an existing policy directory (it must also load: the access module
 * refuses to start on an invalid role). Every mode: {@code carapace.mode} must be set explicitly.
 * In {@code dev} mode a keyring sharing the PHI database user is allowed, with a warning.
 */
@Component
public final class ProductionReadiness implements BeanFactoryPostProcessor, EnvironmentAware {

    private static final Logger log = LoggerFactory.getLogger(ProductionReadiness.class);

    private Environment environment;

    /** Thrown with every problem at once, so an operator fixes them in one round. */
    public static final class NotReady extends IllegalStateException implements SafeMessage {
        NotReady(String message) {
            super(message);
        }
    }

    @Override
    public void setEnvironment(Environment environment) {
        this.environment = environment;
    }

    @Override
    public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
        List<String> problems = problems(environment);
        if (!problems.isEmpty()) {
            throw new NotReady("Carapace refuses to start:\n  - " + String.join("\n  - ", problems));
        }
        if (sharesKeyringUser(environment) && "dev".equals(environment.getProperty("carapace.mode"))) {
            // start refuses this; start-dev allows it but says so. A constant message: no user names.
            log.warn("Key separation is off: the keyring and the PHI tables are reached as the same database user "
                    + "(carapace.keyring.username equals carapace.db.username), so a SQL injection in the record "
                    + "path could read wrapped keys. ./carapace start refuses this configuration.");
        }
    }

    /** Whether the keyring and the PHI tables are configured to be reached as the same database user. */
    static boolean sharesKeyringUser(Environment env) {
        String phiUser = env.getProperty("carapace.db.username", "");
        return !isBlank(phiUser) && phiUser.equals(env.getProperty("carapace.keyring.username", ""));
    }

    public static List<String> problems(Environment env) {
        String mode = env.getProperty("carapace.mode", "");
        List<String> problems = new ArrayList<>();
        if (!mode.equals("dev") && !mode.equals("prod")) {
            problems.add("carapace.mode must be 'prod' (./carapace start) or 'dev' (./carapace start-dev)");
            return problems;
        }
        String ourFormat = RedactingJsonFormat.class.getName();
        if (!ourFormat.equals(env.getProperty("logging.structured.format.console"))) {
            problems.add("logging.structured.format.console must stay " + ourFormat + " (PHI redaction)");
        }
        if (env.getProperty("logging.file.name") != null || env.getProperty("logging.file.path") != null) {
            if (!ourFormat.equals(env.getProperty("logging.structured.format.file"))) {
                problems.add("logging.structured.format.file must be " + ourFormat + " when logging to a file");
            }
        }
        if (!mode.equals("prod")) {
            return problems;
        }
        requireTlsJdbc(env, "carapace.db.url", problems);
        requireTlsJdbc(env, "carapace.keyring.url", problems);
        if (!env.containsProperty("server.ssl.key-store") && !env.containsProperty("server.ssl.bundle")
                && !env.containsProperty("server.ssl.certificate")) {
            problems.add("a TLS certificate is required: set server.ssl.key-store (SERVER_SSL_KEY_STORE) "
                    + "or server.ssl.bundle");
        }
        if (!env.getProperty("server.ssl.enabled", Boolean.class, true)) {
            problems.add("server.ssl.enabled must not be false: Carapace serves HTTPS only");
        }
        String kek = env.getProperty("carapace.kek.provider", "");
        if (kek.equals("dev-keystore")) {
            problems.add("the dev keystore KEK is for start-dev only: set carapace.kek.provider=pkcs11");
        } else if (!kek.equals("pkcs11")) {
            problems.add("carapace.kek.provider must be pkcs11 (CARAPACE_KEK_PROVIDER)");
        }
        if (kek.equals("pkcs11") || !kek.equals("dev-keystore")) {
            for (String key : List.of("carapace.kek.pkcs11.library", "carapace.kek.pkcs11.pin",
                    "carapace.kek.pkcs11.key-label")) {
                if (isBlank(env.getProperty(key))) {
                    problems.add(key + " is required for the pkcs11 KEK");
                }
            }
        }
        if (isBlank(env.getProperty("carapace.audit.witness-dir"))) {
            problems.add("carapace.audit.witness-dir is required: signed audit tree heads are written there, "
                    + "outside the database (put it on other storage)");
        }
        publicBaseUrlProblem(env.getProperty("carapace.public-base-url")).ifPresent(problems::add);
        String policyDir = env.getProperty("carapace.access.policy-dir");
        if (isBlank(policyDir)) {
            problems.add("carapace.access.policy-dir is required: the directory of role documents "
                    + "(docs/ACCESS.md); there are no implicit roles in start");
        } else if (!java.nio.file.Files.isDirectory(java.nio.file.Path.of(policyDir))) {
            problems.add("carapace.access.policy-dir does not exist or is not a directory");
        }
        String phiUser = env.getProperty("carapace.db.username", "");
        String keyringUser = env.getProperty("carapace.keyring.username", "");
        if (isBlank(phiUser) || isBlank(keyringUser)) {
            problems.add("carapace.db.username and carapace.keyring.username are required");
        } else if (phiUser.equals(keyringUser)) {
            problems.add("the keyring and the PHI tables must be reached as different database users "
                    + "(carapace.keyring.username equals carapace.db.username)");
        }
        return problems;
    }

    /** Links and the OAuth issuer are built from this URL, never from the request's Host. */
    static java.util.Optional<String> publicBaseUrlProblem(String url) {
        String required = "carapace.public-base-url is required: the https://host[:port] address clients use "
                + "(links and the OAuth issuer are built from it, and requests for other host names are refused)";
        if (isBlank(url)) {
            return java.util.Optional.of(required);
        }
        try {
            java.net.URI uri = new java.net.URI(url.strip());
            boolean noPath = uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/");
            if ("https".equalsIgnoreCase(uri.getScheme()) && uri.getHost() != null && uri.getPort() != 0
                    && noPath && uri.getRawQuery() == null && uri.getRawFragment() == null && uri.getRawUserInfo() == null) {
                return java.util.Optional.empty();
            }
        } catch (java.net.URISyntaxException invalid) {
            // refused below
        }
        return java.util.Optional.of("carapace.public-base-url must be https://host[:port] with no path, "
                + "query or port 0");
    }

    private static void requireTlsJdbc(Environment env, String key, List<String> problems) {
        String url = env.getProperty(key);
        if (isBlank(url)) {
            problems.add(key + " is required: a jdbc:postgresql:// URL of an external PostgreSQL");
        } else if (!url.startsWith("jdbc:postgresql://")) {
            problems.add(key + " must be a jdbc:postgresql:// URL");
        } else if (!url.contains("sslmode=verify-full") && !url.contains("sslmode=verify-ca")) {
            problems.add(key + " must use TLS with certificate verification (sslmode=verify-full)");
        }
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
