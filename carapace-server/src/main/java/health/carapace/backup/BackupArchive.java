package health.carapace.backup;

import com.google.crypto.tink.KeysetHandle;
import health.carapace.incident.EvidenceBundle;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The backup directory (ADR 0033): what is in it, how each file is sealed, and how a restore
 * checks it before anything is loaded. No Spring, no database.
 *
 * <pre>
 * phi.sql.gz.sealed        the PHI database (every schema but keyring): pg_dump's SQL, gzip, sealed
 * keyring.sql.gz.sealed    the keyring schema: pg_dump's SQL, gzip, sealed
 * manifest.json            format, time, who, consistency points, schema versions, key ids, and
 *                          per file its size and SHA-256 (of the sealed bytes) and its SQL size
 * manifest.sig             base64 Ed25519 over "carapace-backup-manifest/1\n" + manifest.json, by the
 *                          installation's backup signing key (KEK-wrapped in the keyring)
 * </pre>
 *
 * <p>The signing key's public half is <em>not</em> in the directory (ADR 0040): a key found next to
 * what it vouches for vouches for nothing, since whoever forges a backup writes their own. The
 * operator exports it once ({@code ./carapace backup signing-key}), keeps it apart from the
 * backups and pins its id ({@code carapace.backup.signing-key-id}); restore refuses a key file
 * inside the backup directory and a key other than the pinned one.
 *
 * <p>Sealing is the evidence bundle's (ADR 0028, {@link EvidenceBundle#encrypting}): a fresh Tink
 * streaming AEAD key (AES256_GCM_HKDF_1MB) per file, wrapped by HPKE (X25519, HKDF-SHA256,
 * AES-256-GCM) to the operator's backup public key; its private key stays offline and opens
 * the files at restore. The public key is public, so the encryption alone does not say who made a
 * file: the manifest signature does, checked against the signing key the operator pins.
 */
public final class BackupArchive {

    public static final String PHI_FILE = "phi.sql.gz.sealed";
    public static final String KEYRING_FILE = "keyring.sql.gz.sealed";
    public static final String MANIFEST = "manifest.json";
    public static final String MANIFEST_SIGNATURE = "manifest.sig";
    public static final String FORMAT = "carapace-backup-manifest";
    public static final int VERSION = 1;
    /** The two databases as the manifest names them. */
    public static final String PHI = "phi";
    public static final String KEYRING = "keyring";

    private static final byte[] SIGNATURE_DOMAIN = "carapace-backup-manifest/1\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_MANIFEST_BYTES = 64 * 1024;
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private BackupArchive() {
    }

    /**
     * What a backup holds.
     *
     * @param consistency {@code one-snapshot} (the keyring is a schema of the PHI database: both
     *     files are one snapshot) or {@code phi-then-keyring} (separate databases: the keyring's
     *     snapshot was taken after the PHI database's, with key jobs held off in between)
     * @param schemaVersions the last Flyway migration of each database ({@link #PHI}, {@link #KEYRING})
     * @param kekId the KEK version active when the backup was made (the keyring's keys need it)
     */
    public record Manifest(String format, int version, String madeAt, String madeBy, String consistency,
            String phiSnapshotAt, String keyringSnapshotAt, Map<String, String> schemaVersions, String kekId,
            String recipientKeyId, String signingKeyId, List<FileEntry> files) {

        public Manifest {
            schemaVersions = Map.copyOf(schemaVersions);
            files = List.copyOf(files);
        }

        public byte[] toBytes() {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
        }

        public FileEntry file(String database) {
            return files.stream().filter(f -> f.database().equals(database)).findFirst()
                    .orElseThrow(() -> new BackupRefused(BackupRefused.REFUSED,
                            "the manifest lists no file for the " + database + " database"));
        }
    }

    /**
     * @param bytes size of the sealed file; {@code sha256} lowercase hex of its bytes
     * @param sqlBytes size of the SQL inside (for progress); {@code tables} tables whose rows it holds
     */
    public record FileEntry(String name, String database, long bytes, String sha256, long sqlBytes, int tables) {}

    /** Starts a sealed file on {@code file}; what is written to the returned stream is gzipped, then sealed. */
    static OutputStream sealing(OutputStream file, KeysetHandle recipient) throws IOException {
        return new GZIPOutputStream(EvidenceBundle.encrypting(file, recipient), 64 * 1024);
    }

    /**
     * Opens a sealed file: the SQL inside. Reading throws an {@link IOException} where the
     * ciphertext does not authenticate (altered or truncated).
     */
    public static InputStream opening(Path file, KeysetHandle privateKey) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 64 * 1024);
        try {
            return new GZIPInputStream(EvidenceBundle.decrypting(in, privateKey), 64 * 1024);
        } catch (EvidenceBundle.Refused refused) {
            in.close();
            throw new BackupRefused(BackupRefused.REFUSED, file.getFileName() + " cannot be opened with this private "
                    + "key: it was sealed to another backup key, or its header was altered");
        } catch (IOException e) {
            in.close();
            throw new BackupRefused(BackupRefused.REFUSED, file.getFileName() + " does not authenticate: altered or "
                    + "truncated");
        }
    }

    /**
     * Checks a backup directory before anything is restored from it: the manifest's signature
     * against {@code signingKey}, its format, and each file's size and SHA-256. Returns the
     * manifest, or refuses naming the first problem.
     */
    public static Manifest verify(Path dir, PublicKey signingKey) {
        Manifest manifest = verifyManifest(dir, signingKey);
        verifyFiles(dir, manifest);
        return manifest;
    }

    /** The first half of {@link #verify}: the manifest's signature against {@code signingKey}, and its format. */
    public static Manifest verifyManifest(Path dir, PublicKey signingKey) {
        byte[] manifestBytes = readSmall(dir.resolve(MANIFEST));
        byte[] signature = readSmall(dir.resolve(MANIFEST_SIGNATURE));
        if (!signatureHolds(signingKey, manifestBytes, signature)) {
            throw new BackupRefused(BackupRefused.REFUSED, "the manifest's signature does not verify with the given "
                    + "signing key: the manifest was altered, or the backup was not made by this installation");
        }
        Manifest manifest;
        try {
            manifest = JSON.readValue(manifestBytes, Manifest.class);
        } catch (JacksonException e) {
            throw new BackupRefused(BackupRefused.REFUSED, "the manifest is signed but cannot be read");
        }
        if (!FORMAT.equals(manifest.format()) || manifest.version() != VERSION) {
            throw new BackupRefused(BackupRefused.REFUSED, "the manifest is not a version " + VERSION
                    + " Carapace backup manifest");
        }
        for (String database : List.of(KEYRING, PHI)) {
            FileEntry entry = manifest.file(database);
            if (!entry.name().equals(database.equals(PHI) ? PHI_FILE : KEYRING_FILE)) {
                throw new BackupRefused(BackupRefused.REFUSED, "the manifest names an unexpected file for " + database);
            }
        }
        return manifest;
    }

    /**
     * The second half of {@link #verify}: each file's size and SHA-256 against {@code manifest}
     * (from {@link #verifyManifest}). What is loaded afterwards must be read from these same
     * files, in a directory no one else can write ({@link #privateCopy}).
     */
    public static void verifyFiles(Path dir, Manifest manifest) {
        for (String database : List.of(KEYRING, PHI)) {
            FileEntry entry = manifest.file(database);
            Path file = dir.resolve(entry.name());
            long size;
            try {
                size = Files.size(file);
            } catch (IOException e) {
                throw new BackupRefused(BackupRefused.REFUSED, entry.name() + " is missing from the backup");
            }
            if (size != entry.bytes()) {
                throw new BackupRefused(BackupRefused.REFUSED, entry.name() + " has " + size + " bytes, the manifest "
                        + "says " + entry.bytes() + ": " + (size < entry.bytes() ? "truncated" : "altered"));
            }
            if (!sha256(file).equals(entry.sha256())) {
                throw new BackupRefused(BackupRefused.REFUSED, entry.name() + " does not match its SHA-256 in the "
                        + "manifest: altered");
            }
        }
    }

    /**
     * A new directory only the current user can use (rwx------) to copy a backup into before it is
     * verified: the files a restore checks and then loads are these copies, which no one who can
     * write the backup directory can swap in between (ADR 0033). Only the sealed bytes are copied,
     * never anything decrypted. Remove it with {@link #deletePrivateCopy}.
     */
    public static Path privateDirectory() {
        try {
            return Files.createTempDirectory("carapace-restore-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException | UnsupportedOperationException e) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "no private temporary directory can be made for the "
                    + "backup's files (java.io.tmpdir, on a file system with POSIX permissions)");
        }
    }

    /**
     * Copies {@code names} from {@code from} into {@code copies} (from {@link #privateDirectory}).
     * A name that is not a regular file in {@code from} is not copied: the verification of the
     * copies reports it missing.
     */
    public static void privateCopy(Path from, Path copies, List<String> names) {
        for (String name : names) {
            Path source = from.resolve(name);
            if (!Files.isRegularFile(source)) {
                continue;
            }
            try {
                Files.copy(source, copies.resolve(name));
            } catch (IOException e) {
                throw new BackupRefused(BackupRefused.FAILED, name + " cannot be copied into the private directory "
                        + copies + " (room in java.io.tmpdir?)");
            }
        }
    }

    /** Deletes a directory made by {@link #privateDirectory} and the copies in it; a failure is only reported. */
    public static void deletePrivateCopy(Path copies, Progress progress) {
        try (var files = Files.list(copies)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(copies);
        } catch (IOException e) {
            progress.report("could not delete the private copies in " + copies + ": delete that directory");
        }
    }

    /** The backup private key (a Tink JSON keyset of one HPKE X25519 private key). */
    public static KeysetHandle readPrivateKey(String keysetJson) {
        try {
            return EvidenceBundle.readPrivateKey(keysetJson);
        } catch (EvidenceBundle.Refused refused) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "the private key file does not hold a backup private key "
                    + "(HPKE X25519, made by ./carapace backup keys)");
        }
    }

    /** The backup public key (a Tink JSON keyset of one HPKE X25519 public key); a private keyset is refused. */
    public static KeysetHandle readPublicKey(String keysetJson) {
        try {
            return EvidenceBundle.readPublicKey(keysetJson);
        } catch (EvidenceBundle.Refused refused) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "the backup public key is not a Tink JSON public keyset "
                    + "of one HPKE X25519 key (make a pair with ./carapace backup keys; a private keyset is refused)");
        }
    }

    /** A new backup key pair: Tink JSON keysets, private then public. */
    public static EvidenceBundle.KeyPair newKeyPair() {
        return EvidenceBundle.newKeyPair();
    }

    /** Names an HPKE key (public or private) by the SHA-256 of its public key bytes. */
    public static String keyId(KeysetHandle key) {
        return EvidenceBundle.keyId(key);
    }

    /** An Ed25519 public key from its PEM ({@code -----BEGIN PUBLIC KEY-----}). */
    public static PublicKey readSigningKey(String pem) {
        try {
            String body = pem.replaceAll("-----(BEGIN|END) PUBLIC KEY-----", "").replaceAll("\\s", "");
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(body)));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "the signing key file is not an Ed25519 public key in PEM "
                    + "(export it with ./carapace backup signing-key and keep it apart from the backups)");
        }
    }

    /** The PEM of a signing public key. */
    public static String pem(PublicKey key) {
        return EvidenceBundle.pem(key);
    }

    /**
     * The manifest-signing key a restore may trust: {@code keyFile} (never a file inside the backup
     * directory {@code from}, however it is reached: a key that travels with a backup is the forger's
     * if the backup is forged), and, when {@code pinnedId} is set ({@code carapace.backup.signing-key-id}),
     * only the key of that id.
     */
    public static PublicKey trustedSigningKey(Path keyFile, Path from, String pinnedId) {
        Path key;
        Path directory;
        try {
            key = keyFile.toRealPath();
            directory = from.toRealPath();
        } catch (IOException e) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "--signing-key or --from cannot be read");
        }
        if (key.startsWith(directory)) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "--signing-key is inside the backup directory: a key that "
                    + "travels with a backup proves nothing (a forged backup brings its own); give the key exported "
                    + "with ./carapace backup signing-key and kept apart from the backups");
        }
        PublicKey signingKey;
        try {
            signingKey = readSigningKey(Files.readString(key, StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "--signing-key cannot be read");
        }
        String id = signingKeyId(signingKey);
        if (pinnedId != null && !pinnedId.isBlank() && !pinnedId.strip().equalsIgnoreCase(id)) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "--signing-key is not the pinned backup signing key: "
                    + "carapace.backup.signing-key-id is " + shortId(pinnedId) + ", the file given holds " + id);
        }
        return signingKey;
    }

    /** A configured id, shown shortened and only if it has the shape of an id (it is configuration, not input). */
    private static String shortId(String pinnedId) {
        String id = pinnedId.strip();
        return id.matches("[0-9a-fA-F]{64}") ? id.toLowerCase(java.util.Locale.ROOT) : "not a 64-digit hex key id";
    }

    /** Lowercase hex SHA-256 of a signing key's X.509 encoding: the key's id. */
    public static String signingKeyId(PublicKey key) {
        return HexFormat.of().formatHex(digest().digest(key.getEncoded()));
    }

    static byte[] sign(PrivateKey key, byte[] manifest) {
        try {
            Signature signature = Signature.getInstance("Ed25519");
            signature.initSign(key);
            signature.update(SIGNATURE_DOMAIN);
            signature.update(manifest);
            return Base64.getEncoder().encode(signature.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Cannot sign the backup manifest", e);
        }
    }

    static boolean signatureHolds(PublicKey key, byte[] manifest, byte[] signatureBase64) {
        try {
            Signature signature = Signature.getInstance("Ed25519");
            signature.initVerify(key);
            signature.update(SIGNATURE_DOMAIN);
            signature.update(manifest);
            return signature.verify(Base64.getDecoder().decode(new String(signatureBase64, StandardCharsets.US_ASCII).strip()));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    static String sha256(Path file) {
        MessageDigest digest = digest();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new BackupRefused(BackupRefused.REFUSED, file.getFileName() + " cannot be read");
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] readSmall(Path file) {
        try {
            if (Files.size(file) > MAX_MANIFEST_BYTES) {
                throw new BackupRefused(BackupRefused.REFUSED, file.getFileName() + " is too large to be a manifest");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new BackupRefused(BackupRefused.REFUSED, file.getFileName() + " is missing: not a Carapace backup "
                    + "directory");
        } catch (IOException e) {
            throw new BackupRefused(BackupRefused.REFUSED, file.getFileName() + " cannot be read");
        }
    }
}
