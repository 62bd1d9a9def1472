package health.carapace.incident.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import health.carapace.audit.AuditContext;
import health.carapace.incident.Containment;
import health.carapace.incident.Drills;
import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Incidents;
import health.carapace.signin.ServiceClients;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Plays a drill against the live server over HTTPS, as a client would (docs/INCIDENTS.md "Drills"):
 * a {@code drill-} setup client makes synthetic patients (tagged {@value #DRILL_TAG}, no name, no
 * identifier), {@code drill-} principals play the scenario, the detectors of whichever node reads
 * find it, and the drill acknowledges (or waits for a person to), contains by disabling its own
 * principal, checks that the very next request is refused, closes the incident as {@code drill},
 * deletes its patients and stores the times. Nothing real is touched: every principal is the
 * drill's, every patient the drill's, every search names the drill's patients by id.
 */
final class DrillRunner implements Drills {

    static final String DRILL_TAG = "https://carapace.health/fhir/drill";
    private static final Pattern ACCESS_TOKEN = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern RESOURCE_ID = Pattern.compile("\"id\"\\s*:\\s*\"([0-9a-f-]{36})\"");
    private static final Duration POLL = Duration.ofMillis(200);

    private final ServiceClients clients;
    private final PrivacyRegister register;
    private final IncidentStore incidents;
    private final Containment containment;
    private final IncidentSettings settings;
    private final JdbcClient jdbc;
    private final Clock clock;

    DrillRunner(ServiceClients clients, PrivacyRegister register, IncidentStore incidents, Containment containment,
            IncidentSettings settings, DataSource dataSource, Clock clock) {
        this.clients = clients;
        this.register = register;
        this.incidents = incidents;
        this.containment = containment;
        this.settings = settings;
        this.jdbc = JdbcClient.create(dataSource);
        this.clock = clock;
    }

    /** What playing a scenario left behind: the principal and detector to wait for, and how to prove containment. */
    private record Played(String principal, String detector, Instant lastRequestAt, Probe nextRequest) {}

    /** The scenario's next request, which containment must refuse: true if it was refused. */
    private interface Probe {
        boolean refused() throws IOException, InterruptedException;
    }

    @Override
    public Result run(Scenario scenario, Options options, String actor) {
        Instant started = clock.instant();
        Server server = new Server(options);
        ServiceClients.Credentials setup;
        try {
            setup = clients.createForDrill("drill setup: " + scenario.code(), Set.of(options.role()), actor);
        } catch (IllegalArgumentException unknownRole) {
            throw new Incidents.Refused(Incidents.Refused.Reason.INVALID,
                    "the drill's role must be defined in the policy directory");
        }
        List<String> patients = new ArrayList<>();
        List<String> principals = new ArrayList<>(List.of(setup.clientId()));
        try {
            String setupToken = server.token(setup.clientId(), setup.clientSecret());
            Played played = play(scenario, options, actor, server, setupToken, patients, principals);
            Result result = respond(scenario, options, actor, started, played);
            store(result, actor);
            return result;
        } catch (IOException e) {
            throw new Incidents.Refused(Incidents.Refused.Reason.CONFLICT,
                    "the drill could not reach the server over HTTPS (" + e.getClass().getSimpleName() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Incidents.Refused(Incidents.Refused.Reason.CONFLICT, "the drill was interrupted");
        } finally {
            cleanUp(server, setup, patients, principals, actor);
        }
    }

    private Played play(Scenario scenario, Options options, String actor, Server server, String setupToken,
            List<String> patients, List<String> principals) throws IOException, InterruptedException {
        switch (scenario) {
            case VIP_SNOOPING -> {
                String patient = server.createPatient(setupToken);
                patients.add(patient);
                register.flag("Patient/" + patient, new PrivacyRegister.Flags(true, false), actor, AuditContext.none());
                ServiceClients.Credentials snooper = principal("drill snooper", options, actor, principals);
                String token = server.token(snooper.clientId(), snooper.clientSecret());
                server.expect(200, server.get(token, "/fhir/Patient/" + patient), "the snooping read");
                return new Played(snooper.clientId(), "vip-access", clock.instant(),
                        () -> server.get(token, "/fhir/Patient/" + patient).statusCode() == 401);
            }
            case CREDENTIAL_ATTACK -> {
                ServiceClients.Credentials target = principal("drill attack target", options, actor, principals);
                for (int i = 0; i < settings.credentialCount(); i++) {
                    server.tokenRequest(target.clientId(), "drill-wrong-secret-" + i);
                }
                return new Played(target.clientId(), CredentialAttackDetector.CODE, clock.instant(),
                        () -> server.tokenRequest(target.clientId(), target.clientSecret()).statusCode() != 200);
            }
            case BULK_READ -> {
                for (int i = 0; i <= settings.bulkReadPatients(); i++) {
                    patients.add(server.createPatient(setupToken));
                }
                ServiceClients.Credentials reader = principal("drill bulk reader", options, actor, principals);
                String token = server.token(reader.clientId(), reader.clientSecret());
                // by id: the search returns the drill's patients and no one else's
                String search = "/fhir/Patient?_id=" + String.join(",", patients) + "&_count=" + (patients.size() + 1);
                server.expect(200, server.get(token, search), "the bulk search");
                return new Played(reader.clientId(), "bulk-read", clock.instant(),
                        () -> server.get(token, search).statusCode() == 401);
            }
            case AFTER_HOURS_BREAK_GLASS -> {
                String patient = server.createPatient(setupToken);
                patients.add(patient);
                ServiceClients.Credentials clinician = principal("drill clinician", options, actor, principals);
                String token = server.token(clinician.clientId(), clinician.clientSecret());
                server.expect(200, server.post(token, "/fhir/$break-glass", "{\"resourceType\":\"Parameters\","
                        + "\"parameter\":[{\"name\":\"patient\",\"valueReference\":{\"reference\":\"Patient/" + patient
                        + "\"}},{\"name\":\"reason\",\"valueString\":\"Drill: synthetic emergency\"}]}"), "break-glass");
                server.expect(200, server.get(token, "/fhir/Patient/" + patient), "the read under break-glass");
                return new Played(clinician.clientId(), "unusual-hours", clock.instant(),
                        () -> server.get(token, "/fhir/Patient/" + patient).statusCode() == 401);
            }
            default -> throw new IllegalStateException("unknown scenario");
        }
    }

    private ServiceClients.Credentials principal(String name, Options options, String actor, List<String> principals) {
        ServiceClients.Credentials created = clients.createForDrill(name, Set.of(options.role()), actor);
        principals.add(created.clientId());
        return created;
    }

    /** Waits for detection, acknowledges (or waits for a person), contains, proves it, closes. */
    private Result respond(Scenario scenario, Options options, String actor, Instant started, Played played)
            throws IOException, InterruptedException {
        UUID id = UUID.randomUUID();
        Incident incident = awaitIncident(played, started, options.detectionTimeout());
        if (incident == null) {
            return new Result(id, scenario, started, "not-detected", null, null, null, null, false);
        }
        Duration toDetect = nonNegative(Duration.between(played.lastRequestAt(), incident.detectedAt()));
        Incident acknowledged;
        if (options.waitForAck()) {
            acknowledged = awaitAcknowledgement(incident.id(), options.ackTimeout());
            if (acknowledged == null) {
                incidents.close(incident.id(), IncidentState.CLOSED, "drill", actor);
                return new Result(id, scenario, started, "not-acknowledged", incident.id(), toDetect, null, null, true);
            }
        } else {
            acknowledged = incidents.acknowledge(incident.id(), actor);
        }
        Duration toAcknowledge = nonNegative(Duration.between(incident.detectedAt(), acknowledged.acknowledgedAt()));
        Containment.Result contained = containment.contain(incident.id(),
                new Containment.Actions(false, true, List.of(), List.of(), null, List.of()), actor);
        boolean effective = played.nextRequest().refused();
        incidents.close(incident.id(), IncidentState.CLOSED, "drill", actor);
        return new Result(id, scenario, started, effective ? "contained" : "not-contained", incident.id(), toDetect,
                toAcknowledge, contained.detectionToContainment(), options.waitForAck());
    }

    private Incident awaitIncident(Played played, Instant started, Duration timeout) throws InterruptedException {
        Instant deadline = clock.instant().plus(timeout);
        while (true) {
            List<Incident> found = incidents.list(new Incidents.Filter(null, null, played.detector(), played.principal(),
                    null, Boolean.TRUE, 10));
            if (!found.isEmpty()) {
                return found.get(found.size() - 1);
            }
            if (clock.instant().isAfter(deadline)) {
                return null;
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    private Incident awaitAcknowledgement(UUID incident, Duration timeout) throws InterruptedException {
        Instant deadline = clock.instant().plus(timeout);
        while (true) {
            Incident now = incidents.find(incident).orElseThrow(IncidentStore::notFound);
            if (now.acknowledgedAt() != null) {
                return now;
            }
            if (clock.instant().isAfter(deadline)) {
                return null;
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    private void store(Result result, String actor) {
        jdbc.sql("""
                insert into incident.drill (id, scenario, started_at, finished_at, run_by, outcome, incident_id,
                    detect_ms, acknowledge_ms, contain_ms, acknowledged_by_person)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")
                .params(result.id(), result.scenario().code(), Timestamp.from(result.startedAt()),
                        Timestamp.from(clock.instant()), actor, result.outcome(), result.incident(),
                        millis(result.toDetect()), millis(result.toAcknowledge()), millis(result.toContain()),
                        result.acknowledgedByAPerson())
                .update();
    }

    /** Deletes the synthetic patients and disables every drill principal, whatever happened. */
    private void cleanUp(Server server, ServiceClients.Credentials setup, List<String> patients,
            List<String> principals, String actor) {
        try {
            String token = server.token(setup.clientId(), setup.clientSecret());
            for (String patient : patients) {
                server.delete(token, "/fhir/Patient/" + patient);
            }
        } catch (IOException | RuntimeException e) {
            // the patients stay, tagged as the drill's; nothing real is among them
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (String principal : principals) {
            clients.disable(principal, actor);
        }
    }

    @Override
    public Report report(Instant now) {
        // one statement for every scenario (the dashboard shows this on each visit), in the enum's order
        List<Trend> trends = jdbc.sql("""
                select scenario, count(*), count(*) filter (where outcome = 'contained'), avg(detect_ms), avg(contain_ms),
                    max(started_at)
                from incident.drill group by scenario""")
                .query((rs, n) -> {
                    Optional<Scenario> scenario = Scenario.of(rs.getString(1));
                    return scenario.isEmpty() ? null : new Trend(scenario.get(), rs.getInt(2), rs.getInt(3),
                            duration(rs.getObject(4)), duration(rs.getObject(5)), rs.getTimestamp(6).toInstant());
                })
                .list().stream().filter(java.util.Objects::nonNull).sorted(java.util.Comparator.comparing(Trend::scenario))
                .toList();
        List<Result> recent = jdbc.sql("""
                select id, scenario, started_at, outcome, incident_id, detect_ms, acknowledge_ms, contain_ms,
                    acknowledged_by_person
                from incident.drill order by started_at desc limit 20""")
                .query((rs, n) -> new Result(rs.getObject(1, UUID.class), Scenario.of(rs.getString(2)).orElseThrow(),
                        rs.getTimestamp(3).toInstant(), rs.getString(4), rs.getObject(5, UUID.class),
                        duration(rs.getObject(6)), duration(rs.getObject(7)), duration(rs.getObject(8)), rs.getBoolean(9)))
                .list();
        Instant last = trends.stream().map(Trend::last).max(Instant::compareTo).orElse(null);
        boolean stale = last == null || last.plus(settings.drillMaxAge()).isBefore(now);
        return new Report(trends, recent, last, settings.drillMaxAge(), stale);
    }

    private static Long millis(Duration duration) {
        return duration == null ? null : duration.toMillis();
    }

    private static Duration duration(Object millis) {
        return millis == null ? null : Duration.ofMillis(((Number) millis).longValue());
    }

    private static Duration nonNegative(Duration d) {
        return d.isNegative() ? Duration.ZERO : d;
    }

    /** The live server, over HTTPS. Bodies are the drill's own synthetic data; nothing is logged. */
    private static final class Server {
        private final URI base;
        private final HttpClient http;

        Server(Options options) {
            this.base = options.server();
            this.http = HttpClient.newBuilder().sslContext(options.tls()).connectTimeout(Duration.ofSeconds(10)).build();
        }

        HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
            return http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        }

        HttpResponse<String> tokenRequest(String clientId, String secret) throws IOException, InterruptedException {
            String basic = Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(UTF_8));
            return send(HttpRequest.newBuilder(base.resolve("/oauth2/token"))
                    .header("Authorization", "Basic " + basic)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
        }

        String token(String clientId, String secret) throws IOException, InterruptedException {
            HttpResponse<String> response = tokenRequest(clientId, secret);
            Matcher m = ACCESS_TOKEN.matcher(response.body());
            if (response.statusCode() != 200 || !m.find()) {
                throw new Incidents.Refused(Incidents.Refused.Reason.CONFLICT,
                        "the server refused the drill's client a token (HTTP " + response.statusCode() + ")");
            }
            return m.group(1);
        }

        HttpResponse<String> get(String token, String path) throws IOException, InterruptedException {
            return send(HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + token).GET());
        }

        HttpResponse<String> post(String token, String path, String json) throws IOException, InterruptedException {
            return send(HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json)));
        }

        void delete(String token, String path) throws IOException, InterruptedException {
            send(HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + token).DELETE());
        }

        /** A synthetic patient: no name, no identifier, tagged as the drill's. */
        String createPatient(String token) throws IOException, InterruptedException {
            HttpResponse<String> created = post(token, "/fhir/Patient", "{\"resourceType\":\"Patient\",\"meta\":{\"tag\":"
                    + "[{\"system\":\"" + DRILL_TAG + "\",\"code\":\"drill\"}]},\"active\":false}");
            expect(201, created, "creating a synthetic patient");
            Matcher m = RESOURCE_ID.matcher(created.body());
            if (!m.find()) {
                throw new Incidents.Refused(Incidents.Refused.Reason.CONFLICT, "the server did not name the new patient");
            }
            return m.group(1);
        }

        void expect(int status, HttpResponse<String> response, String step) {
            if (response.statusCode() != status) {
                throw new Incidents.Refused(Incidents.Refused.Reason.CONFLICT, "the drill could not play " + step
                        + ": the server answered " + response.statusCode() + " (check the drill's role)");
            }
        }
    }
}
