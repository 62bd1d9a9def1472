package health.carapace.access;

import java.net.InetAddress;
import java.time.Instant;

/**
 * The access-control decision point: roles (permissions and constraints) from the policy
 * directory, the permission vocabulary of docs/ACCESS.md, deny by default. Pure and fast: it reads
 * only the loaded policy, so the enforcement points can call it on every request.
 */
public interface AccessPolicy {

    AccessDecision decide(AccessRequest request);

    /**
     * Whether one of the caller's roles grants {@code permission} with its constraints satisfied
     * at {@code at} from {@code clientAddress}: used for permissions that are not an interaction,
     * such as {@code view:ssn} (masking) and {@code view:all_patients} (care-team scoping).
     */
    boolean grants(Caller caller, String permission, InetAddress clientAddress, Instant at);
}
