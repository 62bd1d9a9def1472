package health.carapace.export.internal;

import health.carapace.platform.web.RequestFilter;
import health.carapace.records.RecordExport;
import com.google.crypto.tink.StreamingAead;
import com.nimbusds.jose.util.JSONObjectUtils;
import health.carapace.access.AppScope;
import health.carapace.access.Caller;
import health.carapace.access.Interaction;
import health.carapace.access.PatientScope;
import health.carapace.access.RecordAccess;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.platform.logging.RequestIds;
import health.carapace.access.Callers;
import health.carapace.access.ClientAddress;
import health.carapace.platform.web.OperationOutcomes;
import health.carapace.platform.web.PublicBaseUrl;
import health.carapace.records.RecordExport;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * The Bulk Data routes (docs/BULK.md): the kick-off under the FHIR base
 * ({@code GET /fhir/$export}, {@code GET /fhir/Patient/$export}; answered here, before the FHIR
 * servlet), the status of a job ({@code GET /export/jobs/{id}}: 202 with {@code Retry-After} while
 * it runs, 200 with the manifest when complete; {@code DELETE} cancels) and its files
 * ({@code GET /export/files/{id}/{name}}, decrypted as they stream). Only the service client that
 * started a job sees it; anyone else gets the same 404 as for a job that does not exist.
 */
final class ExportEndpoints extends RequestFilter {

    private static final Pattern KICK_OFF = Pattern.compile("/fhir/(?:(Patient)/|Group/([^/]{1,64})/)?\\$export");
    private static final Pattern JOB = Pattern.compile("/export/jobs/([0-9a-f-]{36})");
    private static final Pattern FILE = Pattern.compile("/export/files/([0-9a-f-]{36})/([A-Za-z0-9.-]{1,100})");
    private static final Set<String> PARAMETERS = Set.of("_outputFormat", "_type", "_since", "_typeFilter");
    private static final Set<String> FORMATS = Set.of("application/fhir+ndjson", "application/ndjson", "ndjson");

    /**
     * Exports one client may have queued or running at once: each holds a worker for as long as it
     * runs, so one client cannot starve the others' exports (nor fill the disk) by asking again.
     */
    static final int MAX_LIVE_JOBS_PER_CLIENT = 3;

    private final ExportJobs jobs;
    private final ExportKeys keys;
    private final ExportFiles files;
    private final ClientAddress addresses;
    private final PublicBaseUrl baseUrl;
    private final Clock clock;
    private final Set<String> exportableTypes;
    private final long retryAfterSeconds;
    private final RecordAccess access;
    private final AuditTrail audit;
    private final RecordExport records;

    ExportEndpoints(ExportJobs jobs, ExportKeys keys, ExportFiles files, ClientAddress addresses, PublicBaseUrl baseUrl,
            Clock clock, Set<String> exportableTypes, long retryAfterSeconds, RecordAccess access, AuditTrail audit,
            RecordExport records) {
        this.records = records;
        this.access = access;
        this.audit = audit;
        this.jobs = jobs;
        this.keys = keys;
        this.files = files;
        this.addresses = addresses;
        this.baseUrl = baseUrl;
        this.clock = clock;
        this.exportableTypes = exportableTypes;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = request.getRequestURI();
        // every kick-off path ends in $export: the pattern runs on those alone, not on every request
        return !(path.endsWith("$export") && KICK_OFF.matcher(path).matches()) && !path.startsWith("/export/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String path = request.getRequestURI();
        Optional<Caller> caller = Callers.of(request);
        if (caller.isEmpty()) {
            OperationOutcomes.write(response, 401, IssueType.LOGIN, "A bearer token is required");
            return;
        }
        Matcher kickOff = KICK_OFF.matcher(path);
        Matcher job = JOB.matcher(path);
        Matcher file = FILE.matcher(path);
        if (kickOff.matches() && "GET".equals(request.getMethod())) {
            kickOff(request, response, caller.get(), kickOff.group(1) != null ? "patient"
                    : kickOff.group(2) != null ? "group" : "system", kickOff.group(2));
        } else if (job.matches() && "GET".equals(request.getMethod())) {
            status(request, response, caller.get(), UUID.fromString(job.group(1)));
        } else if (job.matches() && "DELETE".equals(request.getMethod())) {
            cancel(response, caller.get(), UUID.fromString(job.group(1)));
        } else if (file.matches() && "GET".equals(request.getMethod())) {
            download(request, response, caller.get(), UUID.fromString(file.group(1)), file.group(2));
        } else if (kickOff.matches() || job.matches() || file.matches()) {
            OperationOutcomes.write(response, 405, IssueType.NOTSUPPORTED, "Method not allowed here");
        } else {
            OperationOutcomes.write(response, 404, IssueType.NOTFOUND, "Not found");
        }
    }

    private void kickOff(HttpServletRequest request, HttpServletResponse response, Caller caller, String level,
            String groupId) throws IOException {
        if (caller.kind() != Caller.Kind.SERVICE_CLIENT) {
            OperationOutcomes.write(response, 403, IssueType.FORBIDDEN,
                    "Access denied: bulk export is for backend services (docs/BULK.md)");
            return;
        }
        if (files == null) {
            OperationOutcomes.write(response, 503, IssueType.TRANSIENT, "Bulk export is not configured on this server");
            return;
        }
        String prefer = request.getHeader("Prefer");
        if (prefer == null || !prefer.toLowerCase(Locale.ROOT).contains("respond-async")) {
            OperationOutcomes.write(response, 400, IssueType.INVALID, "Send 'Prefer: respond-async'");
            return;
        }
        Map<String, String[]> parameters = request.getParameterMap();
        for (var entry : parameters.entrySet()) {
            if (!PARAMETERS.contains(entry.getKey())
                    || (entry.getValue().length != 1 && !entry.getKey().equals("_typeFilter"))) {
                OperationOutcomes.write(response, 400, IssueType.NOTSUPPORTED,
                        "Supported parameters: _outputFormat, _type, _since (once each) and _typeFilter");
                return;
            }
        }
        String format = request.getParameter("_outputFormat");
        if (format != null && !FORMATS.contains(format)) {
            OperationOutcomes.write(response, 400, IssueType.NOTSUPPORTED, "_outputFormat must be application/fhir+ndjson");
            return;
        }
        List<String> types = new ArrayList<>();
        String typeList = request.getParameter("_type");
        if (typeList != null) {
            for (String type : typeList.split(",", -1)) {
                if (!exportableTypes.contains(type.strip())) {
                    OperationOutcomes.write(response, 400, IssueType.NOTSUPPORTED,
                            "_type names a type this server does not export");
                    return;
                }
                types.add(type.strip());
            }
        }
        Instant since = null;
        if (request.getParameter("_since") != null) {
            try {
                since = java.time.OffsetDateTime.parse(request.getParameter("_since")).toInstant();
            } catch (DateTimeParseException malformed) {
                OperationOutcomes.write(response, 400, IssueType.INVALID, "_since must be a FHIR instant with a time zone");
                return;
            }
        }
        // decided now, like every later poll: a client that may read none of the types gets no job
        List<String> requested = types.isEmpty() ? List.copyOf(exportableTypes) : types;
        List<RecordExport.TypeFilter> filters = List.of();
        if (parameters.containsKey("_typeFilter")) {
            // the search's own criteria, or refused now (ADR 0027); no message repeats a value
            try {
                filters = TypeFilters.parse(parameters.get("_typeFilter"), requested);
            } catch (TypeFilters.Refused refused) {
                OperationOutcomes.write(response, 400, IssueType.NOTSUPPORTED, refused.getMessage());
                return;
            }
            for (RecordExport.TypeFilter filter : filters) {
                Optional<String> refusal = records.refusal(filter);
                if (refusal.isPresent()) {
                    OperationOutcomes.write(response, 400, IssueType.NOTSUPPORTED, refusal.get());
                    return;
                }
            }
        }
        if (!allowedNow(request, response, caller, requested, request.getRequestURI())) {
            return;
        }
        UUID group = null;
        List<AuditEvent> groupRead = List.of();
        if (groupId != null) {
            Optional<UUID> found = exportableGroup(request, response, caller, groupId);
            if (found.isEmpty()) {
                return;
            }
            group = found.get();
            groupRead = List.of(new AuditEvent(UUID.randomUUID(), clock.instant(), caller.principal(), AuditAction.VIEWED,
                    "/fhir/Group/" + group, AuditContext.of(request), true, null, null, RequestIds.current(), false, null));
        }
        if (jobs.live(caller.principal()) >= MAX_LIVE_JOBS_PER_CLIENT) {
            OperationOutcomes.write(response, 429, IssueType.THROTTLED,
                    "Too many exports of this client are queued or running; wait for one to finish");
            return;
        }
        UUID id = UUID.randomUUID();
        byte[] wrapped;
        byte[] sealedFilters;
        try {
            wrapped = keys.newWrappedKey(id);
            sealedFilters = TypeFilters.seal(keys.open(id, wrapped), id, filters);
        } catch (java.security.GeneralSecurityException e) {
            OperationOutcomes.write(response, 503, IssueType.TRANSIENT, "The export key could not be made; try again later");
            return;
        }
        List<String> appScope = caller.appScope().narrows() ? List.copyOf(caller.appScope().spelled()) : null;
        jobs.create(id, caller.principal(), appScope, addresses.resolve(request).getHostAddress(), level, group, types,
                since, sealedFilters, baseUrl.value() + request.getRequestURI(), wrapped, keys.kekId(), clock.instant());
        try {
            List<AuditEvent> events = new ArrayList<>(groupRead);
            events.add(new AuditEvent(UUID.randomUUID(), clock.instant(), caller.principal(),
                    AuditAction.CREATED, "/export/jobs/" + id, AuditContext.of(request), true, null, null,
                    RequestIds.current(), false, null));
            audit.record(events);
        } catch (AuditUnavailableException e) {
            jobs.cancel(id); // fail closed: no unaudited export runs
            OperationOutcomes.write(response, 503, IssueType.TRANSIENT, "The export could not be audited; try again later");
            return;
        }
        response.setStatus(202);
        response.setHeader("Content-Location", baseUrl.value() + "/export/jobs/" + id);
        response.setContentType("application/fhir+json");
        response.getWriter().write("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"information\","
                + "\"code\":\"informational\",\"diagnostics\":\"Export accepted; poll the Content-Location\"}]}");
    }

    /**
     * The Group a Group-level kick-off names, if the client may read groups (decided before the
     * group is looked up: a refusal confirms nothing), it exists, and it lists its members
     * ({@code actual}); answers 403 (audited), 404 or 400 otherwise.
     */
    private Optional<UUID> exportableGroup(HttpServletRequest request, HttpServletResponse response, Caller caller,
            String groupId) throws IOException {
        Optional<UUID> id;
        try {
            id = Optional.of(UUID.fromString(groupId)).filter(uuid -> uuid.toString().equals(groupId));
        } catch (IllegalArgumentException notAnId) {
            id = Optional.empty();
        }
        RecordExport.GroupLookup lookup = records.group(caller, addresses.resolve(request), clock.instant(),
                id.orElse(new UUID(0, 0)));
        if (lookup instanceof RecordExport.GroupLookup.Refused refused) {
            try {
                audit.record(List.of(new AuditEvent(UUID.randomUUID(), clock.instant(), caller.principal(),
                        AuditAction.DENIED, "/fhir/Group/$export", AuditContext.of(request), false, null, null,
                        RequestIds.current(), false, null, refused.reason())));
            } catch (AuditUnavailableException e) {
                // the refusal carries no record data, so it is still sent
            }
            OperationOutcomes.write(response, 403, IssueType.FORBIDDEN, "Access denied: " + refused.reason());
            return Optional.empty();
        }
        if (id.isEmpty() || !(lookup instanceof RecordExport.GroupLookup.Found found)) {
            OperationOutcomes.write(response, 404, IssueType.NOTFOUND, "No such Group");
            return Optional.empty();
        }
        if (!found.actual()) {
            OperationOutcomes.write(response, 400, IssueType.NOTSUPPORTED,
                    "Group-level export needs a Group that lists its members (actual = true)");
            return Optional.empty();
        }
        return id;
    }

    private Optional<ExportJobs.Job> own(Caller caller, UUID id) {
        // a person whose user name equals a client id must not reach the client's jobs
        if (caller.kind() != Caller.Kind.SERVICE_CLIENT) {
            return Optional.empty();
        }
        return jobs.find(id).filter(job -> job.clientId().equals(caller.principal())
                && job.status() != ExportJobs.Status.EXPIRED && job.status() != ExportJobs.Status.CANCELLED);
    }

    private void status(HttpServletRequest request, HttpServletResponse response, Caller caller, UUID id)
            throws IOException {
        Optional<ExportJobs.Job> job = own(caller, id);
        if (job.isEmpty()) {
            OperationOutcomes.write(response, 404, IssueType.NOTFOUND, "No such export");
            return;
        }
        List<String> types = job.get().types() == null || job.get().types().isEmpty()
                ? List.copyOf(exportableTypes) : job.get().types();
        if (!allowedNow(request, response, caller, types, "/export/jobs/" + id)) {
            return;
        }
        switch (job.get().status()) {
            case QUEUED, RUNNING -> {
                response.setStatus(202);
                response.setHeader("Retry-After", Long.toString(retryAfterSeconds));
                response.setHeader("X-Progress", job.get().patientsDone() + " patients exported");
            }
            case FAILED -> OperationOutcomes.write(response, 500, IssueType.EXCEPTION,
                    "The export failed; start a new one");
            case COMPLETE -> manifest(response, job.get());
            default -> OperationOutcomes.write(response, 404, IssueType.NOTFOUND, "No such export");
        }
    }

    /**
     * Whether the client's roles (IP range from this address, time window now) and its token's
     * scopes still let it read some of {@code types}: a client moved out of its range, past its
     * window or stripped of a role cannot collect what an earlier decision let it gather.
     * Refuses (403, audited) otherwise.
     */
    private boolean allowedNow(HttpServletRequest request, HttpServletResponse response, Caller caller,
            List<String> types, String auditPath) throws IOException {
        var address = addresses.resolve(request);
        Instant now = clock.instant();
        String reason = AppScope.OUTSIDE_APP_SCOPE;
        for (String type : types) {
            PatientScope scope = access.scope(caller, Interaction.SEARCH, type, null, true, address, now);
            if (!scope.empty()) {
                return true;
            }
            reason = scope.reason() == null ? reason : scope.reason();
        }
        try {
            audit.record(List.of(new AuditEvent(UUID.randomUUID(), now, caller.principal(), AuditAction.DENIED, auditPath,
                    AuditContext.of(request), false, null, null, RequestIds.current(), false, null, reason)));
        } catch (AuditUnavailableException e) {
            // the refusal carries no record data, so it is still sent
        }
        OperationOutcomes.write(response, 403, IssueType.FORBIDDEN, "Access denied: " + reason);
        return false;
    }

    private void manifest(HttpServletResponse response, ExportJobs.Job job) throws IOException {
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("transactionTime", job.createdAt().toString());
        manifest.put("request", job.requestUrl());
        manifest.put("requiresAccessToken", true);
        List<Object> output = new ArrayList<>();
        List<Object> errors = new ArrayList<>();
        for (ExportJobs.OutputFile file : jobs.files(job.id())) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("type", file.type());
            entry.put("url", baseUrl.value() + "/export/files/" + job.id() + "/" + file.name());
            entry.put("count", file.resources());
            // Records left out (failed their integrity check) are reported in OperationOutcome files.
            (RecordExport.Exported.ERROR_TYPE.equals(file.type()) ? errors : output).add(entry);
        }
        manifest.put("output", output);
        manifest.put("error", errors);
        byte[] body = JSONObjectUtils.toJSONString(manifest).getBytes(StandardCharsets.UTF_8);
        response.setStatus(200);
        response.setContentType("application/json");
        response.setHeader("Cache-Control", "no-store");
        if (job.expiresAt() != null) {
            response.setHeader("Expires", java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME
                    .format(job.expiresAt().atZone(java.time.ZoneOffset.UTC)));
        }
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    private void cancel(HttpServletResponse response, Caller caller, UUID id) throws IOException {
        if (own(caller, id).isEmpty() || !jobs.cancel(id)) {
            OperationOutcomes.write(response, 404, IssueType.NOTFOUND, "No such export");
            return;
        }
        response.setStatus(202);
    }

    private void download(HttpServletRequest request, HttpServletResponse response, Caller caller, UUID id, String name)
            throws IOException {
        Optional<ExportJobs.Job> job = own(caller, id).filter(j -> j.status() == ExportJobs.Status.COMPLETE);
        Optional<ExportJobs.OutputFile> listed = job.isEmpty() || !ExportFiles.validName(name) ? Optional.empty()
                : jobs.files(id).stream().filter(f -> f.name().equals(name)).findFirst();
        if (listed.isEmpty()) {
            OperationOutcomes.write(response, 404, IssueType.NOTFOUND, "No such file");
            return;
        }
        String path = "/export/files/" + id + "/" + name;
        // An error file holds no record: it is decided like the job's status.
        List<String> decidedTypes = !RecordExport.Exported.ERROR_TYPE.equals(listed.get().type())
                ? List.of(listed.get().type())
                : job.get().types() == null || job.get().types().isEmpty() ? List.copyOf(exportableTypes) : job.get().types();
        if (!allowedNow(request, response, caller, decidedTypes, path)) {
            return;
        }
        // durable before the first byte of the file leaves (fail closed: no audit, no download)
        try {
            audit.record(List.of(new AuditEvent(UUID.randomUUID(), clock.instant(), caller.principal(),
                    AuditAction.EXPORTED, path, AuditContext.of(request), true, null, null, RequestIds.current(), false,
                    null)));
        } catch (AuditUnavailableException e) {
            OperationOutcomes.write(response, 503, IssueType.TRANSIENT, "The download could not be audited; try again later");
            return;
        }
        StreamingAead aead;
        try {
            aead = keys.open(id, job.get().wrappedKey());
        } catch (java.security.GeneralSecurityException e) {
            OperationOutcomes.write(response, 503, IssueType.TRANSIENT, "The export key is unavailable; try again later");
            return;
        }
        response.setStatus(200);
        response.setContentType("application/fhir+ndjson");
        response.setHeader("Cache-Control", "no-store");
        try (InputStream in = aead.newDecryptingStream(files.open(id, name), ExportKeys.fileAssociatedData(id, name))) {
            OutputStream out = response.getOutputStream();
            in.transferTo(out);
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("an export file could not be decrypted", e);
        }
    }
}
