package health.carapace.access;

import java.net.InetAddress;
import java.time.Instant;
import java.util.Objects;

/**
 * One question to the policy: may this caller perform this interaction on this kind of resource,
 * now, from this address, given their relation to the patient?
 *
 * @param clientAddress the real client address (X-Forwarded-For honoured only from trusted proxies)
 * @param category a policy-relevant sub-kind of the resource when its type alone does not say
 *     (e.g. "imaging" for an imaging DocumentReference), or null
 */
public record AccessRequest(Caller caller, Interaction interaction, String resourceType, String category,
        InetAddress clientAddress, Instant at, PatientRelation relation) {

    public AccessRequest {
        Objects.requireNonNull(caller, "caller");
        Objects.requireNonNull(interaction, "interaction");
        Objects.requireNonNull(resourceType, "resourceType");
        Objects.requireNonNull(clientAddress, "clientAddress");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(relation, "relation");
    }
}
