package health.carapace.export.internal;

import com.google.crypto.tink.StreamingAead;
import com.nimbusds.jose.util.JSONObjectUtils;
import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.access.ClientAddress;
import health.carapace.platform.web.OperationOutcomes;
import health.carapace.platform.web.PublicBaseUrl;
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
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The Bulk Data routes (docs/BULK.md): the kick-off under the FHIR base
 * ({@code GET /fhir/$export}, {@code GET /fhir/Patient/$export}; answered here, before the FHIR
 * servlet), the status of a job ({@code GET /export/jobs/{id}}: 202 with {@code Retry-After} while
 * it runs, 200 with the manifest when complete; {@code DELETE} cancels) and its files
 * ({@code GET /export/files/{id}/{name}}, decrypted as they stream). Only the service client that
 * started a job sees it; anyone else gets the same 404 as for a job that does not exist.
 */
final class ExportEndpoints extends OncePerRequestFilter {

    private static final Pattern KICK_OFF = Pattern.compile("/fhir/(?:(Patient)/)?\\$export");
    private static final Pattern JOB = Pattern.compile("/export/jobs/([0-9a-f-]{36})");
    private static final Pattern FILE = Pattern.compile("/export/files/([0-9a-f-]{36})/([A-Za-z0-9.-]{1,100})");
    private static final Set<String> PARAMETERS = Set.of("_outputFormat", "_type", "_since", "_typeFilter");
    private static final Set<String> FORMATS = Set.of("application/fhir+ndjson", "application/ndjson", "ndjson");

    private final ExportJobs jobs;
    private final ExportKeys keys;
    private final ExportFiles files;
    private final ClientAddress addresses;
    private final PublicBaseUrl baseUrl;
    private final Clock clock;
    private final Set<String> exportableTypes;
    private final long retryAfterSeconds;

    ExportEndpoints(ExportJobs jobs, ExportKeys keys, ExportFiles files, ClientAddress addresses, PublicBaseUrl baseUrl,
            Clock clock, Set<String> exportableTypes, long retryAfterSeconds) {
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
        return !KICK_OFF.matcher(path).matches() && !path.startsWith("/export/");
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
            kickOff(request, response, caller.get(), kickOff.group(1) == null ? "system" : "patient");
        } else if (job.matches() && "GET".equals(request.getMethod())) {
            status(response, caller.get(), UUID.fromString(job.group(1)));
        } else if (job.matches() && "DELETE".equals(request.getMethod())) {
            cancel(response, caller.get(), UUID.fromString(job.group(1)));
        } else if (file.matches() && "GET".equals(request.getMethod())) {
            download(response, caller.get(), UUID.fromString(file.group(1)), file.group(2));
        } else if (kickOff.matches() || job.matches() || file.matches()) {
            OperationOutcomes.write(response, 405, IssueType.NOTSUPPORTED, "Method not allowed here");
        } else {
            OperationOutcomes.write(response, 404, IssueType.NOTFOUND, "Not found");
        }
    }

    private void kickOff(HttpServletRequest request, HttpServletResponse response, Caller caller, String level)
            throws IOException {
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
            if (!PARAMETERS.contains(entry.getKey()) || entry.getValue().length != 1) {
                OperationOutcomes.write(response, 400, IssueType.NOTSUPPORTED,
                        "Supported parameters, once each: _outputFormat, _type, _since");
                return;
            }
        }
        if (parameters.containsKey("_typeFilter")) {
            // A search over record contents: the contents are ciphertext until decided and decrypted.
            OperationOutcomes.write(response, 400, IssueType.NOTSUPPORTED,
                    "_typeFilter cannot be served: record contents are encrypted; use _type and _since");
            return;
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
        UUID id = UUID.randomUUID();
        byte[] wrapped;
        try {
            wrapped = keys.newWrappedKey(id);
        } catch (java.security.GeneralSecurityException e) {
            OperationOutcomes.write(response, 503, IssueType.TRANSIENT, "The export key could not be made; try again later");
            return;
        }
        List<String> appScope = caller.appScope().narrows() ? List.copyOf(caller.appScope().spelled()) : null;
        jobs.create(id, caller.principal(), appScope, addresses.resolve(request).getHostAddress(), level, types, since,
                baseUrl.value() + request.getRequestURI(), wrapped, keys.kekId(), clock.instant());
        response.setStatus(202);
        response.setHeader("Content-Location", baseUrl.value() + "/export/jobs/" + id);
        response.setContentType("application/fhir+json");
        response.getWriter().write("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"information\","
                + "\"code\":\"informational\",\"diagnostics\":\"Export accepted; poll the Content-Location\"}]}");
    }

    private Optional<ExportJobs.Job> own(Caller caller, UUID id) {
        return jobs.find(id).filter(job -> job.clientId().equals(caller.principal())
                && job.status() != ExportJobs.Status.EXPIRED && job.status() != ExportJobs.Status.CANCELLED);
    }

    private void status(HttpServletResponse response, Caller caller, UUID id) throws IOException {
        Optional<ExportJobs.Job> job = own(caller, id);
        if (job.isEmpty()) {
            OperationOutcomes.write(response, 404, IssueType.NOTFOUND, "No such export");
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

    private void manifest(HttpServletResponse response, ExportJobs.Job job) throws IOException {
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("transactionTime", job.createdAt().toString());
        manifest.put("request", job.requestUrl());
        manifest.put("requiresAccessToken", true);
        List<Object> output = new ArrayList<>();
        for (ExportJobs.OutputFile file : jobs.files(job.id())) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("type", file.type());
            entry.put("url", baseUrl.value() + "/export/files/" + job.id() + "/" + file.name());
            entry.put("count", file.resources());
            output.add(entry);
        }
        manifest.put("output", output);
        manifest.put("error", List.of());
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

    private void download(HttpServletResponse response, Caller caller, UUID id, String name) throws IOException {
        Optional<ExportJobs.Job> job = own(caller, id).filter(j -> j.status() == ExportJobs.Status.COMPLETE);
        boolean listed = job.isPresent() && ExportFiles.validName(name)
                && jobs.files(id).stream().anyMatch(f -> f.name().equals(name));
        if (!listed) {
            OperationOutcomes.write(response, 404, IssueType.NOTFOUND, "No such file");
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
