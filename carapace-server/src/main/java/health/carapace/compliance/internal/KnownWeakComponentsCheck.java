package health.carapace.compliance.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * The asset inventory exists (the SBOM shipped in the jar, the runtime assets) and no component in
 * use is at a version the project lists as known-weak ({@code known-weak-components.txt}).
 */
@Component
class KnownWeakComponentsCheck implements ComplianceCheck {

    private final Inventory inventory;
    private final KnownWeakComponents knownWeak;

    @org.springframework.beans.factory.annotation.Autowired
    KnownWeakComponentsCheck(Inventory inventory) {
        this(inventory, KnownWeakComponents.bundled());
    }

    KnownWeakComponentsCheck(Inventory inventory, KnownWeakComponents knownWeak) {
        this.inventory = inventory;
        this.knownWeak = knownWeak;
    }

    @Override
    public String id() {
        return "inventory.known-weak";
    }

    @Override
    public String title() {
        return "Software bill of materials present; no component at a known-weak version";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.NPRM_ASSET_INVENTORY, Rule.NPRM_PATCH_MANAGEMENT, Rule.EVALUATION);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        CheckResult.Evidence evidence = CheckResult.Evidence.of().with("known-weak entries", knownWeak.size());
        if (inventory.sbom().isEmpty()) {
            return CheckResult.fail("no SBOM in the jar (" + SoftwareBillOfMaterials.RESOURCE + ")", evidence);
        }
        SoftwareBillOfMaterials sbom = inventory.sbom().get();
        List<String> findings = new ArrayList<>();
        for (SoftwareBillOfMaterials.Component component : sbom.components()) {
            knownWeak.judge(component.coordinates(), component.version()).ifPresent(f -> findings.add(describe(f)));
        }
        String database = inventory.databaseVersion();
        knownWeak.judge("postgresql-server", database).ifPresent(f -> findings.add(describe(f)));
        evidence.with("SBOM", "CycloneDX " + sbom.specVersion() + ", " + sbom.components().size() + " components")
                .with("PostgreSQL server", database)
                .withList("known-weak components in use", findings, 20);
        return CheckResult.passIf(findings.isEmpty(), findings.size() + " components at a known-weak version", evidence);
    }

    private static String describe(KnownWeakComponents.Finding f) {
        return f.coordinates() + " " + f.version() + " (fixed in " + f.entry().fixedIn() + ": " + f.entry().reason() + ")";
    }
}
