package health.carapace.incident;

/**
 * The four-factor risk assessment of 45 CFR §164.402(2), as enumerated answers (free text could
 * carry PHI): (i) the nature and extent of the PHI involved, (ii) the unauthorized person who used
 * it or to whom it was disclosed, (iii) whether it was actually acquired or viewed, (iv) the
 * extent to which the risk has been mitigated; and the conclusion drawn from them.
 */
public record RiskAssessment(PhiInvolved phiInvolved, Recipient recipient, Acquisition acquisition,
        Mitigation mitigation, Conclusion conclusion) {

    public RiskAssessment {
        if (phiInvolved == null || recipient == null || acquisition == null || mitigation == null
                || conclusion == null) {
            throw new IllegalArgumentException(
                    "phiInvolved, recipient, acquisition, mitigation and conclusion are all required");
        }
    }

    /** Factor (i): what kinds of PHI, and how identifying. */
    public enum PhiInvolved { DEMOGRAPHIC_ONLY, CLINICAL, SENSITIVE_CLINICAL, FINANCIAL_OR_SSN, DE_IDENTIFIED }

    /** Factor (ii): who used or received it. */
    public enum Recipient { WORKFORCE_MEMBER, OTHER_COVERED_ENTITY_OR_ASSOCIATE, KNOWN_OUTSIDE_PARTY, UNKNOWN_OUTSIDE_PARTY }

    /** Factor (iii): whether it was actually acquired or viewed. */
    public enum Acquisition { NOT_VIEWED, VIEWED, ACQUIRED, UNKNOWN }

    /** Factor (iv): how far the risk was mitigated (assurances, return, destruction). */
    public enum Mitigation { FULLY, PARTIALLY, NOT_MITIGATED }

    /** The result: a low probability that the PHI was compromised, or a breach to be notified. */
    public enum Conclusion { LOW_PROBABILITY_OF_COMPROMISE, BREACH }
}
