package health.carapace.compliance;

import java.security.KeyPair;

/**
 * The Ed25519 key pair that signs compliance reports, kept wrapped by the KEK. Contributed by the
 * crypto module (which owns the keyring) so that this module depends on no other: a report is
 * signed with carapace-verify's {@code SignedReport}, the code an auditor runs offline.
 */
public interface ReportSigningKey {

    KeyPair keyPair();
}
