package health.carapace.incident.internal;

import com.google.crypto.tink.KeysetHandle;
import health.carapace.crypto.SystemSecrets;
import health.carapace.incident.EvidenceBundle;
import health.carapace.platform.config.AlgorithmInventory;
import health.carapace.platform.config.AlgorithmUse;
import health.carapace.platform.config.AlgorithmUse.Kind;
import health.carapace.platform.config.Mode;
import health.carapace.platform.logging.SafeMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two keys of evidence bundles. The <b>evidence public key</b> (configured: {@code
 * carapace.incident.evidence.public-key}) that every bundle is encrypted to; its private key is
 * held offline by the compliance officer, so nothing on the server can open a bundle. In start-dev
 * a key pair is generated beside the configured path on first start, and the log says so. The
 * <b>manifest signing key</b>, Ed25519, of its own (one key, one use: ADR 0015), generated once and
 * kept in the keyring wrapped by the KEK, loaded on first use.
 */
final class EvidenceKeys implements AlgorithmInventory {

    static final String PUBLIC_KEY_PROPERTY = "carapace.incident.evidence.public-key";
    static final String SIGNING_KEY_NAME = "evidence-manifest-ed25519";
    /** The dev private key's file, beside the public one. */
    static final String DEV_PRIVATE_KEY = "evidence-private-key.json";
    private static final Logger log = LoggerFactory.getLogger(EvidenceKeys.class);

    /** An evidence key that is missing or unusable: the server does not start (or no bundle is made). */
    static final class Unusable extends IllegalStateException implements SafeMessage {
        private static final long serialVersionUID = 1L;

        Unusable(String message) {
            super(message);
        }
    }

    private final KeysetHandle recipient;
    private final String recipientKeyId;
    private final SystemSecrets secrets;
    private volatile KeyPair signingKey;

    private EvidenceKeys(KeysetHandle recipient, SystemSecrets secrets) {
        this.recipient = recipient;
        this.recipientKeyId = recipient == null ? null : EvidenceBundle.keyId(recipient);
        this.secrets = secrets;
    }

    /**
     * Loads the configured public key; in start-dev, generates a pair there first when absent.
     *
     * @throws Unusable when the key is configured but unreadable or not an evidence public key, or
     *     missing outside start-dev
     */
    static EvidenceKeys load(String configuredPath, Mode mode, SystemSecrets secrets) {
        if (configuredPath == null || configuredPath.isBlank()) {
            if (mode == Mode.PROD) {
                throw new Unusable(PUBLIC_KEY_PROPERTY + " is required: evidence bundles are encrypted to it "
                        + "(make a pair with ./carapace incident evidence-keys; the private key stays offline)");
            }
            return new EvidenceKeys(null, secrets);
        }
        Path path = Path.of(configuredPath);
        if (mode == Mode.DEV && !Files.exists(path)) {
            generateDevPair(path);
        }
        String json;
        try {
            json = Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException | UncheckedIOException e) {
            throw new Unusable(PUBLIC_KEY_PROPERTY + " cannot be read (" + e.getClass().getSimpleName() + ")");
        }
        try {
            return new EvidenceKeys(EvidenceBundle.readPublicKey(json), secrets);
        } catch (EvidenceBundle.Refused refused) {
            throw new Unusable(PUBLIC_KEY_PROPERTY + ": " + refused.getMessage());
        }
    }

    private static synchronized void generateDevPair(Path publicKey) {
        try {
            Path dir = publicKey.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            EvidenceBundle.KeyPair pair = EvidenceBundle.newKeyPair();
            Path privateKey = dir.resolve(DEV_PRIVATE_KEY);
            Path privateTemp = Files.createTempFile(dir, "private-", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(privateTemp, pair.privateKeysetJson());
            Path publicTemp = Files.createTempFile(dir, "public-", ".tmp");
            Files.writeString(publicTemp, pair.publicKeysetJson());
            Files.move(privateTemp, privateKey, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try {
                // the public key last: once it exists, its private key is beside it
                Files.createLink(publicKey, publicTemp);
            } catch (FileAlreadyExistsException another) {
                return; // another process made the pair first; its public key is the one in force
            } finally {
                Files.deleteIfExists(publicTemp);
            }
            log.warn("Evidence bundles are encrypted to a development key pair generated in the data directory; its "
                    + "private key lies beside it (start-dev only: start requires a public key whose private key is "
                    + "held offline)");
        } catch (IOException e) {
            throw new Unusable("Cannot generate the development evidence key pair (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** The public key bundles are encrypted to. */
    KeysetHandle recipient() {
        if (recipient == null) {
            throw new Unusable("No evidence public key is configured (" + PUBLIC_KEY_PROPERTY + "): no bundle can be made");
        }
        return recipient;
    }

    String recipientKeyId() {
        recipient();
        return recipientKeyId;
    }

    KeyPair signingKey() {
        KeyPair loaded = signingKey;
        if (loaded == null) {
            synchronized (this) {
                if (signingKey == null) {
                    signingKey = secrets.keyPair(SIGNING_KEY_NAME, "Ed25519", () -> {
                        try {
                            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
                        } catch (GeneralSecurityException e) {
                            throw new IllegalStateException("Cannot generate the evidence manifest key", e);
                        }
                    });
                }
                loaded = signingKey;
            }
        }
        return loaded;
    }

    @Override
    public List<AlgorithmUse> algorithmsInUse() {
        if (recipient == null) {
            return List.of();
        }
        return List.of(
                new AlgorithmUse("evidence bundle key (HPKE to the evidence public key)", Kind.KEY_WRAP, "AES-GCM", 256,
                        "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM; key " + recipientKeyId),
                new AlgorithmUse("evidence bundles", Kind.AEAD, "AES-GCM", 256, "Tink streaming AES256_GCM_HKDF_1MB"),
                AlgorithmUse.of("evidence bundle segment keys", Kind.KDF, "HKDF-SHA256", 256),
                AlgorithmUse.of("evidence manifest signing key", Kind.SIGNATURE, "Ed25519", 256),
                AlgorithmUse.of("evidence manifest", Kind.DIGEST, "SHA-256", 0));
    }
}
