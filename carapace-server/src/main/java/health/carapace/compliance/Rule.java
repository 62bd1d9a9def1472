package health.carapace.compliance;

/**
 * The rules a check can give evidence for: the HIPAA Security Rule's technical safeguards
 * (45 CFR §164.312, every standard and implementation specification), the administrative
 * safeguards (§164.308) a running system can evidence, and the technical items of the proposed
 * update (NPRM, 90 FR 898, 6 January 2025). The NPRM items are named, not numbered: the proposed
 * section numbers may change in the final rule. This is the one list of rules; docs/COMPLIANCE.md
 * holds the same table for people, and a test compares the two.
 */
public enum Rule {

    ACCESS_CONTROL("§164.312(a)(1)", "Access control", Source.HIPAA),
    UNIQUE_USER_IDENTIFICATION("§164.312(a)(2)(i)", "Unique user identification", Source.HIPAA),
    EMERGENCY_ACCESS_PROCEDURE("§164.312(a)(2)(ii)", "Emergency access procedure", Source.HIPAA),
    AUTOMATIC_LOGOFF("§164.312(a)(2)(iii)", "Automatic logoff", Source.HIPAA),
    ENCRYPTION_AND_DECRYPTION("§164.312(a)(2)(iv)", "Encryption and decryption", Source.HIPAA),
    AUDIT_CONTROLS("§164.312(b)", "Audit controls", Source.HIPAA),
    INTEGRITY("§164.312(c)(1)", "Integrity", Source.HIPAA),
    MECHANISM_TO_AUTHENTICATE_EPHI("§164.312(c)(2)", "Mechanism to authenticate electronic protected health information",
            Source.HIPAA),
    PERSON_OR_ENTITY_AUTHENTICATION("§164.312(d)", "Person or entity authentication", Source.HIPAA),
    TRANSMISSION_SECURITY("§164.312(e)(1)", "Transmission security", Source.HIPAA),
    TRANSMISSION_INTEGRITY_CONTROLS("§164.312(e)(2)(i)", "Integrity controls (transmission)", Source.HIPAA),
    TRANSMISSION_ENCRYPTION("§164.312(e)(2)(ii)", "Encryption (transmission)", Source.HIPAA),

    TERMINATION_PROCEDURES("§164.308(a)(3)(ii)(C)", "Termination procedures", Source.HIPAA),
    ACCESS_REVIEW("§164.308(a)(4)(ii)(C)", "Access establishment and modification", Source.HIPAA),
    LOG_IN_MONITORING("§164.308(a)(5)(ii)(C)", "Log-in monitoring", Source.HIPAA),
    PASSWORD_MANAGEMENT("§164.308(a)(5)(ii)(D)", "Password management", Source.HIPAA),
    SECURITY_INCIDENT_PROCEDURES("§164.308(a)(6)", "Security incident procedures", Source.HIPAA),
    DATA_BACKUP_PLAN("§164.308(a)(7)(ii)(A)", "Contingency plan: data backup plan", Source.HIPAA),
    DISASTER_RECOVERY_PLAN("§164.308(a)(7)(ii)(B)", "Contingency plan: disaster recovery (restore)", Source.HIPAA),
    TESTING_AND_REVISION("§164.308(a)(7)(ii)(D)", "Contingency plan: testing and revision (drills)", Source.HIPAA),
    EVALUATION("§164.308(a)(8)", "Evaluation", Source.HIPAA),

    NPRM_MFA("NPRM: multi-factor authentication", "Multi-factor authentication for every user", Source.NPRM),
    NPRM_ENCRYPTION_AT_REST("NPRM: encryption at rest", "ePHI encrypted at rest", Source.NPRM),
    NPRM_ENCRYPTION_IN_TRANSIT("NPRM: encryption in transit", "ePHI encrypted in transit", Source.NPRM),
    NPRM_ASSET_INVENTORY("NPRM: technology asset inventory and network map",
            "Inventory of technology assets and map of ePHI flows, reviewed at least every 12 months", Source.NPRM),
    NPRM_VULNERABILITY_SCAN("NPRM: vulnerability scanning", "Vulnerability scans at least every 6 months", Source.NPRM),
    NPRM_PENETRATION_TEST("NPRM: penetration testing", "Penetration tests at least every 12 months", Source.NPRM),
    NPRM_ACCESS_TERMINATION("NPRM: workforce access termination",
            "Access ended within 1 hour of employment ending", Source.NPRM),
    NPRM_BACKUP_RESTORE("NPRM: backup and restoration",
            "Backups, and restore of critical systems within 72 hours", Source.NPRM),
    NPRM_AUDIT_LOGGING("NPRM: audit trail and system log controls",
            "Audit records of activity in systems with ePHI, monitored in real time", Source.NPRM),
    NPRM_PATCH_MANAGEMENT("NPRM: patch management", "Known-vulnerable components replaced", Source.NPRM);

    public enum Source {
        HIPAA("45 CFR Part 164 Subpart C"), NPRM("HIPAA Security Rule NPRM, 90 FR 898 (proposed)");

        private final String citation;

        Source(String citation) {
            this.citation = citation;
        }

        public String citation() {
            return citation;
        }
    }

    private final String citation;
    private final String title;
    private final Source source;

    Rule(String citation, String title, Source source) {
        this.citation = citation;
        this.title = title;
        this.source = source;
    }

    public String citation() {
        return citation;
    }

    public String title() {
        return title;
    }

    public Source source() {
        return source;
    }
}
