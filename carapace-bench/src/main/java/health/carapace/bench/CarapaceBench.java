package health.carapace.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The bench's command line. Progress goes to standard error; the report (a table) goes to
 * standard output and, in full, to a JSON file.
 */
@Command(name = "carapace-bench", mixinStandardHelpOptions = true, sortOptions = false,
        versionProvider = CarapaceBench.Version.class,
        usageHelpWidth = 100,
        description = {
            "Drives a FHIR R4 server over HTTP(S) with closed-loop clients and reports, per workload, "
                    + "throughput, p50/p90/p99/max latency, every error by HTTP status, and the CPU and memory "
                    + "used by the bench itself and by the server processes you name.",
            "",
            "Workloads: create-patient, read-patient, search-patient-by-identifier, create-observation, "
                    + "search-observations-by-patient, mixed (80%% read, 20%% write), or all. Every workload but "
                    + "create-patient first seeds its own patients and observations, then draws from them.",
            ""},
        footer = {"", "Example (Carapace start-dev, from the repository root):",
            "  export CARAPACE_BENCH_CLIENT_ID=svc-... CARAPACE_BENCH_CLIENT_SECRET=...",
            "  java -jar carapace-bench/target/carapace-bench.jar --cacert data/tls/server.crt \\",
            "      --workload read-patient --server-pid $(pgrep -f carapace-server.jar)"})
public final class CarapaceBench implements Callable<Integer> {

    @Option(names = {"-u", "--base-url"}, defaultValue = "https://localhost:8443/fhir",
            description = "FHIR base URL (default: ${DEFAULT-VALUE})")
    URI baseUrl;

    @Option(names = {"-w", "--workload"}, split = ",", defaultValue = "all", paramLabel = "NAME",
            description = "Workloads to run, one after another, comma-separated (default: ${DEFAULT-VALUE})")
    List<String> workloadNames;

    @Option(names = {"-c", "--concurrency"}, defaultValue = "32",
            description = "Concurrent clients, each with one request in flight (default: ${DEFAULT-VALUE})")
    int concurrency;

    @Option(names = {"-d", "--duration"}, defaultValue = "60s", converter = DurationConverter.class,
            description = "Measured time per workload: 60, 90s, 2m, 1m30s (default: ${DEFAULT-VALUE})")
    Duration duration;

    @Option(names = "--warmup", defaultValue = "20s", converter = DurationConverter.class,
            description = "Load sent before measuring, per workload; its errors are still reported (default: ${DEFAULT-VALUE})")
    Duration warmup;

    @Option(names = "--seed", defaultValue = "42",
            description = "Seed of the synthetic data and of the clients' choices (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--dataset-patients", defaultValue = "1000",
            description = "Patients seeded for the read and search workloads (default: ${DEFAULT-VALUE})")
    int datasetPatients;

    @Option(names = "--observations-per-patient", defaultValue = "5",
            description = "Observations seeded per patient (default: ${DEFAULT-VALUE})")
    int observationsPerPatient;

    @Option(names = "--write-dataset", paramLabel = "FILE",
            description = "Write the seeded patients' ids to FILE, one a line (for the wrk cross-check script)")
    Path datasetFile;

    @Option(names = "--write-identifiers", paramLabel = "FILE",
            description = "Write the seeded patients' identifiers to FILE as system|value, one a line, in the order of "
                    + "--write-dataset (for the wrk identifier-search script)")
    Path identifiersFile;

    @Option(names = "--seed-batch", defaultValue = "0", paramLabel = "N",
            description = "Seed in transaction Bundles of N patients with their observations (0: one create per "
                    + "request). For large data sets, e.g. --dataset-patients 1000000 --seed-batch 100")
    int seedBatch;

    @Option(names = "--seed-only",
            description = "Seed the dataset (and write it, with --write-dataset), then stop without measuring")
    boolean seedOnly;

    @Option(names = {"-o", "--output"}, defaultValue = "carapace-bench-result.json",
            description = "Where to write the JSON report (default: ${DEFAULT-VALUE})")
    Path output;

    @Option(names = "--client-id", defaultValue = "${env:CARAPACE_BENCH_CLIENT_ID}",
            description = "OAuth2 client id for the client-credentials grant, or CARAPACE_BENCH_CLIENT_ID; "
                    + "without one, requests carry no Authorization header")
    String clientId;

    @Option(names = "--client-secret", defaultValue = "${env:CARAPACE_BENCH_CLIENT_SECRET}",
            description = "Its secret; prefer CARAPACE_BENCH_CLIENT_SECRET, which stays out of ps and the shell history")
    String clientSecret;

    @Option(names = "--token-url",
            description = "Token endpoint (default: <scheme://host:port of the base URL>/oauth2/token)")
    URI tokenUrl;

    @Option(names = "--cacert", paramLabel = "FILE",
            description = "Trust the certificates in this PEM file, e.g. data/tls/server.crt of start-dev")
    Path caCert;

    @Option(names = {"-k", "--insecure"},
            description = "Accept any server certificate and host name (never for a server you do not run)")
    boolean insecure;

    @Option(names = "--server-pid", paramLabel = "[LABEL=]PID",
            description = "A server process whose CPU and resident memory to sample from /proc while measuring; "
                    + "repeatable, e.g. --server-pid 1234 --server-pid postgres=5678")
    List<String> serverPids = new ArrayList<>();

    @Option(names = "--with-descendants",
            description = "Count the CPU (and memory) of each watched process's descendants too, e.g. PostgreSQL's backends")
    boolean withDescendants;

    @Option(names = "--timeout", defaultValue = "30s", converter = DurationConverter.class,
            description = "Per-request timeout; a request that times out counts as an error (default: ${DEFAULT-VALUE})")
    Duration timeout;

    @Option(names = "--io-threads", defaultValue = "0",
            description = "Threads of the HTTP client (default: 0, one per available processor)")
    int ioThreads;

    @Option(names = "--soak",
            description = "Soak instead of a benchmark: one workload (default: soak, creates, updates, reads and searches) "
                    + "for --duration (default here 30m, no warm-up), recorded minute by minute and judged: zero errors, "
                    + "server RSS and p99 flat after --flat-from. Needs --server-pid; writes the JSON report and a "
                    + "Markdown table next to it (.md). See docs/RELIABILITY.md, \"Soak\"")
    boolean soak;

    @Option(names = "--interval", defaultValue = "1m", converter = DurationConverter.class,
            description = "--soak: length of each recorded interval (default: ${DEFAULT-VALUE})")
    Duration interval;

    @Option(names = "--flat-from", defaultValue = "5m", converter = DurationConverter.class,
            description = "--soak: RSS and p99 are judged from this point on, in whole intervals (default: ${DEFAULT-VALUE})")
    Duration flatFrom;

    @Option(names = "--gc-log", paramLabel = "FILE",
            description = "--soak: the server's GC log (started with -Xlog:gc:file=FILE:time,uptime,level,tags), "
                    + "summarised per interval and in total")
    Path gcLog;

    @Option(names = "--write-assertion-key", paramLabel = "DIR",
            description = "Writes a new P-384 key (" + BackendAssertions.KEY_FILE + ", owner-only) and its public JWKS ("
                    + BackendAssertions.JWKS_FILE + ") into DIR, for `carapace admin create-client --jwks`, and exits")
    Path writeAssertionKey;

    @Option(names = "--assertion-client-id", paramLabel = "ID",
            description = "issue-backend-token: the backend client registered with --write-assertion-key's JWKS")
    String assertionClientId;

    @Option(names = "--assertion-key", paramLabel = "FILE",
            description = "issue-backend-token: the client's private key, " + BackendAssertions.KEY_FILE)
    Path assertionKey;

    @Option(names = "--assertion-kid", defaultValue = "bench", paramLabel = "KID",
            description = "The key id in the JWKS and in each assertion's header (default: ${DEFAULT-VALUE})")
    String assertionKid;

    @Option(names = "--assertion-scope", defaultValue = "system/Patient.rs", paramLabel = "SCOPE",
            description = "issue-backend-token: the scope each token request asks for (default: ${DEFAULT-VALUE})")
    String assertionScope;

    @Option(names = "--write-assertions", paramLabel = "FILE",
            description = "Signs --assertions token request bodies (as issue-backend-token sends them), writes them "
                    + "one per line to FILE for carapace-bench/wrk/issue-backend-token.lua, and exits; use them "
                    + "within 290 s")
    Path writeAssertions;

    @Option(names = "--assertions", defaultValue = "60000", paramLabel = "N",
            description = "issue-backend-token: assertions signed before the run, one per request of warm-up and "
                    + "measurement; each lives 290 s (default: ${DEFAULT-VALUE})")
    int assertions;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new CarapaceBench());
        commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof BenchException || cause instanceof TokenEndpoint.TokenRequestFailedException) {
                cmd.getErr().println("carapace-bench: " + cause.getMessage());
                return 2;
            }
            throw e;
        });
        return commandLine;
    }

    @Override
    public Integer call() throws Exception {
        if (soak) {
            soakDefaults();
        }
        if (writeAssertionKey != null) {
            BackendAssertions.writeKey(writeAssertionKey, assertionKid);
            spec.commandLine().getErr().println("wrote " + writeAssertionKey.resolve(BackendAssertions.KEY_FILE)
                    + " and " + writeAssertionKey.resolve(BackendAssertions.JWKS_FILE));
            return 0;
        }
        if (writeAssertions != null) {
            if (assertionClientId == null || assertionKey == null || assertions < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--write-assertions needs --assertion-client-id, --assertion-key and --assertions of at least 1");
            }
            BackendAssertions.sign(assertionKey, assertionKid, assertionClientId, tokenUri(), assertionScope, assertions)
                    .writeTo(writeAssertions);
            spec.commandLine().getErr().printf("wrote %,d token request bodies to %s%n", assertions, writeAssertions);
            return 0;
        }
        List<Workload> workloads = workloads();
        List<ResourceSampler.WatchedProcess> watched = watchedProcesses();
        validate();
        PrintWriter progress = spec.commandLine().getErr();
        int threads = ioThreads > 0 ? ioThreads : Runtime.getRuntime().availableProcessors();
        ExecutorService io = Executors.newFixedThreadPool(threads, daemonThreads("bench-io-"));
        try {
            SSLContext tls = tls();
            HttpClient client = HttpClient.newBuilder()
                    // HTTP/1.1 with one connection per client, as wrk and most FHIR clients use.
                    .version(HttpClient.Version.HTTP_1_1)
                    .sslContext(tls)
                    .executor(io)
                    .connectTimeout(Duration.ofSeconds(10))
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .build();
            AccessTokens tokens = tokens(tls);
            BenchReport.MachineBefore machineBefore = BenchReport.MachineBefore.sample();
            progress.printf("machine before start: %.0f%% busy, load average %.2f%n", machineBefore.busyPercent(),
                    machineBefore.loadAverage1m());
            SyntheticData data = new SyntheticData(seed);
            FhirRequests requests = new FhirRequests(baseUrl, timeout, tokens, data);
            checkReachable(client, requests);
            if (workloads.contains(Workload.ISSUE_BACKEND_TOKEN)) {
                progress.printf("signing %,d client assertions before the run...%n", assertions);
                progress.flush();
                requests.use(BackendAssertions.sign(assertionKey, assertionKid, assertionClientId, tokenUri(),
                        assertionScope, assertions), tokenUri());
            }
            if (seedOnly || workloads.stream().anyMatch(Workload::needsDataset)) {
                DatasetSeeder seeder = new DatasetSeeder(client, requests, data, concurrency, progress);
                Dataset dataset = seedBatch > 0 ? seeder.seedInBatches(datasetPatients, observationsPerPatient, seedBatch)
                        : seeder.seed(datasetPatients, observationsPerPatient);
                requests.use(dataset);
                if (datasetFile != null) {
                    Files.write(datasetFile, dataset.patients().stream().map(Dataset.SeededPatient::id).toList());
                    progress.println("patient ids: " + datasetFile.toAbsolutePath());
                }
                if (identifiersFile != null) {
                    Files.write(identifiersFile, dataset.patients().stream()
                            .map(patient -> SyntheticData.MRN_SYSTEM + "|" + patient.mrn()).toList());
                    progress.println("patient identifiers: " + identifiersFile.toAbsolutePath());
                }
                if (seedOnly) {
                    return 0;
                }
            }
            Instant startedAt = Instant.now();
            LoadDriver driver = new LoadDriver(client, io, requests);
            if (soak) {
                return soak(driver, workloads.get(0), watched, machineBefore, progress);
            }
            List<WorkloadResult> results = new ArrayList<>();
            for (Workload workload : workloads) {
                progress.printf("%s: %d clients, warm-up %.0f s, then measuring %.0f s...%n", workload.label(),
                        concurrency, warmup.toMillis() / 1000.0, duration.toMillis() / 1000.0);
                progress.flush();
                ResourceSampler sampler = new ResourceSampler(watched, withDescendants);
                LoadDriver.Run run = driver.run(workload, concurrency, warmup, duration, seed, timeout.plusSeconds(5),
                        sampler);
                WorkloadResult result = WorkloadResult.of(workload, run, sampler.usage());
                results.add(result);
                progress.printf("%s: %,.1f req/s, errors: %s%n", workload.label(),
                        WorkloadResult.perSecond(result.total().responses() + result.total().transportErrorCount(),
                                result.windowSeconds()), ReportTable.errors(result));
                progress.flush();
            }
            BenchReport report = new BenchReport(startedAt, settings(machineBefore), results);
            writeJson(report);
            ReportTable.print(report, spec.commandLine().getOut());
            progress.println("JSON report: " + output.toAbsolutePath());
            progress.flush();
            return 0;
        } finally {
            io.shutdownNow();
        }
    }

    /** A soak runs 30 minutes of its own mix without a warm-up unless told otherwise. */
    private void soakDefaults() {
        var parsed = spec.commandLine().getParseResult();
        if (!parsed.hasMatchedOption("--duration")) {
            duration = Duration.ofMinutes(30);
        }
        if (!parsed.hasMatchedOption("--warmup")) {
            warmup = Duration.ZERO;
        }
        if (!parsed.hasMatchedOption("--workload")) {
            workloadNames = List.of(Workload.SOAK.label());
        }
    }

    private int soak(LoadDriver driver, Workload workload, List<ResourceSampler.WatchedProcess> watched,
            BenchReport.MachineBefore machineBefore, PrintWriter progress) throws Exception {
        int minutes = (int) (duration.toNanos() / interval.toNanos());
        int judgedFrom = (int) (flatFrom.toNanos() / interval.toNanos());
        progress.printf("soak: %s, %d clients, %d intervals of %.0f s, judged from interval %d...%n", workload.label(),
                concurrency, minutes, interval.toMillis() / 1000.0, judgedFrom + 1);
        progress.flush();
        SoakVerdict.Criteria defaults = SoakVerdict.Criteria.DEFAULT;
        SoakVerdict.Criteria criteria = new SoakVerdict.Criteria(judgedFrom, defaults.maxRssRise(),
                defaults.maxRssSpread(), defaults.maxP99Rise(), defaults.maxP99Spread());
        Soak.Result result = Soak.run(driver, workload, concurrency, warmup, interval, minutes, seed,
                timeout.plusSeconds(5), watched, withDescendants, gcLog, criteria, settings(machineBefore), progress);
        Path parent = output.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(output, SoakReport.toJson(result));
        Path markdown = markdownNextTo(output);
        String table = SoakReport.toMarkdown(result);
        Files.writeString(markdown, table);
        spec.commandLine().getOut().print(table);
        spec.commandLine().getOut().flush();
        progress.println("JSON report: " + output.toAbsolutePath() + "; table: " + markdown.toAbsolutePath());
        progress.flush();
        // 0: the soak held; 1: it ran but did not (errors, or RSS or p99 not flat)
        return result.verdict().passed() ? 0 : 1;
    }

    static Path markdownNextTo(Path json) {
        String name = json.getFileName().toString();
        String base = name.endsWith(".json") ? name.substring(0, name.length() - ".json".length()) : name;
        return json.resolveSibling(base + ".md");
    }

    private List<Workload> workloads() {
        Set<Workload> chosen = new LinkedHashSet<>();
        for (String name : workloadNames) {
            try {
                chosen.addAll(Workload.parse(name));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        return List.copyOf(chosen);
    }

    private List<ResourceSampler.WatchedProcess> watchedProcesses() {
        List<ResourceSampler.WatchedProcess> watched = new ArrayList<>();
        for (String value : serverPids) {
            int equals = value.indexOf('=');
            boolean firstUnlabelled = equals <= 0 && serverPids.stream().filter(v -> v.indexOf('=') <= 0)
                    .findFirst().orElse("").equals(value);
            String label = equals > 0 ? value.substring(0, equals) : (firstUnlabelled ? "server" : "pid-" + value);
            String pid = equals > 0 ? value.substring(equals + 1) : value;
            try {
                watched.add(new ResourceSampler.WatchedProcess(label, Long.parseLong(pid.trim())));
            } catch (NumberFormatException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--server-pid: '" + value
                        + "' is not [LABEL=]PID");
            }
        }
        if (!watched.isEmpty() && !ProcFs.available()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--server-pid needs Linux's /proc");
        }
        for (ResourceSampler.WatchedProcess process : watched) {
            if (ProcFs.processCpuTicks(process.pid()).isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--server-pid: no readable process "
                        + process.pid());
            }
        }
        return watched;
    }

    private void validate() {
        CommandLine cl = spec.commandLine();
        if (concurrency < 1) {
            throw new CommandLine.ParameterException(cl, "--concurrency must be at least 1");
        }
        if (duration.isNegative() || duration.isZero() || warmup.isNegative()) {
            throw new CommandLine.ParameterException(cl, "--duration must be positive and --warmup not negative");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new CommandLine.ParameterException(cl, "--timeout must be positive");
        }
        if (datasetPatients < 1 || observationsPerPatient < 0) {
            throw new CommandLine.ParameterException(cl,
                    "--dataset-patients must be at least 1 and --observations-per-patient not negative");
        }
        if (seedBatch < 0 || seedBatch > 1000) {
            throw new CommandLine.ParameterException(cl, "--seed-batch must be between 0 and 1000");
        }
        if (insecure && caCert != null) {
            throw new CommandLine.ParameterException(cl, "--insecure and --cacert exclude each other");
        }
        if (soak) {
            if (workloadNames.size() != 1 || workloads().size() != 1) {
                throw new CommandLine.ParameterException(cl, "--soak runs one workload");
            }
            if (serverPids.isEmpty()) {
                throw new CommandLine.ParameterException(cl, "--soak needs --server-pid: its verdict judges the server's RSS");
            }
            if (interval.isNegative() || interval.isZero() || duration.compareTo(interval) < 0) {
                throw new CommandLine.ParameterException(cl, "--soak needs a positive --interval no longer than --duration");
            }
            if (gcLog != null && !Files.isReadable(gcLog)) {
                throw new CommandLine.ParameterException(cl, "--gc-log: cannot read " + gcLog);
            }
        }
        if (workloads().contains(Workload.ISSUE_BACKEND_TOKEN)) {
            if (assertionClientId == null || assertionKey == null || !Files.isReadable(assertionKey)) {
                throw new CommandLine.ParameterException(cl,
                        "issue-backend-token needs --assertion-client-id and a readable --assertion-key");
            }
            if (assertions < 1) {
                throw new CommandLine.ParameterException(cl, "--assertions must be at least 1");
            }
        }
        if (clientId != null && clientSecret == null) {
            throw new CommandLine.ParameterException(cl,
                    "--client-id needs a secret: --client-secret or CARAPACE_BENCH_CLIENT_SECRET");
        }
        String scheme = baseUrl.getScheme();
        if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || baseUrl.getHost() == null) {
            throw new CommandLine.ParameterException(cl, "--base-url must be an http(s) URL, e.g. https://localhost:8443/fhir");
        }
    }

    private SSLContext tls() throws GeneralSecurityException, IOException {
        if (insecure) {
            return TlsTrust.trustingAnything();
        }
        return caCert != null ? TlsTrust.trusting(caCert) : TlsTrust.defaultTrust();
    }

    private AccessTokens tokens(SSLContext tls) {
        if (clientId == null) {
            return AccessTokens.NONE;
        }
        // A client of its own: a request that finds its token expired waits for the renewal, and
        // must not wait on the very executor the renewal's response would arrive on.
        HttpClient tokenClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(tls)
                .connectTimeout(Duration.ofSeconds(10)).build();
        TokenEndpoint endpoint = new TokenEndpoint(tokenClient, tokenUri(), clientId, clientSecret, timeout);
        try {
            return new ClientCredentialsTokens(endpoint, Clock.systemUTC()).start();
        } catch (CompletionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof TokenEndpoint.TokenRequestFailedException failed) {
                throw failed;
            }
            throw new BenchException("could not get a token from " + tokenUri() + ": " + OperationStats.describe(cause)
                    + (cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")"), cause);
        }
    }

    URI tokenUri() {
        if (tokenUrl != null) {
            return tokenUrl;
        }
        return URI.create(baseUrl.getScheme() + "://" + baseUrl.getRawAuthority() + "/oauth2/token");
    }

    /** Fails fast on a wrong URL or certificate, before seeding or measuring anything. */
    private void checkReachable(HttpClient client, FhirRequests requests) {
        URI metadata = URI.create(requests.base() + "/metadata");
        try {
            HttpResponse<Void> response = client.sendAsync(requests.get(metadata), HttpResponse.BodyHandlers.discarding())
                    .join();
            if (response.statusCode() != 200) {
                spec.commandLine().getErr().printf("warning: GET %s answered %d%n", metadata, response.statusCode());
            }
        } catch (CompletionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new BenchException("cannot reach " + metadata + ": " + OperationStats.describe(cause)
                    + (cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")")
                    + (baseUrl.getScheme().equals("https") && caCert == null && !insecure
                            ? "; for a self-signed certificate pass --cacert FILE" : ""), cause);
        }
    }

    private BenchReport.Settings settings(BenchReport.MachineBefore machineBefore) {
        return new BenchReport.Settings(baseUrl.toString(), concurrency, warmup, duration, seed, datasetPatients,
                observationsPerPatient, clientId == null ? "none" : "oauth2-client-credentials",
                Runtime.version().toString(), Runtime.getRuntime().availableProcessors(), timeout, machineBefore);
    }

    private void writeJson(BenchReport report) throws IOException {
        Path parent = output.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(output, JsonReport.toJson(report));
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + n.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = CarapaceBench.class.getPackage().getImplementationVersion();
            return new String[] {"carapace-bench " + (version == null ? "(development build)" : version)};
        }
    }
}
