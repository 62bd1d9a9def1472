package health.carapace.records.internal;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import java.io.IOException;
import org.hl7.fhir.r4.model.Resource;

/**
 * A create or update answers with the resource as stored: the JSON that was serialised once for
 * encryption is sent as it is, instead of HAPI encoding the resource a second time, unless
 * something must change (SSNs to mask for a caller without {@code view:ssn}, another format,
 * pretty printing, shaping parameters, a {@code Prefer} header): then HAPI's encoder writes it,
 * after {@link SsnMasking}. The bytes travel with the resource they encode, as its user data.
 */
@Interceptor
final class StoredEcho {

    private static final String STORED = StoredEcho.class.getName() + ".stored";

    private final RecordGuard guard;

    StoredEcho(RecordGuard guard) {
        this.guard = guard;
    }

    /** The written resource, carrying the JSON it was stored as. */
    static Resource attach(RecordStore.Written written) {
        written.resource().setUserData(STORED, written.stored());
        return written.resource();
    }

    @Hook(value = Pointcut.SERVER_OUTGOING_RESPONSE, order = InterceptorOrder.STORED_ECHO)
    public boolean send(RequestDetails request, ResponseDetails response) throws IOException {
        RestOperationTypeEnum operation = request.getRestOperationType();
        if ((operation != RestOperationTypeEnum.CREATE && operation != RestOperationTypeEnum.UPDATE)
                || !(response.getResponseResource() instanceof Resource resource)
                || !(resource.getUserData(STORED) instanceof StoredJson stored)
                || request.getHeader(Constants.HEADER_PREFER) != null || !RecordReads.asStored(request)
                || (stored.ssn() != StoredJson.Ssn.ABSENT && !guard.maySeeSsn())) {
            return true;
        }
        boolean created = operation == RestOperationTypeEnum.CREATE;
        RecordReads.sendStored(request, created ? Constants.STATUS_HTTP_201_CREATED : Constants.STATUS_HTTP_200_OK,
                resource.fhirType(), resource.getIdElement().getIdPart(), Long.parseLong(resource.getMeta().getVersionId()),
                resource.getMeta().getLastUpdated(), stored.json(), created);
        return false;
    }
}
