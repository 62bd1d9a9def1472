package health.carapace.records.internal;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditUnavailableException;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Resource;

/**
 * Audits every response that carries PHI (history, search and its pages; reads audit themselves
 * in {@link RecordReads}, with the decided row's compartment) just
 * before it is written, and waits for the events to be durable. If they cannot be, the response
 * is replaced by a 503: no PHI leaves without its audit record. Writes are audited inside their
 * own transaction instead (see {@link ResourceProvider}, {@link BundleProcessor}).
 */
@Interceptor
final class ReadAudit {

    private final RecordAudit audit;

    ReadAudit(RecordAudit audit) {
        this.audit = audit;
    }

    @Hook(value = Pointcut.SERVER_OUTGOING_RESPONSE, order = InterceptorOrder.READ_AUDIT)
    public boolean beforeResponse(RequestDetails request, IBaseResource response, HttpServletRequest servletRequest) {
        RestOperationTypeEnum operation = request.getRestOperationType();
        if (operation == null) {
            return true;
        }
        List<AuditEvent> events = new ArrayList<>();
        String path = servletRequest.getRequestURI();
        switch (operation) {
            case HISTORY_INSTANCE, HISTORY_TYPE, HISTORY_SYSTEM -> patientsIn(response)
                    .forEach(patient -> events.add(audit.event(AuditAction.VIEWED, path, patient, null)));
            case EXTENDED_OPERATION_INSTANCE -> {
                if (!PatientEverything.OPERATION.equals(request.getOperation())) {
                    return true;
                }
                patientsIn(response).forEach(patient -> events.add(audit.event(AuditAction.VIEWED, path, patient, null)));
            }
            case SEARCH_TYPE, SEARCH_SYSTEM, GET_PAGE -> {
                if (operation != RestOperationTypeEnum.GET_PAGE) {
                    events.add(audit.event(AuditAction.SEARCHED, path, null, query(request)));
                }
                patientsIn(response).forEach(patient -> events.add(audit.event(AuditAction.VIEWED, path, patient, null)));
            }
            default -> {
                return true;
            }
        }
        try {
            audit.trail().record(events);
        } catch (AuditUnavailableException e) {
            throw new SafeFhirException(503, IssueType.TRANSIENT,
                    "The audit trail is unavailable, so no record can be returned; try again later");
        }
        return true;
    }

    /**
     * The search as HAPI parsed it, re-encoded as a query string: the same for {@code GET ?a=b}
     * and a form-encoded {@code POST _search}, whose parameters never appear in the URL.
     */
    static String query(RequestDetails request) {
        StringBuilder query = new StringBuilder();
        new java.util.TreeMap<>(request.getParameters()).forEach((name, values) -> {
            for (String value : values) {
                if (!query.isEmpty()) {
                    query.append('&');
                }
                query.append(java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8)).append('=')
                        .append(java.net.URLEncoder.encode(value, java.nio.charset.StandardCharsets.UTF_8));
            }
        });
        return query.toString();
    }

    private static Set<String> patientsIn(IBaseResource response) {
        Set<String> patients = new LinkedHashSet<>();
        if (response instanceof Bundle bundle) {
            for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
                RecordAudit.patientOf(entry.getResource()).ifPresent(patients::add);
            }
            if (patients.isEmpty() && !bundle.getEntry().isEmpty()) {
                patients.add(null); // records outside any patient compartment were returned
            }
        }
        return patients;
    }
}
