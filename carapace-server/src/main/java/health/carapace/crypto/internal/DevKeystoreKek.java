package health.carapace.crypto.internal;

import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyUnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;

/**
 * Development KEK: an AES-256 key in a PKCS#12 keystore protected by a generated passphrase,
 * both files 0600 in a 0700 directory. For {@code start-dev} only; {@code start} refuses it,
 * because the passphrase sits beside the keystore.
 */
public final class DevKeystoreKek extends JceKeyEncryptionKey {

    static final String KEYSTORE_FILE = "kek.p12";
    static final String PASSPHRASE_FILE = "kek.passphrase";
    static final String ALIAS = "kek-1";

    private final String alias;

    private DevKeystoreKek(SecretKey key, String alias) {
        super(key, null);
        this.alias = alias;
    }

    /**
     * Opens the keystore in {@code dir}; creates it only when {@code mayCreate} (an empty keyring).
     * A missing keystore next to a non-empty keyring is an error, never a reason to make a new key.
     */
    public static DevKeystoreKek open(Path dir, boolean mayCreate) {
        Path keystore = dir.resolve(KEYSTORE_FILE);
        Path passphraseFile = dir.resolve(PASSPHRASE_FILE);
        try {
            if (!Files.exists(keystore)) {
                if (!mayCreate) {
                    throw new KeyUnavailableException("The keyring holds keys wrapped by the dev KEK, but the dev keystore "
                            + keystore.toAbsolutePath() + " is missing: encrypted records cannot be read. "
                            + "Restore the keystore (and its passphrase file) from backup.");
                }
                create(dir, keystore, passphraseFile);
            }
            char[] passphrase = Files.readString(passphraseFile, StandardCharsets.US_ASCII).trim().toCharArray();
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keystore)) {
                ks.load(in, passphrase);
            }
            SecretKey key = (SecretKey) ks.getKey(ALIAS, passphrase);
            if (key == null) {
                throw new KeyUnavailableException("The dev keystore " + keystore.toAbsolutePath() + " holds no KEK");
            }
            return new DevKeystoreKek(key, ALIAS);
        } catch (IOException | GeneralSecurityException e) {
            throw new KeyUnavailableException("Cannot open the dev keystore " + keystore.toAbsolutePath(), e);
        }
    }

    /**
     * Opens the KEK version stored under {@code alias} ({@code kek-<n>}); with {@code mayCreate},
     * generates it first if the keystore lacks it. The keystore file is rewritten through a
     * temporary file and an atomic rename, so a crash leaves either the old or the new file.
     */
    static synchronized DevKeystoreKek version(Path dir, String alias, boolean mayCreate) {
        Path keystore = dir.resolve(KEYSTORE_FILE);
        Path passphraseFile = dir.resolve(PASSPHRASE_FILE);
        try {
            char[] passphrase = Files.readString(passphraseFile, StandardCharsets.US_ASCII).trim().toCharArray();
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keystore)) {
                ks.load(in, passphrase);
            }
            SecretKey key = (SecretKey) ks.getKey(alias, passphrase);
            if (key == null && mayCreate) {
                KeyGenerator generator = KeyGenerator.getInstance("AES");
                generator.init(256);
                key = generator.generateKey();
                ks.setEntry(alias, new KeyStore.SecretKeyEntry(key), new KeyStore.PasswordProtection(passphrase));
                Path tmp = dir.resolve(KEYSTORE_FILE + ".new");
                Files.deleteIfExists(tmp);
                try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW)) {
                    restrict(tmp, "rw-------");
                    ks.store(out, passphrase);
                }
                Files.move(tmp, keystore, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            if (key == null) {
                throw new KeyUnavailableException("The dev keystore " + keystore.toAbsolutePath()
                        + " holds no KEK version " + alias);
            }
            return new DevKeystoreKek(key, alias);
        } catch (IOException | GeneralSecurityException e) {
            throw new KeyUnavailableException("Cannot open the dev keystore " + keystore.toAbsolutePath(), e);
        }
    }

    private static void create(Path dir, Path keystore, Path passphraseFile)
            throws IOException, GeneralSecurityException {
        Files.createDirectories(dir);
        restrict(dir, "rwx------");
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        String passphrase = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        writePrivate(passphraseFile, passphrase.getBytes(StandardCharsets.US_ASCII));

        KeyGenerator generator = KeyGenerator.getInstance("AES");
        generator.init(256);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setEntry(ALIAS, new KeyStore.SecretKeyEntry(generator.generateKey()),
                new KeyStore.PasswordProtection(passphrase.toCharArray()));
        Path tmp = dir.resolve(KEYSTORE_FILE + ".new");
        try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW)) {
            restrict(tmp, "rw-------");
            ks.store(out, passphrase.toCharArray());
        }
        Files.move(tmp, keystore);
    }

    static void writePrivate(Path file, byte[] content) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file);
        restrict(file, "rw-------");
        Files.write(file, content);
    }

    private static void restrict(Path path, String perms) throws IOException {
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(perms));
        } catch (UnsupportedOperationException notPosix) {
            // Non-POSIX file systems (Windows) rely on the directory ACL; dev mode only.
        }
    }

    @Override
    public String id() {
        return "dev-keystore/" + alias;
    }
}
