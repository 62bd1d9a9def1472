package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.RestfulServerUtils;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import health.carapace.access.AccessDecision;
import health.carapace.access.Interaction;
import health.carapace.audit.AuditUnavailableException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import ca.uhn.fhir.util.DateUtils;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Resource;

/**
 * Read and vread in one pass: the version's row is loaded once, the access decision is taken on
 * its metadata (compartment, category) before anything is decrypted, the audit event names the
 * row's own compartment and is durable before anything is sent, and the response is the stored
 * JSON as it is unless something must change: SSNs masked for a caller without {@code view:ssn}
 * when the record holds one, or another format, {@code _summary}, {@code _elements} or pretty
 * printing asked for, which HAPI's own encoder then writes. Nothing of the decision travels in
 * request state: the decrypted row is the decided one.
 */
final class RecordReads {

    private final FhirContext fhir;
    private final RecordStore store;
    private final RecordGuard guard;
    private final RecordAudit audit;

    RecordReads(FhirContext fhir, RecordStore store, RecordGuard guard, RecordAudit audit) {
        this.fhir = fhir;
        this.store = store;
        this.guard = guard;
        this.audit = audit;
    }

    /** A version the caller may receive, and whether only emergency access let them. */
    record Decided(RecordStore.Row row, boolean breakGlass) {

        /** The patient whose record this is, or null for a record outside every patient compartment. */
        String patient() {
            return RecordGuard.patient(row.compartment());
        }
    }

    /**
     * Loads the version named ({@code version} empty: the current one) and decides it: 404 when
     * there is none (after deciding on the type alone, so a caller who may not read the type
     * learns nothing), 403 when the caller may not read it, 410 when it was deleted or shredded.
     *
     * @param versioned whether a version was named; {@code version} is then empty if it names none
     */
    Decided decide(String type, Optional<UUID> id, boolean versioned, OptionalLong version) {
        Interaction interaction = versioned ? Interaction.VREAD : Interaction.READ;
        String path = "/fhir/" + type + id.map(u -> "/" + u).orElse("");
        Optional<RecordStore.Loaded> loaded = versioned && version.isEmpty() ? Optional.empty()
                : id.flatMap(u -> store.load(type, u, versioned ? version.getAsLong() : null));
        if (loaded.isEmpty()) {
            guard.scope(interaction, type, null, path);
            throw SafeFhirException.notFound();
        }
        RecordStore.Row row = loaded.get().row();
        AccessDecision decision = guard.decide(interaction, type, row.compartment(), loaded.get().category(), path);
        if (row.shredded()) {
            throw SafeFhirException.shredded();
        }
        if (row.deleted()) {
            throw SafeFhirException.gone();
        }
        return new Decided(row, decision.breakGlass());
    }

    /**
     * Serves a read or vread request completely (HAPI's provider method is not called) and
     * returns false, which tells HAPI the response was written.
     */
    boolean serve(RequestDetails request, boolean versioned) {
        IIdType id = request.getId();
        Optional<UUID> uuid = id == null ? Optional.empty() : Ids.parse(id.getIdPart());
        boolean named = versioned && id != null && id.hasVersionIdPart();
        Decided decided = decide(request.getResourceName(), uuid, named,
                named ? Ids.version(id.getVersionIdPart()) : OptionalLong.empty());
        if (unchangedFor(request, decided.row())) {
            // as HAPI answers a read whose If-None-Match names the version: nothing sent, nothing decrypted
            throw new ca.uhn.fhir.rest.server.exceptions.NotModifiedException("Not Modified");
        }
        StoredJson stored = store.plaintext(decided.row());
        boolean mask = stored.ssn() != StoredJson.Ssn.ABSENT && !guard.maySeeSsn();
        try {
            audit.trail().record(List.of(audit.viewed(((ServletRequestDetails) request).getServletRequest().getRequestURI(),
                    decided.patient(), decided.breakGlass())));
        } catch (AuditUnavailableException e) {
            throw new SafeFhirException(503, IssueType.TRANSIENT,
                    "The audit trail is unavailable, so no record can be returned; try again later");
        }
        try {
            if (!mask && asStored(request)) {
                RecordStore.Row row = decided.row();
                sendStored(request, Constants.STATUS_HTTP_200_OK, row.type(), row.id().toString(), row.version(),
                        java.util.Date.from(row.lastUpdated()), stored.json(), false);
            } else {
                Resource resource = store.parse(stored);
                if (mask) {
                    SsnMasking.maskAll(fhir, resource);
                }
                RestfulServerUtils.streamResponseAsResource(request.getServer(), resource,
                        RestfulServerUtils.determineSummaryMode(request), Constants.STATUS_HTTP_200_OK, true,
                        request.isRespondGzip(), request);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return false;
    }

    /** Whether {@code If-None-Match} names this version ({@code W/"3"} or {@code "3"}, as HAPI reads it). */
    private static boolean unchangedFor(RequestDetails request, RecordStore.Row row) {
        String ifNoneMatch = request.getHeader(Constants.HEADER_IF_NONE_MATCH_LC);
        if (ifNoneMatch == null) {
            return false;
        }
        String tag = ifNoneMatch.strip();
        if (tag.startsWith("W/")) {
            tag = tag.substring(2);
        }
        if (tag.length() >= 2 && tag.startsWith("\"") && tag.endsWith("\"")) {
            tag = tag.substring(1, tag.length() - 1);
        }
        return tag.equals(Long.toString(row.version()));
    }

    /** Whether the stored JSON is the answer as asked: JSON, not pretty, no parameter shaping it. */
    static boolean asStored(RequestDetails request) {
        return request.getParameters().isEmpty() && compactJson(request);
    }

    /** Whether the answer asked for is JSON, not pretty printed. */
    static boolean compactJson(RequestDetails request) {
        var encoding = RestfulServerUtils.determineResponseEncodingWithDefault(request);
        return encoding != null && encoding.getEncoding() == EncodingEnum.JSON
                && !RestfulServerUtils.prettyPrintResponse(request.getServer(), request);
    }

    /**
     * The stored bytes with the headers HAPI writes for a read (and, with {@code location}, for a
     * create): content type, ETag, Content-Location and Last-Modified of the version.
     */
    static void sendStored(RequestDetails request, int status, String type, String id, long version,
            java.util.Date lastUpdated, byte[] json, boolean location) throws IOException {
        HttpServletResponse response = ((ServletRequestDetails) request).getServletResponse();
        var encoding = RestfulServerUtils.determineResponseEncodingWithDefault(request);
        String versionUrl = request.getFhirServerBase() + "/" + type + "/" + id + "/" + Constants.PARAM_HISTORY + "/" + version;
        response.setStatus(status);
        response.setContentType(encoding.getResourceContentType());
        response.setCharacterEncoding(Constants.CHARSET_NAME_UTF8);
        response.setHeader(Constants.HEADER_ETAG, "W/\"" + version + "\"");
        response.setHeader(Constants.HEADER_CONTENT_LOCATION, versionUrl);
        if (location) {
            response.setHeader(Constants.HEADER_LOCATION, versionUrl);
        }
        response.setHeader(Constants.HEADER_LAST_MODIFIED, httpDate(lastUpdated));
        response.setContentLength(json.length);
        response.getOutputStream().write(json);
    }

    /** HAPI's {@code DateUtils.formatDate} (RFC 1123, GMT), the same text, without its per-call zone-name lookups. */
    private static final java.time.format.DateTimeFormatter HTTP_DATE = java.time.format.DateTimeFormatter
            .ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.US).withZone(java.time.ZoneOffset.UTC);

    /**
     * Last-Modified as HAPI writes it. HAPI's {@code SimpleDateFormat} with a zone-name pattern looked
     * the zone's display names up on every call: 1.5% of a read's request-thread CPU (issue 13).
     * Before 1900 (HAPI's calendar turns Julian in 1582) or after 9999 (a sign and no padding) they could differ: HAPI's then.
     */
    static String httpDate(java.util.Date lastUpdated) {
        java.time.Instant instant = lastUpdated.toInstant();
        int year = instant.atOffset(java.time.ZoneOffset.UTC).getYear();
        return year >= 1900 && year <= 9999 ? HTTP_DATE.format(instant) : DateUtils.formatDate(lastUpdated);
    }
}
