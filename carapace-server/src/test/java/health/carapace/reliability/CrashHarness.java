package health.carapace.reliability;

import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;

/**
 * Kill cycles against a {@link DevServerProcess}: mixed load, a {@code kill -9} at a random
 * moment (of the server, of its PostgreSQL, or of both), a restart, and then the three checks:
 * every acknowledged write is there at its acknowledged version with its content; every
 * acknowledged PHI response has its audit event (found by request id through
 * {@code GET /fhir/AuditEvent}, the audit trail's public API); {@code audit verify} passes.
 */
final class CrashHarness {

    enum Kill { SERVER, DATABASE, BOTH }

    /** How one run is shaped: cycles, load clients, how long the load runs before a kill. */
    record Plan(int cycles, int clients, Duration minLoad, Duration maxLoad, boolean verifyEveryCycle, long seed) {
    }

    static final String VERIFY_OK = "OK";
    static final String VERIFY_FAILED = "FAILED";
    static final String VERIFY_NOT_RUN = "not run";

    record Cycle(int number, Kill kill, Duration loadBeforeKill, Duration restart, int writesChecked,
            List<String> lostWrites, int responsesChecked, List<String> unauditedResponses, String auditVerify,
            String auditVerifyOutput, Map<Integer, Long> statuses, long unanswered) {

        boolean clean() {
            return lostWrites.isEmpty() && unauditedResponses.isEmpty() && !auditVerify.equals(VERIFY_FAILED);
        }
    }

    record Result(Plan plan, List<Cycle> cycles, int finalWritesChecked, List<String> finalLostWrites,
            long phiResponses, Duration elapsed) {

        long lostWrites() {
            return finalLostWrites.size() + cycles.stream().mapToLong(c -> c.lostWrites().size()).sum();
        }

        long unauditedResponses() {
            return cycles.stream().mapToLong(c -> c.unauditedResponses().size()).sum();
        }

        long writesChecked() {
            return cycles.stream().mapToLong(Cycle::writesChecked).sum();
        }

        long responsesChecked() {
            return cycles.stream().mapToLong(Cycle::responsesChecked).sum();
        }

        String summary() {
            StringBuilder out = new StringBuilder();
            out.append("| cycle | kill | load before kill | restart | writes checked | lost | PHI responses checked | unaudited | audit verify | statuses during load | unanswered |\n");
            out.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
            for (Cycle c : cycles) {
                out.append("| ").append(c.number()).append(" | ").append(c.kill()).append(" | ")
                        .append(c.loadBeforeKill().toMillis()).append(" ms | ").append(c.restart().toMillis()).append(" ms | ")
                        .append(c.writesChecked()).append(" | ").append(c.lostWrites().size()).append(" | ")
                        .append(c.responsesChecked()).append(" | ").append(c.unauditedResponses().size()).append(" | ")
                        .append(c.auditVerify()).append(" | ").append(c.statuses()).append(" | ")
                        .append(c.unanswered()).append(" |\n");
            }
            out.append("\nTotal: ").append(cycles.size()).append(" kill cycles in ").append(elapsed.toSeconds())
                    .append(" s; acknowledged writes checked after their crash ").append(writesChecked())
                    .append(", all ").append(finalWritesChecked).append(" acknowledged versions re-read at the end; lost ")
                    .append(lostWrites()).append("; successful PHI responses ").append(phiResponses)
                    .append(", checked in the audit trail after a crash ").append(responsesChecked())
                    .append(", without an audit event ").append(unauditedResponses()).append(".\n");
            return out.toString();
        }
    }

    private final DevServerProcess server;
    private final Plan plan;
    private final AcknowledgedLog log = new AcknowledgedLog();
    private final AtomicLong markers = new AtomicLong();
    private final String family;
    private HttpClient http;
    private String loadClientId;
    private String loadClientSecret;
    private Instant runStart;

    CrashHarness(DevServerProcess server, Plan plan) {
        this.server = server;
        this.plan = plan;
        // letters only: a family name the blind index tokenises like any other
        this.family = "Crashsafe" + Long.toString(Math.abs(plan.seed()) % 1_000_000, 36).replaceAll("[0-9]", "x");
    }

    Result run() throws Exception {
        Instant started = Instant.now();
        runStart = started.minus(1, ChronoUnit.MINUTES);
        SplittableRandom random = new SplittableRandom(plan.seed());
        server.start();
        http = server.http(Duration.ofSeconds(2));
        // one client for the load and for reading the audit trail back: each launcher command
        // starts an application context of its own, the costliest step after a server start
        String[] client = createClient("crash-safety", "records-service", "admin");
        loadClientId = client[0];
        loadClientSecret = client[1];

        List<Cycle> cycles = new ArrayList<>();
        for (int n = 1; n <= plan.cycles(); n++) {
            Kill kill = Kill.values()[(n - 1) % Kill.values().length];
            cycles.add(cycle(n, kill, random));
            // each cycle's row as soon as it is known: a long run stopped early still reports
            Files.writeString(server.dataDir().resolve("cycles-so-far.md"), new Result(plan, cycles, 0, List.of(),
                    log.phiResponses(), Duration.between(started, Instant.now())).summary());
        }
        // every version acknowledged in the whole run, read back once more
        List<AcknowledgedLog.Write> all = log.allWrites();
        List<String> finalLost = checkWrites(all, token(loadClientId, loadClientSecret));
        return new Result(plan, cycles, all.size(), finalLost, log.phiResponses(), Duration.between(started, Instant.now()));
    }

    private Cycle cycle(int number, Kill kill, SplittableRandom random) throws Exception {
        MixedLoad load = new MixedLoad(server.base(), http, token(loadClientId, loadClientSecret), log, family, markers);
        long acknowledgedBefore = log.phiResponses();
        load.start(plan.clients(), random.nextLong());
        // the kill's moment is drawn from when the load flows (a fresh server's first requests are slow)
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(120)).until(() -> log.phiResponses() > acknowledgedBefore);
        long span = plan.maxLoad().toMillis() - plan.minLoad().toMillis();
        Duration beforeKill = plan.minLoad().plusMillis(span <= 0 ? 0 : random.nextLong(span));
        // the random moment of the kill is the point of the harness, not a wait for a condition
        Thread.sleep(beforeKill.toMillis());
        switch (kill) {
            case SERVER -> server.killServer();
            case DATABASE -> {
                server.killDatabase();
                // the server keeps taking requests without its database: none may be acknowledged
                // unless it is durable and audited (checked below like any other)
                Thread.sleep(1000);
                server.killServer();
            }
            case BOTH -> server.killBoth();
        }
        load.stop();

        Instant restartBegan = Instant.now();
        server.start();
        Duration restart = Duration.between(restartBegan, Instant.now());

        String token = token(loadClientId, loadClientSecret);
        List<String> unaudited = new ArrayList<>();
        List<String> pending = log.takeUnconfirmedResponses();
        Set<String> audited = auditedRequestIds();
        for (String requestId : pending) {
            if (!audited.contains(requestId)) {
                unaudited.add(requestId);
            }
        }
        List<AcknowledgedLog.Write> writes = log.takeUncheckedWrites();
        List<String> lost = checkWrites(writes, token);

        String verified = VERIFY_NOT_RUN;
        String verifyOutput = "";
        if (plan.verifyEveryCycle() || number == plan.cycles()) {
            DevServerProcess.CommandResult verify = server.run("audit", "verify");
            verified = verify.exitCode() == 0 && verify.output().contains("OK:") ? VERIFY_OK : VERIFY_FAILED;
            verifyOutput = lastLine(verify.output());
        }
        return new Cycle(number, kill, beforeKill, restart, writes.size(), lost, pending.size(), unaudited, verified,
                verifyOutput, load.statuses(), load.unanswered());
    }

    private static String lastLine(String output) {
        String[] lines = output.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1];
    }

    /**
     * Reads every write back at its acknowledged version ({@code vread}: status, version and the
     * marker in its content) and each resource's current version (never older than acknowledged).
     * The reads are PHI responses too: they go into the log and are checked after the next crash.
     */
    private List<String> checkWrites(List<AcknowledgedLog.Write> writes, String token) throws Exception {
        List<String> lost = new ArrayList<>();
        Set<String> currentChecked = new HashSet<>();
        for (AcknowledgedLog.Write write : writes) {
            HttpResponse<String> version = get("/fhir/" + write.reference() + "/_history/" + write.version(), token);
            if (version.statusCode() != 200) {
                lost.add(write + ": vread answered " + version.statusCode());
                continue;
            }
            log.phiResponse(version.headers().firstValue("X-Request-Id").orElse(null));
            Resource stored = (Resource) MixedLoad.FHIR.newJsonParser().parseResource(version.body());
            String marker = stored instanceof Patient p ? p.getNameFirstRep().getGivenAsSingleString()
                    : stored instanceof Observation o ? o.getValue().primitiveValue() : null;
            if (!write.marker().equals(marker) || !String.valueOf(write.version()).equals(stored.getMeta().getVersionId())) {
                lost.add(write + ": stored version " + stored.getMeta().getVersionId() + " carries " + marker);
            }
            if (currentChecked.add(write.reference())) {
                HttpResponse<String> current = get("/fhir/" + write.reference(), token);
                if (current.statusCode() != 200) {
                    lost.add(write.reference() + ": read answered " + current.statusCode());
                    continue;
                }
                log.phiResponse(current.headers().firstValue("X-Request-Id").orElse(null));
                Resource now = (Resource) MixedLoad.FHIR.newJsonParser().parseResource(current.body());
                int currentVersion = Integer.parseInt(now.getMeta().getVersionId());
                if (currentVersion < log.latestVersion(write.reference())) {
                    lost.add(write.reference() + ": current version " + currentVersion + " older than acknowledged "
                            + log.latestVersion(write.reference()));
                }
            }
        }
        return lost;
    }

    /**
     * The request ids of every audit event of the load client since the run began, from
     * {@code GET /fhir/AuditEvent?agent=&date=} (one page of at most 100 events an answer: a
     * window whose answer has a next page is halved until each part fits on one).
     */
    private Set<String> auditedRequestIds() throws Exception {
        String token = token(loadClientId, loadClientSecret);
        Set<String> ids = new HashSet<>();
        collectAudited(runStart, Instant.now().plus(1, ChronoUnit.MINUTES), token, ids);
        return ids;
    }

    private void collectAudited(Instant from, Instant to, String token, Set<String> ids) throws Exception {
        String path = "/fhir/AuditEvent?agent=" + URLEncoder.encode(loadClientId, StandardCharsets.UTF_8)
                + "&date=ge" + from.truncatedTo(ChronoUnit.MILLIS) + "&date=lt" + to.truncatedTo(ChronoUnit.MILLIS)
                + "&_count=100";
        HttpResponse<String> response = get(path, token);
        if (response.statusCode() != 200) {
            throw new IllegalStateException("AuditEvent search answered " + response.statusCode());
        }
        Bundle bundle = MixedLoad.FHIR.newJsonParser().parseResource(Bundle.class, response.body());
        // an answer holds at most one page (the server's maximum page size is 100): a window whose
        // answer has a next page is halved until every part fits on one
        boolean partial = bundle.getLink(Bundle.LINK_NEXT) != null || bundle.getEntry().size() >= 100;
        if (partial) {
            if (Duration.between(from, to).toMillis() <= 1) {
                throw new IllegalStateException("more audit events in one millisecond than one page holds");
            }
            Instant middle = from.plusMillis(Duration.between(from, to).toMillis() / 2);
            collectAudited(from, middle, token, ids);
            collectAudited(middle, to, token, ids);
            return;
        }
        for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
            AuditEvent event = (AuditEvent) entry.getResource();
            for (AuditEvent.AuditEventEntityComponent entity : event.getEntity()) {
                var identifier = entity.getWhat().getIdentifier();
                if (identifier.hasSystem() && identifier.getSystem().endsWith("/request-id")) {
                    ids.add(identifier.getValue());
                }
            }
        }
    }

    private HttpResponse<String> get(String pathAndQuery, String token) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(server.base().resolve(pathAndQuery)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token).header("Accept", "application/fhir+json").GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String token(String clientId, String secret) throws IOException, InterruptedException {
        String basic = Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(server.base().resolve("/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"").matcher(response.body());
        if (response.statusCode() != 200 || !m.find()) {
            throw new IllegalStateException("token request answered " + response.statusCode());
        }
        return m.group(1);
    }

    /** {@code admin create-client} through the launcher, attached to the running server's database. */
    private String[] createClient(String name, String... roles) throws IOException, InterruptedException {
        List<String> arguments = new ArrayList<>(List.of("admin", "create-client", "--name", name));
        for (String role : roles) {
            arguments.addAll(List.of("--role", role));
        }
        DevServerProcess.CommandResult created = server.run(arguments.toArray(String[]::new));
        Matcher id = Pattern.compile("client_id:\\s+(\\S+)").matcher(created.output());
        Matcher secret = Pattern.compile("client_secret:\\s+(\\S+)").matcher(created.output());
        if (created.exitCode() != 0 || !id.find() || !secret.find()) {
            throw new IllegalStateException("admin create-client exited with " + created.exitCode());
        }
        return new String[] {id.group(1), secret.group(1)};
    }

    static void writeReport(Path file, Result result) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, result.summary());
    }
}
