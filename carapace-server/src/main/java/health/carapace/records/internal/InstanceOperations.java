package health.carapace.records.internal;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.records.InstanceOperation;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Serves the {@link InstanceOperation}s of other modules at {@code POST /fhir/{type}/{id}/{name}}.
 * HAPI's wildcard operation name ({@code $*}) routes every instance-level operation here; one that
 * no module serves is answered as before, by {@link UnsupportedInteractions}. The caller was
 * decided by {@link AccessEnforcement} (a read of the record) before this runs.
 */
final class InstanceOperations {

    private final Map<String, InstanceOperation> byKey;
    private final RecordStore store;
    private final RecordReads reads;
    private final RecordAudit audit;
    private final TransactionTemplate transactions;
    private final UnsupportedInteractions unsupported;

    InstanceOperations(List<InstanceOperation> operations, RecordStore store, RecordReads reads, RecordAudit audit,
            TransactionTemplate transactions, UnsupportedInteractions unsupported) {
        this.reads = reads;
        for (InstanceOperation operation : operations) {
            if (!ResourceTypes.names().contains(operation.resourceType()) || !operation.name().matches("\\$[a-z][a-z-]{0,62}")) {
                throw new IllegalStateException("an instance operation must name a served type and $lower-case-name");
            }
        }
        this.byKey = operations.stream().collect(Collectors.toUnmodifiableMap(
                operation -> key(operation.resourceType(), operation.name()), Function.identity()));
        this.store = store;
        this.audit = audit;
        this.transactions = transactions;
        this.unsupported = unsupported;
    }

    /** Whether some module serves this operation on this type ({@link AccessEnforcement} decides those as reads). */
    boolean serves(String type, String operation) {
        return type != null && operation != null && byKey.containsKey(key(type, operation));
    }

    // idempotent: a GET reaches this method too, and is answered as unsupported like any other
    @Operation(name = Operation.NAME_MATCH_ALL, global = true, idempotent = true)
    public Parameters invoke(@IdParam IIdType id, RequestDetails request) {
        String type = request.getResourceName();
        InstanceOperation operation = type == null ? null : byKey.get(key(type, request.getOperation()));
        if (operation == null) {
            throw unsupported.refuse(request);
        }
        if (!"POST".equals(request.getRequestType().name())) {
            // decided first, like any request on the type, then the method is named as not allowed
            unsupported.refuse(request);
            throw UnsupportedInteractions.methodNotAllowed(request.getRequestType().name(), List.of("POST"));
        }
        UUID uuid = Ids.parse(id.getIdPart()).orElseThrow(SafeFhirException::notFound);
        // the record as a read loads it: one row, decided on its own compartment, then decrypted
        RecordReads.Decided decided = reads.decide(type, Optional.of(uuid), false, java.util.OptionalLong.empty());
        Resource resource = store.open(decided.row());
        Optional<String> patient = Optional.ofNullable(decided.patient());
        String path = "/fhir/" + type + "/" + uuid + "/" + operation.name();
        try {
            // the operation sees the decrypted record: a view of it, durable before anything answers
            audit.trail().record(List.of(audit.viewed(path, patient.orElse(null), decided.breakGlass())));
        } catch (AuditUnavailableException e) {
            throw new SafeFhirException(503, IssueType.TRANSIENT,
                    "The audit trail is unavailable, so the operation cannot run; try again later");
        }
        Caller caller = Callers.of(RecordGuard.request()).orElseThrow(() -> RecordGuard.forbidden("no-caller"));
        InstanceOperation.Target target = new InstanceOperation.Target() {
            @Override
            public Resource resource() {
                return resource;
            }

            @Override
            public String patient() {
                return patient.orElse(null);
            }

            @Override
            public Caller caller() {
                return caller;
            }

            @Override
            public Resource create(Resource record) {
                return transactions.execute(status -> {
                    RecordStore.Written written = store.create(record, null);
                    Resource stored = written.resource();
                    audit.changed(AuditAction.CREATED, stored.fhirType(), stored.getIdElement().getIdPart(),
                            Optional.ofNullable(written.patient()));
                    return stored;
                });
            }
        };
        try {
            return operation.invoke(target);
        } catch (InstanceOperation.Refused refused) {
            throw new SafeFhirException(refused.status(), refused.status() == 403 ? IssueType.FORBIDDEN
                    : refused.status() == 409 ? IssueType.CONFLICT : IssueType.INVALID, refused.getMessage());
        }
    }

    private static String key(String type, String operation) {
        return type + "/" + operation;
    }
}
