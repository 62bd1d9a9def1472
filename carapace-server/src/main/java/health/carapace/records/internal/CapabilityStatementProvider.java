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
 * {@code GET /fhir/metadata}, built from the same tables that drive the server, and saying
 * plainly what is not supported (conditional operations, update-as-create, includes, sorting).
 */
public final class CapabilityStatementProvider {

    private final Date published = new Date();
    private final java.util.function.Supplier<String> publicBaseUrl;

    /**
     * @param publicBaseUrl the configured public base URL: the OAuth endpoints an app is told to
     *        use must not follow a Host header the request chose (review F10)
     */
    public CapabilityStatementProvider(java.util.function.Supplier<String> publicBaseUrl) {
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
        uris.addExtension("revoke", new org.hl7.fhir.r4.model.UriType(base + "/oauth2/revoke"));
        uris.addExtension("introspect", new org.hl7.fhir.r4.model.UriType(base + "/oauth2/introspect"));
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
        CapabilityStatementRestComponent rest = cs.addRest().setMode(RestfulCapabilityMode.SERVER);
        rest.getSecurity().setCors(false)
                .setDescription("OAuth2 client credentials: POST /oauth2/token; send 'Authorization: Bearer <token>'. "
                        + "Access tokens expire within 15 minutes.")
                .addService(new CodeableConcept().addCoding(new org.hl7.fhir.r4.model.Coding(
                        "http://terminology.hl7.org/CodeSystem/restful-security-service", "OAuth", "OAuth")));
        smartOnFhir(rest.getSecurity());
        rest.addInteraction().setCode(SystemRestfulInteraction.TRANSACTION);
        rest.addInteraction().setCode(SystemRestfulInteraction.BATCH);
        for (String type : ResourceTypes.names()) {
            CapabilityStatementRestResourceComponent resource = rest.addResource().setType(type);
            for (TypeRestfulInteraction interaction : new TypeRestfulInteraction[] {
                    TypeRestfulInteraction.READ, TypeRestfulInteraction.VREAD, TypeRestfulInteraction.UPDATE,
                    TypeRestfulInteraction.DELETE, TypeRestfulInteraction.HISTORYINSTANCE,
                    TypeRestfulInteraction.CREATE, TypeRestfulInteraction.SEARCHTYPE}) {
                resource.addInteraction().setCode(interaction);
            }
            resource.setVersioning(ResourceVersionPolicy.VERSIONEDUPDATE)
                    .setReadHistory(true)
                    .setUpdateCreate(false)
                    .setConditionalCreate(false)
                    .setConditionalRead(CapabilityStatement.ConditionalReadStatus.NOTSUPPORTED)
                    .setConditionalUpdate(false)
                    .setConditionalDelete(CapabilityStatement.ConditionalDeleteStatus.NOTSUPPORTED);
            for (Param param : SearchCatalog.COMMON) {
                addParam(resource, param);
            }
            for (Param param : SearchCatalog.forType(type).values()) {
                addParam(resource, param);
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
