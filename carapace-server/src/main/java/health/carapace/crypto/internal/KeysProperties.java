package health.carapace.crypto.internal;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Key lifecycle settings (ADR 0010).
 *
 * @param kekMaxAge the active KEK is rotated automatically once it is older than this
 * @param checkInterval how often a node checks the KEK's age and resumes unfinished key jobs
 * @param refreshInterval how long a node may keep using its cached view of which key versions
 *     are active; jobs wait twice this before relying on every node having switched
 * @param reencryptRate most resource versions re-encrypted (or re-indexed) per second by a job,
 *     so that rotation leaves the database to live traffic; 0 means unthrottled
 * @param batchSize rows per job step (one checkpoint per step)
 * @param encryptionWarning encryptions under one AES-GCM key after which status warns
 * @param stateKeyMaxAge a state sealing keyset (ADR 0042) gets a new key once its current one is
 *     older than this (or has reached the encryption warning)
 */
@ConfigurationProperties("carapace.keys")
record KeysProperties(Duration kekMaxAge, Duration checkInterval, Duration refreshInterval, int reencryptRate,
        int batchSize, long encryptionWarning, Duration stateKeyMaxAge) {
}
