package health.carapace;

import health.carapace.access.LoginApps;
import health.carapace.access.ServiceClients;
import health.carapace.access.Users;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditExporter;
import health.carapace.audit.AuditQueries;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.Disclosures;
import health.carapace.audit.AuditVerifier;
import health.carapace.platform.cli.Launcher;
import health.carapace.platform.cli.StartCommand;
import health.carapace.platform.cli.StartDevCommand;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.platform.logging.EarlyLogging;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.springframework.context.ConfigurableApplicationContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/** The {@code carapace} launcher: {@code start-dev}, {@code start} and {@code admin ...}. */
@Command(name = "carapace", mixinStandardHelpOptions = true,
        description = "Carapace: a FHIR R4 patient-record server with encryption, access control and audit built in.",
        subcommands = {Carapace.Admin.class, Carapace.Audit.class, Carapace.Keys.class})
public final class Carapace {

    private static volatile boolean serving;

    public static void main(String[] args) {
        EarlyLogging.install();
        int code = commandLine().execute(args);
        if (!serving) {
            System.exit(code);
        }
    }

    static CommandLine commandLine() {
        Launcher.App app = (defaults, args) -> CarapaceApplication.run(defaults, true, args);
        Runnable started = () -> serving = true;
        CommandLine cli = new CommandLine(new Carapace());
        cli.addSubcommand(new StartDevCommand(app, started));
        cli.addSubcommand(new StartCommand(app, started));
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // Startup refusals carry operator-facing messages; nothing here holds PHI.
            Throwable root = e;
            while (root.getCause() != null && !(root instanceof health.carapace.platform.logging.SafeMessage)) {
                root = root.getCause();
            }
            commandLine.getErr().println(root instanceof health.carapace.platform.logging.SafeMessage
                    ? root.getMessage() : "Carapace failed: " + root.getClass().getName() + " (see the log above)");
            return 2;
        });
        return cli;
    }

    @Command(name = "admin", mixinStandardHelpOptions = true, description = "Administrative tasks.",
            subcommands = {CreateClient.class, CreateUser.class, DisableUser.class, RevokeSessions.class,
                ListUsers.class, SetRoles.class, CreateApp.class, Assign.class, AccessReport.class,
                BreakGlassReview.class})
    static final class Admin {
    }

    /**
     * A command that acts on an installation. picocli ignores {@code @Unmatched} inside a mixin,
     * so it lives here and shares the mixin's list: {@code --name=value} settings then reach the
     * application context of every admin, audit and keys command, as they do for {@code start}.
     */
    abstract static class InstallationCommand implements Callable<Integer> {
        @CommandLine.Mixin
        Target target = new Target();

        @Unmatched
        List<String> settings = target.properties;
    }

    private static final java.util.regex.Pattern SETTING = java.util.regex.Pattern.compile("--[A-Za-z][A-Za-z0-9._\\[\\]-]*=.*");

    /** An argument that is neither an option of the command nor a {@code --name=value} setting. */
    static final class UnknownOption extends IllegalArgumentException
            implements health.carapace.platform.logging.SafeMessage {
        UnknownOption(String message) {
            super(message);
        }
    }

    /** Options shared by admin commands: which installation to act on. */
    static final class Target {
        @Option(names = "--production", description = "Act on the production configuration (environment "
                + "variables / --name=value) instead of the start-dev data directory.")
        boolean production;

        @Option(names = "--data-dir", defaultValue = "${CARAPACE_DATA_DIR:-./data}",
                description = "start-dev data directory (default: ${DEFAULT-VALUE}).")
        Path dataDir;

        /** {@code --name=value} settings; filled through {@link InstallationCommand} (see there). */
        final List<String> properties = new ArrayList<>();

        /** Runs {@code task} against a non-web application context for the chosen installation. */
        <T> T run(java.util.function.Function<ConfigurableApplicationContext, T> task) throws Exception {
            // Admin output goes to stdout; keep the log to warnings so it does not drown it.
            List<String> arguments = new ArrayList<>(List.of("--logging.level.root=WARN"));
            for (String property : properties) {
                // Only settings pass through; a mistyped option is an error, not a silent no-op.
                if (!SETTING.matcher(property).matches()) {
                    throw new UnknownOption("Unknown option: '" + property + "' (settings are given as --name=value)");
                }
            }
            arguments.addAll(properties);
            String[] args = arguments.toArray(String[]::new);
            if (production) {
                try (var context = CarapaceApplication.run(Map.of("carapace.mode", "prod"), false, args)) {
                    return task.apply(context);
                }
            }
            try (DevEnvironment dev = DevEnvironment.open(dataDir);
                    var context = CarapaceApplication.run(dev.properties(), false, args)) {
                return task.apply(context);
            }
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true, description = "Audit trail tasks.",
            subcommands = {VerifyAudit.class, ExportAudit.class, AuditDisclosures.class})
    static final class Audit {
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Recomputes the audit Merkle tree from the database, checks every tree head's root and",
                "signature and every witnessed head, and reports the first entry that does not match.",
                "Exit code 0 when the trail is intact, 1 when it is not."})
    static final class VerifyAudit extends InstallationCommand {


        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            AuditVerifier.Report report = target.run(ctx -> ctx.getBean(AuditVerifier.class).verify());
            var out = spec.commandLine().getOut();
            out.println((report.ok() ? "OK" : "TAMPERED") + ": " + report.eventsChecked() + " events, "
                    + report.headsChecked() + " signed tree heads checked");
            if (!report.ok()) {
                out.println("first problem: " + report.firstProblem());
            }
            out.flush();
            return report.ok() ? 0 : 1;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = {"Writes an audit export bundle (events, signed tree heads, inclusion and consistency",
                "proofs, public key) for offline verification with carapace-verify.jar."})
    static final class ExportAudit extends InstallationCommand {

        @Option(names = "--from", required = true, description = "First day (YYYY-MM-DD, UTC) or instant (ISO 8601).")
        String from;

        @Option(names = "--to", required = true, description = "Day after the last (YYYY-MM-DD, UTC) or instant.")
        String to;

        @Option(names = "--out", required = true, description = "New directory to write the bundle into.")
        Path out;


        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            AuditExporter.Export export = target.run(ctx -> ctx.getBean(AuditExporter.class)
                    .export(instant(from), instant(to), out));
            spec.commandLine().getOut().printf("Exported events %d to %d, proved against the signed tree head of size %d,"
                    + " into %s%nVerify with: java -jar carapace-verify.jar %s --public-key PUBLISHED_KEY.pem%n",
                    export.firstLeaf(), export.endLeaf() - 1, export.treeSize(), export.directory(), export.directory());
            spec.commandLine().getOut().flush();
            return 0;
        }

        private static java.time.Instant instant(String value) {
            return value.length() == 10
                    ? java.time.LocalDate.parse(value).atStartOfDay(java.time.ZoneOffset.UTC).toInstant()
                    : java.time.Instant.parse(value);
        }
    }

    @Command(name = "disclosures", mixinStandardHelpOptions = true,
            description = "Prints the accounting of disclosures for one patient (HIPAA §164.528, six years).")
    static final class AuditDisclosures extends InstallationCommand {

        @Option(names = "--patient", required = true, description = "The Patient's id.")
        String patient;

        @Option(names = "--format", defaultValue = "json", description = "json or csv (default: ${DEFAULT-VALUE}).")
        String format;


        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            String reference = Disclosures.patientReference(patient);
            String report = target.run(ctx -> {
                var events = ctx.getBean(AuditQueries.class).disclosures(reference,
                        Disclosures.windowStart(java.time.Instant.now()));
                ctx.getBean(AuditTrail.class).record(java.util.List.of(AuditEvent.now(
                        "cli:" + System.getProperty("user.name", "unknown"), AuditAction.EXPORTED, "/audit/disclosures",
                        AuditContext.none(), true, reference, null, null)));
                return "csv".equals(format) ? Disclosures.csv(events) : Disclosures.json(reference, events);
            });
            spec.commandLine().getOut().print(report);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "keys", mixinStandardHelpOptions = true,
            description = "Key lifecycle: rotation, status and crypto-shredding.",
            subcommands = {RotateKek.class, RotateDeks.class, RotateIndexKeys.class, KeyStatusCommand.class,
                KeysShredding.class})
    static final class Keys {
    }

    /** Starts a rotation and runs it here to completion, unless a server node is already running jobs. */
    abstract static class KeyRotationCommand extends InstallationCommand {


        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        abstract java.util.UUID start(health.carapace.crypto.KeyRotation rotation, String actor);

        @Override
        public Integer call() throws Exception {
            var out = spec.commandLine().getOut();
            String actor = "cli:" + System.getProperty("user.name", "unknown");
            return target.run(ctx -> {
                var rotation = ctx.getBean(health.carapace.crypto.KeyRotation.class);
                java.util.UUID job;
                try {
                    job = start(rotation, actor);
                } catch (IllegalStateException running) {
                    out.println(running.getMessage());
                    out.flush();
                    return 1;
                }
                out.println("Started key job " + job);
                out.flush();
                if (rotation.runJobs()) {
                    out.println("Finished key job " + job);
                } else {
                    out.println("A server node is running key jobs; it will run this one ('keys status' shows progress)");
                }
                out.flush();
                return 0;
            });
        }
    }

    @Command(name = "rotate-kek", mixinStandardHelpOptions = true,
            description = {"Generates a new KEK version in the HSM (or dev keystore), re-wraps every wrapped key",
                "under it, then retires the old version. Reads and writes continue throughout."})
    static final class RotateKek extends KeyRotationCommand {
        @Override
        java.util.UUID start(health.carapace.crypto.KeyRotation rotation, String actor) {
            return rotation.rotateKek(actor);
        }
    }

    @Command(name = "rotate-deks", mixinStandardHelpOptions = true,
            description = {"Adds a new data key to each patient's keyset (or one patient's), re-encrypts their",
                "stored versions under it, then destroys the old keys once no ciphertext refers to them."})
    static final class RotateDeks extends KeyRotationCommand {
        @Option(names = "--patient", description = "Rotate only this Patient's key (its id).")
        java.util.UUID patient;

        @Override
        java.util.UUID start(health.carapace.crypto.KeyRotation rotation, String actor) {
            return rotation.rotateDeks(actor, patient);
        }
    }

    @Command(name = "rotate-index-keys", mixinStandardHelpOptions = true,
            description = {"Creates a new blind-index root key, re-indexes every resource under it (search keeps",
                "working meanwhile), then retires the old one."})
    static final class RotateIndexKeys extends KeyRotationCommand {
        @Override
        java.util.UUID start(health.carapace.crypto.KeyRotation rotation, String actor) {
            return rotation.rotateIndexKeys(actor);
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Prints every key's version, age, state and encryptions, and the progress of key jobs.")
    static final class KeyStatusCommand extends InstallationCommand {


        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            var status = target.run(ctx -> ctx.getBean(health.carapace.crypto.KeyRotation.class).status());
            spec.commandLine().getOut().print(health.carapace.crypto.KeyStatusReport.text(status, java.time.Instant.now()));
            spec.commandLine().getOut().flush();
            return status.keys().stream().anyMatch(health.carapace.crypto.KeyRotation.Key::warning) ? 3 : 0;
        }
    }

    @Command(name = "shredding", mixinStandardHelpOptions = true,
            description = "Crypto-shredding requests (made and approved through POST /admin/keys/shredding).",
            subcommands = ShreddingList.class)
    static final class KeysShredding {
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists crypto-shredding requests, newest first: id, state, patient, reason, who requested and decided.")
    static final class ShreddingList extends InstallationCommand {


        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            var requests = target.run(ctx -> ctx.getBean(health.carapace.disposal.Shredding.class).list());
            var out = spec.commandLine().getOut();
            out.println("id\tstate\tpatient\treason\trequested_by\trequested_at\tdecided_by\texecuted_at");
            for (var r : requests) {
                out.println(String.join("\t", r.id().toString(), r.state(), r.patient(), r.reason(), r.requestedBy(),
                        r.requestedAt().toString(), String.valueOf(r.decidedBy()), String.valueOf(r.executedAt())));
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "create-client", mixinStandardHelpOptions = true,
            description = "Registers a service client (OAuth2 client credentials) and prints its secret once.")
    static final class CreateClient extends InstallationCommand {

        @Option(names = "--name", required = true, description = "A label for the client, e.g. the system using it.")
        String name;

        @Option(names = "--role", description = "A role of the policy directory the client holds (repeatable), "
                + "e.g. records-service; its permissions, time window and IP range apply on every request.")
        java.util.Set<String> roles = new java.util.LinkedHashSet<>();


        @Override
        public Integer call() throws Exception {
            ServiceClients.Credentials created = target.run(ctx -> ctx.getBean(ServiceClients.class).create(name, roles));
            System.out.println("client_id:     " + created.clientId());
            System.out.println("client_secret: " + created.clientSecret());
            System.out.println("The secret is shown only now; Carapace stores only its hash.");
            return 0;
        }
    }

    // --- people (ADR 0007) ----------------------------------------------------------------------

    @Command(name = "create-user", mixinStandardHelpOptions = true,
            description = {"Creates a user without any password and prints a one-time enrolment link where they set",
                "one (TOTP is enrolled at their first sign-in). The first administrator is created this way."})
    static final class CreateUser extends InstallationCommand {

        @CommandLine.Parameters(index = "0", description = "The user name (unique regardless of case).")
        String name;

        @Option(names = "--role", required = true, description = "A role from the policy directory (repeatable).")
        java.util.Set<String> roles = new java.util.LinkedHashSet<>();

        @Option(names = "--practitioner", description = "The FHIR Practitioner id this user acts as (care relationships).")
        String practitioner;


        @Override
        public Integer call() throws Exception {
            Users.Enrolment enrolment = target.run(ctx -> ctx.getBean(Users.class).create(name, roles, practitioner));
            System.out.println("user:            " + enrolment.userName());
            System.out.println("enrolment link:  " + enrolment.link());
            System.out.println("expires:         " + enrolment.expiresAt());
            System.out.println("Give the link to the user over a trusted channel; it works once. Carapace stores only its hash.");
            return 0;
        }
    }

    @Command(name = "disable-user", mixinStandardHelpOptions = true,
            description = "Disables a user and ends their sessions: their tokens stop working on the next request.")
    static final class DisableUser extends InstallationCommand {

        @CommandLine.Parameters(index = "0", description = "The user name.")
        String name;


        @Override
        public Integer call() throws Exception {
            boolean disabled = target.run(ctx -> ctx.getBean(Users.class).disable(name));
            System.out.println(disabled ? "disabled; every session ended" : "no such user");
            return disabled ? 0 : 1;
        }
    }

    @Command(name = "revoke-sessions", mixinStandardHelpOptions = true,
            description = "Ends every sign-in session of a user: their tokens stop working on the next request.")
    static final class RevokeSessions extends InstallationCommand {

        @Option(names = "--user", required = true, description = "The user name.")
        String name;


        @Override
        public Integer call() throws Exception {
            int revoked = target.run(ctx -> ctx.getBean(Users.class).revokeSessions(name));
            System.out.println(revoked + " session(s) ended");
            return 0;
        }
    }

    @Command(name = "set-roles", mixinStandardHelpOptions = true,
            description = "Replaces a user's roles; effective on their next request.")
    static final class SetRoles extends InstallationCommand {

        @CommandLine.Parameters(index = "0", description = "The user name.")
        String name;

        @Option(names = "--role", required = true, description = "A role from the policy directory (repeatable).")
        java.util.Set<String> roles = new java.util.LinkedHashSet<>();


        @Override
        public Integer call() throws Exception {
            target.run(ctx -> {
                ctx.getBean(Users.class).setRoles(name, roles);
                return null;
            });
            System.out.println("roles set");
            return 0;
        }
    }

    @Command(name = "assign", mixinStandardHelpOptions = true,
            description = {"Assigns a user (or service client) to a patient explicitly: a care relationship besides",
                "CareTeam membership and Encounter participation. Audited. --remove ends the assignment."})
    static final class Assign extends InstallationCommand {

        @Option(names = "--user", required = true, description = "User name or service client id.")
        String user;

        @Option(names = "--patient", required = true, description = "The Patient's id (or Patient/<id>).")
        String patient;

        @Option(names = "--remove", description = "End the assignment instead.")
        boolean remove;


        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            String reference = patient.startsWith("Patient/") ? patient : "Patient/" + patient;
            String admin = "cli:" + System.getProperty("user.name", "unknown");
            boolean changed = target.run(ctx -> remove
                    ? ctx.getBean(health.carapace.access.CareRelationships.class).unassign(user, reference, admin,
                            AuditContext.none())
                    : ctx.getBean(health.carapace.access.CareRelationships.class).assign(user, reference, admin,
                            AuditContext.none()));
            spec.commandLine().getOut().println(remove
                    ? (changed ? "Assignment removed." : "There was no such assignment.")
                    : (changed ? "Assigned." : "The assignment already existed."));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "access-report", mixinStandardHelpOptions = true,
            description = {"The access review: per user and service client the permissions granted by their roles",
                "and those not used in the last N days (from the audit trail), users without MFA, disabled users",
                "still holding a session (must be none: exit code 1 otherwise), roles without constraints."})
    static final class AccessReport extends InstallationCommand {

        @Option(names = "--days", defaultValue = "90", description = "Window for unused permissions (default: ${DEFAULT-VALUE}).")
        int days;


        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            health.carapace.access.AccessReview.Report report = target.run(ctx -> {
                var built = ctx.getBean(health.carapace.access.AccessReview.class).report(days, java.time.Instant.now());
                // looking at who may do what is itself audited
                ctx.getBean(AuditTrail.class).record(List.of(AuditEvent.now("cli:" + System.getProperty("user.name",
                        "unknown"), AuditAction.EXPORTED, "/admin/access-report", AuditContext.none(), true, null, null,
                        null)));
                return built;
            });
            spec.commandLine().getOut().print(AccessReportText.of(report));
            spec.commandLine().getOut().flush();
            return report.clean() ? 0 : 1;
        }
    }

    @Command(name = "break-glass-review", mixinStandardHelpOptions = true,
            description = {"Lists the emergency accesses opened in the last N days with their reasons (decrypted:",
                "the output may contain PHI), for the review every break-glass needs. The review is audited."})
    static final class BreakGlassReview extends InstallationCommand {

        @Option(names = "--days", defaultValue = "30", description = "How far back (default: ${DEFAULT-VALUE}).")
        int days;


        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            var grants = target.run(ctx -> {
                var listed = ctx.getBean(health.carapace.access.BreakGlass.class)
                        .review(java.time.Instant.now().minus(java.time.Duration.ofDays(days)));
                ctx.getBean(AuditTrail.class).record(List.of(AuditEvent.now("cli:" + System.getProperty("user.name",
                        "unknown"), AuditAction.EXPORTED, "/admin/break-glass-review", AuditContext.none(), true, null,
                        null, null)));
                return listed;
            });
            var out = spec.commandLine().getOut();
            out.println("opened	expires	closed	principal	patient	grant	reason");
            for (var g : grants) {
                out.println(String.join("\t", g.openedAt().toString(), g.expiresAt().toString(),
                        g.closedAt() == null ? "-" : g.closedAt().toString(), g.principal(), g.patient(),
                        g.grantId().toString(), g.reason() == null ? "(destroyed by crypto-shredding)"
                                : g.reason().replaceAll("[\\t\\r\\n]", " ")));
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "list-users", mixinStandardHelpOptions = true,
            description = "Lists users: name, roles, practitioner, state. Never a secret.")
    static final class ListUsers extends InstallationCommand {


        @Override
        public Integer call() throws Exception {
            List<Users.Summary> users = target.run(ctx -> ctx.getBean(Users.class).list());
            System.out.println("user\troles\tpractitioner\tstate\tpassword\tmfa\tcreated");
            for (Users.Summary u : users) {
                System.out.println(String.join("\t", u.userName(), String.join(",", new java.util.TreeSet<>(u.roles())),
                        u.practitionerId() == null ? "-" : u.practitionerId(), u.disabled() ? "disabled" : "active",
                        u.passwordSet() ? "set" : "pending", u.mfaEnrolled() ? "enrolled" : "pending",
                        u.createdAt().toString()));
            }
            return 0;
        }
    }

    @Command(name = "create-app", mixinStandardHelpOptions = true,
            description = {"Registers an application through which people sign in (OAuth2 public client:",
                "authorization code with PKCE S256, rotating refresh tokens) and prints its client id."})
    static final class CreateApp extends InstallationCommand {

        @Option(names = "--name", required = true, description = "A label for the application.")
        String name;

        @Option(names = "--redirect-uri", required = true, description = "An https:// redirect URI, or "
                + "http://127.0.0.1/PATH for a native app (any port); repeatable.")
        List<String> redirectUris = new ArrayList<>();


        @Override
        public Integer call() throws Exception {
            String clientId = target.run(ctx -> ctx.getBean(LoginApps.class).create(name, redirectUris));
            System.out.println("client_id: " + clientId);
            return 0;
        }
    }
}
