package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.api.QualifiedParamList;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.param.DateRangeParam;
import ca.uhn.fhir.rest.server.IResourceProvider;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditQueries;
import health.carapace.audit.AuditQueries.StoredEvent;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;
import health.carapace.access.AccessPolicy;
import health.carapace.access.Callers;
import health.carapace.access.ClientAddress;
import health.carapace.access.Permissions;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;

/**
 * {@code GET /fhir/AuditEvent}: the audit trail as FHIR AuditEvents following the IHE Basic
 * Audit Log Patterns (BALP): PatientRead, PatientQuery (with the decrypted query),
 * PatientCreate/Update/Delete. Only holders of {@code view:audit} may search; the search itself
 * is audited like any other (ReadAudit).
 */
public final class AuditEventProvider implements IResourceProvider {

    private static final String BALP = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/";
    private static final String CARAPACE_EXT = "https://carapace.health/fhir/StructureDefinition/";
    private static final FhirContext FHIR = FhirContext.forR4Cached();

    private final AuditQueries queries;
    private final RecordAudit audit;
    private final AccessPolicy policy;
    private final ClientAddress clientAddress;
    private final java.time.Clock clock;

    AuditEventProvider(AuditQueries queries, RecordAudit audit, AccessPolicy policy, ClientAddress clientAddress,
            java.time.Clock clock) {
        this.clock = clock;
        this.queries = queries;
        this.audit = audit;
        this.policy = policy;
        this.clientAddress = clientAddress;
    }

    @Override
    public Class<? extends IBaseResource> getResourceType() {
        return AuditEvent.class;
    }

    /** The parameters this search understands, besides the result parameters HAPI handles. */
    private static final java.util.Set<String> PARAMETERS = java.util.Set.of(AuditEvent.SP_PATIENT, AuditEvent.SP_AGENT,
            AuditEvent.SP_DATE, AuditEvent.SP_ACTION, AuditEvent.SP_OUTCOME, "_count", "_format", "_pretty", "_summary", "_elements");

    /**
     * Takes the raw parameters and parses them here, after the access decision
     * ({@link AccessEnforcement}): bound by HAPI, a malformed date threw while binding (a 500),
     * and an unknown parameter failed the method match (a 400) before anyone decided whether the
     * caller may search the audit trail at all. Each malformed value is a 400 naming the parameter.
     */
    @Search(allowUnknownParams = true)
    public List<AuditEvent> search(RequestDetails details, jakarta.servlet.http.HttpServletRequest request) {
        requireViewAudit(request);
        Map<String, String[]> parameters = details.getParameters();
        for (String name : parameters.keySet()) {
            if (!PARAMETERS.contains(name)) {
                throw SafeFhirException.badRequest("AuditEvent search supports the parameters patient, agent, date, "
                        + "action and outcome only");
            }
        }
        String patient = single(parameters, AuditEvent.SP_PATIENT);
        String patientRef = patient == null ? null : patientReference(patient);
        String agent = code(single(parameters, AuditEvent.SP_AGENT));
        String action = code(single(parameters, AuditEvent.SP_ACTION));
        List<String> actions = action == null ? null : actionsFor(action);
        String outcome = code(single(parameters, AuditEvent.SP_OUTCOME));
        Boolean success = outcome == null ? null : "0".equals(outcome);
        DateRangeParam date = dates(parameters.get(AuditEvent.SP_DATE));
        var criteria = new AuditQueries.Criteria(patientRef, agent,
                date == null || date.getLowerBoundAsInstant() == null ? null : date.getLowerBoundAsInstant().toInstant(),
                date == null || date.getUpperBoundAsInstant() == null ? null
                        : date.getUpperBoundAsInstant().toInstant().plusMillis(1),
                actions, success, 1000);
        return queries.search(criteria).stream().map(AuditEventProvider::toFhir).toList();
    }

    private static String single(Map<String, String[]> parameters, String name) {
        String[] values = parameters.get(name);
        if (values == null) {
            return null;
        }
        if (values.length != 1 || values[0].isEmpty() || values[0].contains(",")) {
            throw SafeFhirException.badRequest("AuditEvent search parameter " + name + " takes exactly one value");
        }
        return values[0];
    }

    /** The code of a token ({@code [system]|code}), as HAPI's TokenParam read it. */
    private static String code(String token) {
        return token == null ? null : token.substring(token.lastIndexOf('|') + 1);
    }

    private static String patientReference(String value) {
        String id = value.startsWith("Patient/") ? value.substring("Patient/".length()) : value;
        if (id.isEmpty() || id.contains("/")) {
            throw SafeFhirException.badRequest("AuditEvent search parameter patient must be Patient/[id]");
        }
        return "Patient/" + id;
    }

    /** One or two date values ({@code ge...&le...}) as a range; a malformed date is a 400. */
    private static DateRangeParam dates(String[] values) {
        if (values == null) {
            return null;
        }
        try {
            List<QualifiedParamList> lists = new java.util.ArrayList<>();
            for (String value : values) {
                lists.add(QualifiedParamList.splitQueryStringByCommasIgnoreEscape(null, value));
            }
            DateRangeParam range = new DateRangeParam();
            range.setValuesAsQueryTokens(FHIR, AuditEvent.SP_DATE, lists);
            range.getLowerBoundAsInstant();
            range.getUpperBoundAsInstant();
            return range;
        } catch (DataFormatException | IllegalArgumentException | ca.uhn.fhir.rest.server.exceptions.InvalidRequestException e) {
            throw SafeFhirException.badRequest("AuditEvent search parameter date must be a FHIR date or dateTime, "
                    + "optionally with a prefix such as ge or le");
        }
    }

    /** A second check behind the access policy's (AccessEnforcement decides view:audit first). */
    private void requireViewAudit(jakarta.servlet.http.HttpServletRequest request) {
        // view:audit granted by a role of the caller, with that role's time window and IP range.
        boolean allowed = Callers.of(request).map(caller -> policy.grants(caller, Permissions.VIEW_AUDIT,
                clientAddress.resolve(request), clock.instant())).orElse(false);
        if (!allowed) {
            audit.trail().record(List.of(health.carapace.audit.AuditEvent.now(RecordAudit.user(), AuditAction.DENIED,
                    request.getRequestURI(), RecordAudit.context(), false, null, RecordAudit.purposeOfUse(),
                    health.carapace.platform.logging.RequestIds.current())));
            throw new SafeFhirException(403, IssueType.FORBIDDEN, "Reading the audit trail needs the view:audit permission");
        }
    }

    /** FHIR AuditEvent.action codes (C R U D E) to Carapace actions. */
    private static List<String> actionsFor(String code) {
        return switch (code) {
            case "C" -> List.of("created");
            case "R" -> List.of("viewed");
            case "U" -> List.of("modified");
            case "D" -> List.of("deleted");
            case "E" -> List.of("searched", "denied", "login", "login_failed", "admin_change", "exported", "break_glass");
            default -> throw SafeFhirException.badRequest("AuditEvent action must be one of C, R, U, D, E");
        };
    }

    static AuditEvent toFhir(StoredEvent e) {
        AuditEvent fhir = new AuditEvent();
        fhir.setId(e.id().toString());
        fhir.setRecorded(Date.from(e.timestamp()));
        fhir.getType().setSystem("http://terminology.hl7.org/CodeSystem/audit-event-type").setCode("rest")
                .setDisplay("Restful Operation");
        String interaction = switch (e.action()) {
            case "viewed" -> "read";
            case "searched" -> "search-type";
            case "created" -> "create";
            case "modified" -> "update";
            case "deleted" -> "delete";
            default -> null;
        };
        if (interaction != null) {
            fhir.addSubtype(new Coding("http://hl7.org/fhir/restful-interaction", interaction, null));
        }
        fhir.addSubtype(new Coding(CARAPACE_EXT + "action", e.action(), null));
        fhir.setAction(switch (e.action()) {
            case "created" -> AuditEventAction.C;
            case "viewed" -> AuditEventAction.R;
            case "modified" -> AuditEventAction.U;
            case "deleted" -> AuditEventAction.D;
            default -> AuditEventAction.E;
        });
        fhir.setOutcome(e.success() ? AuditEventOutcome._0 : AuditEventOutcome._4);
        if (e.reason() != null) {
            fhir.setOutcomeDesc(e.reason()); // the policy's refusal code, never free text
        }
        if (e.breakGlass()) {
            // flagged for review: the access was allowed only by emergency access (HL7 "break the glass")
            fhir.addPurposeOfEvent().addCoding(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "BTG",
                    "break the glass"));
        }
        String profile = switch (e.action()) {
            case "viewed" -> e.patient() != null ? "IHE.BasicAudit.PatientRead" : "IHE.BasicAudit.Read";
            case "searched" -> "IHE.BasicAudit.Query";
            case "created" -> e.patient() != null ? "IHE.BasicAudit.PatientCreate" : "IHE.BasicAudit.Create";
            case "modified" -> e.patient() != null ? "IHE.BasicAudit.PatientUpdate" : "IHE.BasicAudit.Update";
            case "deleted" -> e.patient() != null ? "IHE.BasicAudit.PatientDelete" : "IHE.BasicAudit.Delete";
            default -> null;
        };
        if (profile != null) {
            fhir.getMeta().addProfile(BALP + profile);
        }
        var agent = fhir.addAgent().setRequestor(true);
        agent.getType().addCoding(new Coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP",
                "information recipient"));
        agent.setWho(new Reference().setIdentifier(new Identifier().setValue(e.user())));
        if (e.context().ip() != null) {
            agent.getNetwork().setAddress(e.context().ip()).setType(e.context().ip().contains(":")
                    ? AuditEvent.AuditEventAgentNetworkType._2 : AuditEvent.AuditEventAgentNetworkType._2);
        }
        if (e.context().deviceId() != null) {
            agent.addExtension(CARAPACE_EXT + "device-id", new StringType(e.context().deviceId()));
        }
        if (e.context().location() != null) {
            agent.addExtension(CARAPACE_EXT + "geo-location", new StringType(e.context().location()));
        }
        if (e.context().app() != null) {
            // The app that acted (BALP: the application agent), by its client id.
            fhir.addAgent().setRequestor(false).setWho(new Reference().setIdentifier(new Identifier()
                    .setSystem("https://carapace.health/fhir/sid/client-id").setValue(e.context().app())))
                    .getType().addCoding(new Coding("http://dicom.nema.org/resources/ontology/DCM", "110150",
                            "Application"));
        }
        if (e.purposeOfUse() != null) {
            fhir.addPurposeOfEvent().addCoding(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason",
                    e.purposeOfUse(), null));
        }
        fhir.getSource().setSite("Carapace").setObserver(new Reference().setDisplay("Carapace FHIR server"))
                .addType(new Coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4",
                        "Application Server"));
        if (e.patient() != null) {
            fhir.addEntity().setWhat(new Reference(e.patient()))
                    .setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person"))
                    .setRole(new Coding("http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient"));
        }
        var target = fhir.addEntity().setWhat(new Reference().setDisplay(e.resource()))
                .setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object"));
        if (e.query() != null) {
            target.setQuery(e.query().getBytes(StandardCharsets.UTF_8))
                    .setRole(new Coding("http://terminology.hl7.org/CodeSystem/object-role", "24", "Query"));
        }
        if (e.requestId() != null) {
            fhir.addEntity().setWhat(new Reference().setIdentifier(new Identifier()
                    .setSystem(CARAPACE_EXT + "request-id").setValue(e.requestId())));
        }
        return fhir;
    }
}
