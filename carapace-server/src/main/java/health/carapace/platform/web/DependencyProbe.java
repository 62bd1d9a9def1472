package health.carapace.platform.web;

/**
 * A dependency the server cannot serve PHI requests without, checked for readiness
 * ({@code GET /health/ready}). Each module contributes its own (the PHI database here, the keyring
 * in crypto); a probe answers quickly and never throws.
 */
public interface DependencyProbe {

    /** A fixed name for logs, never shown to callers: {@code phi-database}, {@code keyring}. */
    String name();

    boolean reachable();
}
