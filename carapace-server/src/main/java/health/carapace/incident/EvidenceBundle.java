package health.carapace.incident;

import com.google.crypto.tink.HybridDecrypt;
import com.google.crypto.tink.HybridEncrypt;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.Key;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.StreamingAead;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.hybrid.HpkeParameters;
import com.google.crypto.tink.hybrid.HpkePrivateKey;
import com.google.crypto.tink.hybrid.HpkePublicKey;
import com.google.crypto.tink.hybrid.HybridConfig;
import com.google.crypto.tink.streamingaead.PredefinedStreamingAeadParameters;
import com.google.crypto.tink.streamingaead.StreamingAeadConfig;
import health.carapace.platform.logging.SafeMessage;
import health.carapace.verify.BundleReport;
import health.carapace.verify.BundleVerificationException;
import health.carapace.verify.BundleVerifier;
import health.carapace.verify.TreeHeadVerifier;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The evidence bundle file (ADR 0028): what is in it, how it is sealed, and how the compliance
 * officer opens and checks it offline with the private key. No Spring, no database: {@code
 * ./carapace incident evidence-open} runs this on a machine that has only the bundle and the key.
 *
 * <pre>
 * "CARAPACE-EVID-1\n"              16 bytes, ASCII
 * L                                4 bytes, big-endian, 1..4096
 * wrapped key                      L bytes: Tink HPKE (DHKEM_X25519_HKDF_SHA256, HKDF_SHA256, AES_256_GCM)
 *                                  of a fresh Tink streaming AEAD keyset (AES256_GCM_HKDF_1MB), context
 *                                  info "carapace-evidence-bundle/1"
 * ciphertext                       the rest: Tink streaming AEAD, associated data = the 20 + L bytes above,
 *                                  of a ZIP archive: the files, then manifest.json, manifest.sig and
 *                                  manifest-signing-key.pem
 * </pre>
 *
 * <p>The manifest lists every file with its SHA-256 and size; {@code manifest.sig} is the base64
 * Ed25519 signature over {@code "carapace-evidence-manifest/1\n"} followed by the manifest bytes.
 * The encryption keeps the contents secret (a heap dump holds PHI in clear) and authenticates them
 * to whoever holds the private key, but the public key is public: anyone could seal a bundle. The
 * manifest signature, checked against the server's signing key (its id is in the custody record),
 * is what says the server made it.
 */
public final class EvidenceBundle {

    public static final String MANIFEST = "manifest.json";
    public static final String MANIFEST_SIGNATURE = "manifest.sig";
    public static final String SIGNING_KEY = "manifest-signing-key.pem";
    /** Where the audit export sits inside the bundle (carapace-verify's format). */
    public static final String AUDIT_DIRECTORY = "audit";
    public static final String FORMAT = "carapace-evidence-manifest";

    static final byte[] MAGIC = "CARAPACE-EVID-1\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONTEXT_INFO = "carapace-evidence-bundle/1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SIGNATURE_DOMAIN = "carapace-evidence-manifest/1\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_WRAPPED_KEY = 4096;
    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> PRIVATE_DIRECTORY =
            PosixFilePermissions.fromString("rwx------");
    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> PRIVATE_FILE =
            PosixFilePermissions.fromString("rw-------");
    /** File names inside a bundle: lowercase path segments, no "..", no absolute paths. */
    private static final Pattern ENTRY = Pattern.compile("[a-z0-9][a-z0-9._-]{0,99}(/[a-z0-9][a-z0-9._-]{0,99}){0,3}");
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    /** The only parameters an evidence key may have: HPKE, X25519, HKDF-SHA256, AES-256-GCM. */
    public static final HpkeParameters KEY_PARAMETERS;

    static {
        try {
            HybridConfig.register();
            StreamingAeadConfig.register();
            KEY_PARAMETERS = HpkeParameters.builder()
                    .setKemId(HpkeParameters.KemId.DHKEM_X25519_HKDF_SHA256)
                    .setKdfId(HpkeParameters.KdfId.HKDF_SHA256)
                    .setAeadId(HpkeParameters.AeadId.AES_256_GCM)
                    .setVariant(HpkeParameters.Variant.NO_PREFIX)
                    .build();
        } catch (GeneralSecurityException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private EvidenceBundle() {
    }

    /** The signed manifest: every file of the bundle with its hash, and what the bundle is. */
    public record Manifest(String format, int version, String bundle, String incident, String madeAt, String madeBy,
            String windowFrom, String windowTo, String recipientKeyId, String signingKeyId, List<FileEntry> files,
            List<String> notes) {

        public Manifest {
            files = List.copyOf(files);
            notes = List.copyOf(notes);
        }

        public byte[] toBytes() {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
        }

        public static Manifest parse(byte[] bytes) {
            return JSON.readValue(bytes, Manifest.class);
        }
    }

    /** One file of a bundle: its name inside the archive, lowercase hex SHA-256 and size. */
    public record FileEntry(String name, String sha256, long bytes) {}

    /** A bundle that cannot be opened or that fails a check; the message says which, precisely. */
    public static final class Refused extends Exception implements SafeMessage {
        private static final long serialVersionUID = 1L;
        private final List<String> problems;

        public Refused(List<String> problems) {
            super(String.join("\n", problems), null, false, false);
            this.problems = List.copyOf(problems);
        }

        Refused(String problem) {
            this(List.of(problem));
        }

        public List<String> problems() {
            return problems;
        }
    }

    /** A key pair for the evidence: the private keyset (for the compliance officer, offline) and the public one. */
    public record KeyPair(String privateKeysetJson, String publicKeysetJson) {}

    public static KeyPair newKeyPair() {
        try {
            KeysetHandle handle = KeysetHandle.generateNew(KEY_PARAMETERS);
            return new KeyPair(TinkJsonProtoKeysetFormat.serializeKeyset(handle, InsecureSecretKeyAccess.get()),
                    TinkJsonProtoKeysetFormat.serializeKeysetWithoutSecret(handle.getPublicKeysetHandle()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Cannot generate an evidence key pair", e);
        }
    }

    /**
     * Reads an evidence public key: a Tink JSON keyset of one HPKE public key with {@link
     * #KEY_PARAMETERS}. A keyset holding a private key is refused: that one stays offline.
     */
    public static KeysetHandle readPublicKey(String keysetJson) throws Refused {
        KeysetHandle handle;
        try {
            handle = TinkJsonProtoKeysetFormat.parseKeysetWithoutSecret(keysetJson);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new Refused("the evidence public key is not a Tink JSON public keyset (a keyset holding the private "
                    + "key is refused: the private key stays with the compliance officer)");
        }
        Key key = onlyKey(handle, "public");
        if (!(key instanceof HpkePublicKey) || !KEY_PARAMETERS.equals(key.getParameters())) {
            throw new Refused("the evidence public key must be HPKE DHKEM_X25519_HKDF_SHA256 / HKDF_SHA256 / AES_256_GCM "
                    + "without prefix (make one with ./carapace incident evidence-keys)");
        }
        return handle;
    }

    /** Reads the compliance officer's private key (a Tink JSON keyset of one HPKE private key). */
    public static KeysetHandle readPrivateKey(String keysetJson) throws Refused {
        KeysetHandle handle;
        try {
            handle = TinkJsonProtoKeysetFormat.parseKeyset(keysetJson, InsecureSecretKeyAccess.get());
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new Refused("the private key file is not a Tink JSON keyset");
        }
        Key key = onlyKey(handle, "private");
        if (!(key instanceof HpkePrivateKey) || !KEY_PARAMETERS.equals(key.getParameters())) {
            throw new Refused("the private key file does not hold an evidence private key (HPKE X25519)");
        }
        return handle;
    }

    private static Key onlyKey(KeysetHandle handle, String what) throws Refused {
        if (handle.size() != 1) {
            throw new Refused("the evidence " + what + " keyset must hold exactly one key");
        }
        return handle.getPrimary().getKey();
    }

    /** Lowercase hex SHA-256 of the HPKE public key's bytes: names the key in manifests and custody records. */
    public static String keyId(KeysetHandle publicOrPrivate) {
        Key key = publicOrPrivate.getPrimary().getKey();
        HpkePublicKey publicKey = key instanceof HpkePrivateKey privateKey ? privateKey.getPublicKey() : (HpkePublicKey) key;
        return sha256Hex(publicKey.getPublicKeyBytes().toByteArray());
    }

    /**
     * Starts a bundle on {@code out}: writes the header and returns the stream to write the ZIP
     * archive into. Closing the returned stream finishes the ciphertext (and closes {@code out}).
     */
    public static OutputStream encrypting(OutputStream out, KeysetHandle publicKey) throws IOException {
        try {
            KeysetHandle bundleKey = KeysetHandle.generateNew(PredefinedStreamingAeadParameters.AES256_GCM_HKDF_1MB);
            byte[] serialized = TinkProtoKeysetFormat.serializeKeyset(bundleKey, InsecureSecretKeyAccess.get());
            byte[] wrapped = publicKey.getPrimitive(RegistryConfiguration.get(), HybridEncrypt.class)
                    .encrypt(serialized, CONTEXT_INFO);
            Arrays.fill(serialized, (byte) 0);
            byte[] header = ByteBuffer.allocate(MAGIC.length + 4 + wrapped.length)
                    .put(MAGIC).putInt(wrapped.length).put(wrapped).array();
            out.write(header);
            return bundleKey.getPrimitive(RegistryConfiguration.get(), StreamingAead.class)
                    .newEncryptingStream(out, header);
        } catch (GeneralSecurityException e) {
            throw new IOException("Cannot seal the evidence bundle", e);
        }
    }

    /**
     * Opens a bundle's encryption: reads the header from {@code in} and returns the ZIP archive's
     * plaintext. Reading it throws an {@link IOException} where the ciphertext does not authenticate.
     */
    public static InputStream decrypting(InputStream in, KeysetHandle privateKey) throws IOException, Refused {
        DataInputStream data = new DataInputStream(in);
        byte[] magic = new byte[MAGIC.length];
        int length;
        try {
            data.readFully(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new Refused("not an evidence bundle (its first bytes are not CARAPACE-EVID-1)");
            }
            length = data.readInt();
        } catch (EOFException e) {
            throw new Refused("not an evidence bundle (shorter than its header)");
        }
        if (length < 1 || length > MAX_WRAPPED_KEY) {
            throw new Refused("the bundle's header is damaged (wrapped key length out of range)");
        }
        byte[] wrapped = new byte[length];
        try {
            data.readFully(wrapped);
        } catch (EOFException e) {
            throw new Refused("the bundle is truncated inside its header");
        }
        byte[] header = ByteBuffer.allocate(MAGIC.length + 4 + length).put(MAGIC).putInt(length).put(wrapped).array();
        StreamingAead bundleKey;
        try {
            byte[] serialized = privateKey.getPrimitive(RegistryConfiguration.get(), HybridDecrypt.class)
                    .decrypt(wrapped, CONTEXT_INFO);
            bundleKey = TinkProtoKeysetFormat.parseKeyset(serialized, InsecureSecretKeyAccess.get())
                    .getPrimitive(RegistryConfiguration.get(), StreamingAead.class);
            Arrays.fill(serialized, (byte) 0);
        } catch (GeneralSecurityException e) {
            throw new Refused("this private key does not open the bundle: it was sealed to another evidence key, "
                    + "or its key block was altered");
        }
        try {
            return bundleKey.newDecryptingStream(in, header);
        } catch (GeneralSecurityException e) {
            throw new Refused("the bundle's encrypted stream header does not authenticate: altered or truncated");
        }
    }

    /** Signs a manifest (Ed25519 over the domain prefix and the manifest bytes); base64 of the signature. */
    public static byte[] signManifest(PrivateKey key, byte[] manifest) {
        try {
            Signature signature = Signature.getInstance("Ed25519");
            signature.initSign(key);
            signature.update(SIGNATURE_DOMAIN);
            signature.update(manifest);
            return Base64.getEncoder().encode(signature.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Cannot sign the evidence manifest", e);
        }
    }

    static boolean manifestSignatureHolds(PublicKey key, byte[] manifest, byte[] signatureBase64) {
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

    /**
     * What {@link #open} established.
     *
     * @param audit what carapace-verify proved of the audit export, or null when the bundle has none
     */
    public record Opened(Manifest manifest, String signingKeyId, boolean signingKeyPinned, AuditProof audit,
            boolean auditKeyPinned, List<String> files) {}

    /**
     * The audit export's verification: events {@code firstLeaf} to {@code endLeaf - 1}, each included
     * in a tree head signed by {@code keyId}, the largest of size {@code treeSize} signed at {@code signedAt}.
     */
    public record AuditProof(long firstLeaf, long endLeaf, long treeSize, Instant signedAt, String keyId) {
        public long events() {
            return endLeaf - firstLeaf;
        }
    }

    /**
     * Decrypts {@code bundle} into {@code outDir} (which must not exist or be empty) and checks it:
     * the manifest signature, every file's hash against the manifest (and no file outside it), and
     * the audit export with carapace-verify. Files that decrypted stay in {@code outDir} whatever
     * the outcome, so that an investigator can look at what was altered.
     *
     * @param trustedSigningKey the server's manifest signing key from elsewhere (PEM), or null to
     *     check against the key inside the bundle only (then compare its id with the custody record)
     * @param trustedAuditKey the published audit key (PEM), or null to use the export's own
     * @throws Refused naming every problem found: the wrong key, an altered byte, a missing file
     */
    public static Opened open(Path bundle, KeysetHandle privateKey, Path outDir, String trustedSigningKey,
            String trustedAuditKey) throws IOException, Refused {
        if (Files.exists(outDir) && !isEmptyDirectory(outDir)) {
            throw new Refused("the output directory exists and is not empty");
        }
        Map<String, FileEntry> extracted = new TreeMap<>();
        try (InputStream file = Files.newInputStream(bundle)) {
            InputStream plain = new Authenticated(decrypting(file, privateKey));
            // A heap dump is PHI in clear: the decrypted files are the officer's alone (0700 / 0600).
            if (!Files.exists(outDir)) {
                Files.createDirectory(outDir, PosixFilePermissions.asFileAttribute(PRIVATE_DIRECTORY));
            }
            try (ZipInputStream zip = new ZipInputStream(plain)) {
                for (ZipEntry entry; (entry = zip.getNextEntry()) != null; ) {
                    String name = entry.getName();
                    if (entry.isDirectory() || !ENTRY.matcher(name).matches() || name.contains("..")) {
                        throw new Refused("the bundle holds an entry with a name outside the bundle format");
                    }
                    if (extracted.containsKey(name)) {
                        throw new Refused(name + ": present twice in the bundle");
                    }
                    Path target = outDir.resolve(name);
                    Path dir = outDir;
                    for (Path part : outDir.relativize(target.getParent())) {
                        dir = dir.resolve(part);
                        if (!part.toString().isEmpty() && !Files.isDirectory(dir)) {
                            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PRIVATE_DIRECTORY));
                        }
                    }
                    MessageDigest sha256 = sha256();
                    long size;
                    try (OutputStream out = new DigestOutputStream(Files.newOutputStream(Files.createFile(target,
                            PosixFilePermissions.asFileAttribute(PRIVATE_FILE))), sha256)) {
                        size = zip.transferTo(out);
                    }
                    extracted.put(name, new FileEntry(name, HexFormat.of().formatHex(sha256.digest()), size));
                }
            } catch (Authenticated.Failed e) {
                throw new Refused("the bundle's encrypted stream does not authenticate after "
                        + extracted.size() + " intact files: it was altered or truncated");
            } catch (java.util.zip.ZipException e) {
                throw new Refused("the bundle's archive is malformed after " + extracted.size() + " files");
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new Refused("the bundle file does not exist");
        }
        return check(outDir, extracted, trustedSigningKey, trustedAuditKey);
    }

    private static Opened check(Path outDir, Map<String, FileEntry> extracted, String trustedSigningKey,
            String trustedAuditKey) throws IOException, Refused {
        for (String required : List.of(MANIFEST, MANIFEST_SIGNATURE, SIGNING_KEY)) {
            if (!extracted.containsKey(required)) {
                throw new Refused(required + ": missing from the bundle");
            }
        }
        byte[] manifestBytes = Files.readAllBytes(outDir.resolve(MANIFEST));
        PublicKey bundled = ed25519(Files.readString(outDir.resolve(SIGNING_KEY), StandardCharsets.US_ASCII),
                SIGNING_KEY + ": not an Ed25519 public key");
        PublicKey signingKey = trustedSigningKey == null ? bundled
                : ed25519(trustedSigningKey, "the given signing key is not an Ed25519 public key (PEM)");
        List<String> problems = new ArrayList<>();
        if (trustedSigningKey != null && !Arrays.equals(bundled.getEncoded(), signingKey.getEncoded())) {
            problems.add(SIGNING_KEY + ": not the given signing key (the bundle was signed by another key)");
        }
        if (!manifestSignatureHolds(signingKey, manifestBytes, Files.readAllBytes(outDir.resolve(MANIFEST_SIGNATURE)))) {
            problems.add(MANIFEST + ": the signature does not verify (manifest or signature altered)");
            throw new Refused(problems);
        }
        Manifest manifest;
        try {
            manifest = Manifest.parse(manifestBytes);
        } catch (JacksonException e) {
            throw new Refused(MANIFEST + ": signed but not a manifest of this format");
        }
        if (!FORMAT.equals(manifest.format()) || manifest.version() != 1) {
            throw new Refused(MANIFEST + ": format " + FORMAT + " version 1 expected");
        }
        Map<String, FileEntry> listed = new LinkedHashMap<>();
        for (FileEntry entry : manifest.files()) {
            listed.put(entry.name(), entry);
        }
        for (FileEntry entry : listed.values()) {
            FileEntry found = extracted.get(entry.name());
            if (found == null) {
                problems.add(entry.name() + ": listed in the signed manifest but missing from the bundle");
            } else if (!found.sha256().equals(entry.sha256()) || found.bytes() != entry.bytes()) {
                problems.add(entry.name() + ": SHA-256 " + found.sha256() + " (" + found.bytes()
                        + " bytes) differs from the signed manifest's " + entry.sha256() + " (" + entry.bytes()
                        + " bytes): the file was altered");
            }
        }
        for (String name : extracted.keySet()) {
            if (!listed.containsKey(name) && !List.of(MANIFEST, MANIFEST_SIGNATURE, SIGNING_KEY).contains(name)) {
                problems.add(name + ": in the bundle but not in the signed manifest");
            }
        }
        if (!problems.isEmpty()) {
            throw new Refused(problems);
        }
        AuditProof audit = null;
        Path auditDir = outDir.resolve(AUDIT_DIRECTORY);
        if (Files.isDirectory(auditDir)) {
            try {
                TreeHeadVerifier key = trustedAuditKey != null ? TreeHeadVerifier.fromPem(trustedAuditKey)
                        : BundleVerifier.readBundlePublicKey(auditDir);
                BundleReport report = BundleVerifier.trusting(key).verify(auditDir);
                audit = new AuditProof(report.firstLeafIndex(), report.endLeafIndex(), report.largestTreeSize(),
                        Instant.ofEpochMilli(report.lastTimestampMillis()), report.keyId());
            } catch (BundleVerificationException e) {
                throw new Refused(AUDIT_DIRECTORY + "/" + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw new Refused("the given audit public key is not an Ed25519 public key (PEM)");
            }
        }
        return new Opened(manifest, sha256Hex(signingKey.getEncoded()), trustedSigningKey != null, audit,
                trustedAuditKey != null, List.copyOf(extracted.keySet()));
    }

    /** Tells a read of the decrypting stream that failed (altered, truncated) from a write that failed. */
    private static final class Authenticated extends java.io.FilterInputStream {
        static final class Failed extends IOException {
            private static final long serialVersionUID = 1L;

            Failed(IOException cause) {
                super("the encrypted stream does not authenticate", cause);
            }
        }

        Authenticated(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                throw new Failed(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (IOException e) {
                throw new Failed(e);
            }
        }
    }

    private static PublicKey ed25519(String pem, String problem) throws Refused {
        try {
            byte[] der = TreeHeadVerifier.fromPem(pem).subjectPublicKeyInfo();
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new Refused(problem);
        }
    }

    private static boolean isEmptyDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    /** The PEM of an Ed25519 public key, as written to {@link #SIGNING_KEY}. */
    public static String pem(PublicKey key) {
        return TreeHeadVerifier.fromPublicKey(key).toPem();
    }

}
