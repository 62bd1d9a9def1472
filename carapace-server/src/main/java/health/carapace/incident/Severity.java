package health.carapace.incident;

/** How urgent an incident is; each detector has a fixed severity (docs/INCIDENTS.md). */
public enum Severity {
    LOW, MEDIUM, HIGH, CRITICAL;

    public String code() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Severity of(String code) {
        return valueOf(code.toUpperCase(java.util.Locale.ROOT));
    }
}
