package health.carapace.compliance.internal;

import health.carapace.compliance.ComplianceReports;
import health.carapace.compliance.ReportSigningKey;
import health.carapace.verify.SignedReport;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.node.ObjectNode;

/**
 * Evaluates every check, builds the report, signs it with carapace-verify's {@link SignedReport}
 * under the report key, and stores it append-only, chained to the report before it. The chain is
 * read and extended under a transaction-scoped advisory lock, so two nodes reporting at once
 * still make one chain.
 */
@Service
class SignedReports implements ComplianceReports {

    private static final long CHAIN_LOCK = 0x4341524150414345L ^ 19; // "CARAPACE" ^ issue 19

    private final CheckRunner runner;
    private final Inventory inventory;
    private final ReportStore store;
    private final ReportSigningKey key;
    private final Environment environment;
    private final TransactionTemplate transactions;
    private final org.springframework.jdbc.core.simple.JdbcClient jdbc;

    SignedReports(CheckRunner runner, Inventory inventory, ReportStore store, ReportSigningKey key,
            Environment environment, PlatformTransactionManager transactionManager, javax.sql.DataSource dataSource) {
        this.runner = runner;
        this.inventory = inventory;
        this.store = store;
        this.key = key;
        this.environment = environment;
        this.transactions = new TransactionTemplate(transactionManager);
        this.jdbc = org.springframework.jdbc.core.simple.JdbcClient.create(dataSource);
    }

    /** The report evaluated now, as stored, with its parsed JSON for rendering. */
    record Evaluated(Stored stored, ObjectNode report) {}

    @Override
    public Stored evaluateAndStore() {
        return evaluate().stored();
    }

    Evaluated evaluate() {
        List<EvaluatedCheck> checks = runner.evaluateAll();
        var assets = inventory.assets();
        KeyPair pair = key.keyPair();
        return transactions.execute(status -> {
            jdbc.sql("select pg_advisory_xact_lock(?)").param(CHAIN_LOCK).query().singleRow();
            UUID id = UUID.randomUUID();
            var measuredAt = checks.isEmpty() ? java.time.Instant.now() : checks.get(0).measuredAt();
            String previous = store.lastSha256().map(HexFormat.of()::formatHex).orElse(null);
            ObjectNode report = ReportDocument.build(id, measuredAt, environment.getProperty("carapace.mode", "?"),
                    checks, assets, inventory.sbom().orElse(null), previous);
            byte[] bytes = ReportDocument.bytes(report);
            byte[] signed = SignedReport.sign(pair, bytes);
            Stored stored = new Stored(id, measuredAt, ReportDocument.overall(checks), signed);
            store.insert(stored, SignedReport.keyId(pair.getPublic()), sha256(bytes));
            return new Evaluated(stored, report);
        });
    }

    Optional<ObjectNode> parse(Stored stored) {
        try {
            return Optional.of(ReportDocument.parse(SignedReport.verify(stored.signedFile(), key.keyPair().getPublic())
                    .report()));
        } catch (java.security.GeneralSecurityException e) {
            return Optional.empty();
        }
    }

    boolean isKnownCheck(String id) {
        return runner.ids().contains(id);
    }

    @Override
    public List<Stored> stored() {
        return store.all();
    }

    @Override
    public Optional<Stored> stored(UUID id) {
        return store.byId(id);
    }

    @Override
    public Optional<Stored> latest() {
        return store.latest();
    }

    @Override
    public String publicKeyPem() {
        return SignedReport.publicKeyPem(key.keyPair());
    }

    @Override
    public void recordScan(Scan scan) {
        store.insertScan(scan);
    }

    @Override
    public Optional<Scan> lastScan() {
        return store.lastScan();
    }

    @Override
    public byte[] render(Stored report, Format format) {
        if (format == Format.SIGNED) {
            return report.signedFile();
        }
        ObjectNode json = parse(report).orElseThrow(() -> new IllegalStateException(
                "the stored report " + report.id() + " does not verify under the report key"));
        return switch (format) {
            case JSON -> ReportDocument.bytes(json);
            case HTML -> ReportHtml.render(json).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            case PDF -> ReportPdf.render(ReportHtml.render(json));
            case TEXT -> ReportText.render(json).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            case SIGNED -> report.signedFile();
        };
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
