/**
 * FHIR R4 over REST (HAPI plain server): the encrypted store, blind-index search, bundles, and the
 * interceptors that enforce the access policy, mask and audit. Reached over HTTP only.
 */
@org.springframework.modulith.ApplicationModule(
        allowedDependencies = {"access", "audit", "crypto", "platform :: logging", "platform :: web"})
package health.carapace.records;
