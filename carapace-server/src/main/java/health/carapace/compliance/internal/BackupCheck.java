package health.carapace.compliance.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Backup age where a backup exists: Carapace does not make backups itself (the database, the
 * keyring and the HSM each have their own tools); when {@code carapace.compliance.backup-dir}
 * names where the backups land, the newest file there must be younger than
 * {@code carapace.compliance.backup-max-age}. Restore within 72 hours is a drill outside the system.
 */
@Component
class BackupCheck implements ComplianceCheck {

    private final String directory;
    private final Duration maxAge;

    BackupCheck(@Value("${carapace.compliance.backup-dir:}") String directory,
            @Value("${carapace.compliance.backup-max-age:P1D}") Duration maxAge) {
        this.directory = directory;
        this.maxAge = maxAge;
    }

    @Override
    public String id() {
        return "contingency.backup";
    }

    @Override
    public String title() {
        return "A recent backup exists";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.DATA_BACKUP_PLAN, Rule.DISASTER_RECOVERY_PLAN, Rule.NPRM_BACKUP_RESTORE);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("carapace.compliance.backup-dir", directory.isBlank() ? "(not set)" : directory)
                .with("carapace.compliance.backup-max-age", maxAge)
                .with("restore within 72 hours", "not evidenced by the system: record your restore drill");
        if (directory.isBlank()) {
            return CheckResult.notApplicable("no backup location configured (carapace.compliance.backup-dir)", evidence);
        }
        Instant newest;
        long files;
        try (Stream<Path> listing = Files.list(Path.of(directory))) {
            List<Instant> times = listing.filter(Files::isRegularFile).map(BackupCheck::modified).toList();
            files = times.size();
            newest = times.stream().max(Instant::compareTo).orElse(null);
        } catch (IOException e) {
            return CheckResult.fail("the backup location cannot be read", evidence);
        }
        evidence.with("files", files).with("newest", newest == null ? "-" : newest.toString());
        if (newest == null) {
            return CheckResult.fail("no backup in the backup location", evidence);
        }
        evidence.with("age", Duration.between(newest, now).toHours() + " h");
        return CheckResult.passIf(Duration.between(newest, now).compareTo(maxAge) <= 0,
                "the newest backup is older than " + maxAge, evidence);
    }

    private static Instant modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toInstant();
        } catch (IOException e) {
            return Instant.EPOCH;
        }
    }
}
