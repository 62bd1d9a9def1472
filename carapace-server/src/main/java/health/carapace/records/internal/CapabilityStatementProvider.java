package health.carapace.records.internal;

import ca.uhn.fhir.rest.annotation.Metadata;
import health.carapace.records.internal.SearchCatalog.Param;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Date;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestComponent;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.hl7.fhir.r4.model.CapabilityStatement.ResourceVersionPolicy;
import org.hl7.fhir.r4.model.CapabilityStatement.RestfulCapabilityMode;
import org.hl7.fhir.r4.model.CapabilityStatement.SystemRestfulInteraction;
import org.hl7.fhir.r4.model.CapabilityStatement.TypeRestfulInteraction;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Enumerations.FHIRVersion;
import org.hl7.fhir.r4.model.Enumerations.PublicationStatus;
import org.hl7.fhir.r4.model.Enumerations.SearchParamType;

/**
 * {@code GET /fhir/metadata}, built from the same tables that drive the server (served types,
 * search parameters, includes, operations), and saying plainly what is not supported
 * (update-as-create, conditional read). {@code CapabilityStatementIsWhatIsServedTest}
 * exercises every line of it.
 */
public final class CapabilityStatementProvider {

    /** The entries a batch or transaction takes (CapabilityStatementIsWhatIsServedTest sends each method named). */
    static final String BUNDLE_ENTRIES = "Entries: POST (create, with ifNoneExist), PUT (Type/id with ifMatch, or "
            + "Type?criteria: a conditional update), PATCH (Type/id with ifMatch; a Binary of application/json-patch+json "
            + "or a Parameters FHIRPath Patch), DELETE (Type/id), GET (Type/id, Type/id/_history/n).";

    static final String OPERATION_BASE = "https://carapace.health/fhir/OperationDefinition/";

    private final Date published = new Date();
    /** Operations other modules serve on one record ({@link InstanceOperations}), by type. */
    private final java.util.List<health.carapace.records.InstanceOperation> instanceOperations;
    private final java.util.function.Supplier<String> publicBaseUrl;

    /**
     * @param publicBaseUrl the configured public base URL: the OAuth endpoints an app is told to
     *        use must not follow a Host header the request chose (review F10)
     */
    CapabilityStatementProvider(java.util.List<health.carapace.records.InstanceOperation> instanceOperations,
            java.util.function.Supplier<String> publicBaseUrl) {
        this.instanceOperations = java.util.List.copyOf(instanceOperations);
        this.publicBaseUrl = publicBaseUrl;
    }

    /** HAPI hands conformance providers the server; this one needs nothing from it. */
    public void setRestfulServer(ca.uhn.fhir.rest.server.RestfulServer server) {
        // The statement is built from Carapace's own tables, not from HAPI's method bindings.
    }

    /**
     * SMART App Launch's CapabilityStatement extension (the endpoints also listed at
     * {@code .well-known/smart-configuration}, issue #18, owned by {@code signin}).
     */
    private void smartOnFhir(CapabilityStatement.CapabilityStatementRestSecurityComponent security) {
        String base = publicBaseUrl.get();
        security.getServiceFirstRep().addCoding(new org.hl7.fhir.r4.model.Coding(
                "http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR", "SMART-on-FHIR"));
        org.hl7.fhir.r4.model.Extension uris = security.addExtension()
                .setUrl("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
        uris.addExtension("authorize", new org.hl7.fhir.r4.model.UriType(base + "/oauth2/authorize"));
        uris.addExtension("token", new org.hl7.fhir.r4.model.UriType(base + "/oauth2/token"));
        // revoke and introspect are not sub-extensions of oauth-uris (the validator refuses them);
        // /.well-known/smart-configuration names them
    }

    @Metadata
    public CapabilityStatement capabilities(HttpServletRequest request) {
        CapabilityStatement cs = new CapabilityStatement();
        cs.setStatus(PublicationStatus.ACTIVE)
                .setDate(published)
                .setKind(CapabilityStatement.CapabilityStatementKind.INSTANCE)
                .setFhirVersion(FHIRVersion._4_0_1)
                .setPublisher("Carapace");
        cs.getSoftware().setName("Carapace").setVersion(version());
        cs.getImplementation().setDescription("Carapace FHIR R4 server: encrypted at rest, bearer-token access")
                .setUrl(request.getRequestURL().toString().replaceAll("/metadata$", ""));
        cs.addFormat("application/fhir+json").addFormat("application/fhir+xml").addFormat("json").addFormat("xml");
        cs.addPatchFormat("application/json-patch+json").addPatchFormat("application/fhir+json")
                .addPatchFormat("application/fhir+xml");
        CapabilityStatementRestComponent rest = cs.addRest().setMode(RestfulCapabilityMode.SERVER);
        // CORS answers go to registered SMART app origins only (ADR 0027)
        rest.getSecurity().setCors(true)
                .setDescription("OAuth2 client credentials: POST /oauth2/token; send 'Authorization: Bearer <token>'. "
                        + "Access tokens expire within 15 minutes.")
                .addService(new CodeableConcept().addCoding(new org.hl7.fhir.r4.model.Coding(
                        "http://terminology.hl7.org/CodeSystem/restful-security-service", "OAuth", "OAuth")));
        smartOnFhir(rest.getSecurity());
        rest.addInteraction().setCode(SystemRestfulInteraction.TRANSACTION).setDocumentation(BUNDLE_ENTRIES
                + " All or nothing; Provenance entries are written after the records they are about; the records "
                + "changed are locked in one order before the first entry runs.");
        rest.addInteraction().setCode(SystemRestfulInteraction.BATCH).setDocumentation(BUNDLE_ENTRIES
                + " Each entry on its own, with its own status.");
        rest.addInteraction().setCode(SystemRestfulInteraction.HISTORYSYSTEM)
                .setDocumentation("Every version the caller may see, narrowed to its scope per type; _since, _count");
        rest.addOperation().setName("break-glass").setDefinition(OPERATION_BASE + "break-glass")
                .setDocumentation("Opens time-boxed emergency access to one patient (Parameters: patient, reason)");
        rest.addOperation().setName("break-glass-close").setDefinition(OPERATION_BASE + "break-glass-close")
                .setDocumentation("Closes the caller's emergency access to one patient (Parameters: patient)");
        for (String type : ResourceTypes.names()) {
            CapabilityStatementRestResourceComponent resource = rest.addResource().setType(type);
            for (TypeRestfulInteraction interaction : new TypeRestfulInteraction[] {
                    TypeRestfulInteraction.READ, TypeRestfulInteraction.VREAD, TypeRestfulInteraction.UPDATE,
                    TypeRestfulInteraction.PATCH, TypeRestfulInteraction.DELETE, TypeRestfulInteraction.HISTORYINSTANCE,
                    TypeRestfulInteraction.HISTORYTYPE, TypeRestfulInteraction.CREATE, TypeRestfulInteraction.SEARCHTYPE}) {
                resource.addInteraction().setCode(interaction);
            }
            resource.setVersioning(ResourceVersionPolicy.VERSIONEDUPDATE)
                    .setReadHistory(true)
                    .setUpdateCreate(false)
                    .setConditionalCreate(true)
                    .setConditionalRead(CapabilityStatement.ConditionalReadStatus.NOTSUPPORTED)
                    .setConditionalUpdate(true)
                    .setConditionalDelete(CapabilityStatement.ConditionalDeleteStatus.SINGLE)
                    .setDocumentation("Conditional create, update and delete take criteria served from blind indexes or "
                            + "metadata, resolved in the caller's scope. PATCH takes JSON Patch and FHIRPath Patch (element paths only), also as Bundle entries. _sort takes _lastUpdated, "
                            + "_id and the string, date and code parameters below (encrypted values are ordered after "
                            + "decryption, within the bounded candidate set).");
            for (Param param : SearchCatalog.COMMON) {
                addParam(resource, param);
            }
            for (Param param : SearchCatalog.forType(type).values()) {
                addParam(resource, param);
            }
            for (IncludeCatalog.Ref ref : IncludeCatalog.forSource(type).values()) {
                resource.addSearchInclude(ref.value());
            }
            for (IncludeCatalog.Ref ref : IncludeCatalog.reversibleTo(type)) {
                resource.addSearchRevInclude(ref.value());
            }
            if (type.equals("Patient")) {
                resource.addOperation().setName("everything")
                        .setDefinition("http://hl7.org/fhir/OperationDefinition/Patient-everything")
                        .setDocumentation("The patient's compartment in the caller's scope; _since, _type, _count");
            }
            for (health.carapace.records.InstanceOperation operation : instanceOperations) {
                if (operation.resourceType().equals(type)) {
                    String name = operation.name().substring(1);
                    resource.addOperation().setName(name).setDefinition(OPERATION_BASE + name);
                }
            }
        }
        CapabilityStatementRestResourceComponent auditEvents = rest.addResource().setType("AuditEvent")
                .setDocumentation("The audit trail (IHE BALP); searching needs the view:audit permission");
        auditEvents.addInteraction().setCode(TypeRestfulInteraction.SEARCHTYPE);
        auditEvents.setConditionalCreate(false).setUpdateCreate(false);
        auditEvents.addSearchParam().setName("patient").setType(SearchParamType.REFERENCE);
        auditEvents.addSearchParam().setName("agent").setType(SearchParamType.TOKEN).setDocumentation("The user or client id");
        auditEvents.addSearchParam().setName("date").setType(SearchParamType.DATE);
        auditEvents.addSearchParam().setName("action").setType(SearchParamType.TOKEN).setDocumentation("C, R, U, D or E");
        auditEvents.addSearchParam().setName("outcome").setType(SearchParamType.TOKEN).setDocumentation("0 or 4");
        return cs;
    }

    private static void addParam(CapabilityStatementRestResourceComponent resource, Param param) {
        resource.addSearchParam()
                .setName(param.name())
                .setType(switch (param.kind()) {
                    case TOKEN -> SearchParamType.TOKEN;
                    case STRING -> SearchParamType.STRING;
                    case DATE -> SearchParamType.DATE;
                    case REFERENCE -> SearchParamType.REFERENCE;
                })
                .setDocumentation(param.documentation());
    }

    private static String version() {
        String version = CapabilityStatementProvider.class.getPackage().getImplementationVersion();
        return version == null ? "development" : version;
    }
}
