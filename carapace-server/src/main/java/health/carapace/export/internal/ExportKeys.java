package health.carapace.export.internal;

import com.google.crypto.tink.KeyTemplates;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.StreamingAead;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.streamingaead.StreamingAeadConfig;
import health.carapace.crypto.KeyEncryptionKey;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.UUID;

/**
 * One key per export: a Tink streaming AEAD keyset (AES256_GCM_HKDF_1MB: segments of 1 MiB, each
 * authenticated, so a file is written and read as a stream and never held whole), stored only
 * encrypted by the KEK with the export's id as associated data. Each file is encrypted with its
 * export and file name as associated data, so a file cannot be passed off as another.
 */
final class ExportKeys {

    static {
        try {
            StreamingAeadConfig.register();
        } catch (GeneralSecurityException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final KeyEncryptionKey kek;

    ExportKeys(KeyEncryptionKey kek) {
        this.kek = kek;
    }

    String kekId() {
        return kek.id();
    }

    /** A new key for the export, wrapped by the KEK. */
    byte[] newWrappedKey(UUID job) throws GeneralSecurityException {
        KeysetHandle handle = KeysetHandle.generateNew(KeyTemplates.get("AES256_GCM_HKDF_1MB"));
        return TinkProtoKeysetFormat.serializeEncryptedKeyset(handle, kek, job.toString().getBytes(StandardCharsets.UTF_8));
    }

    StreamingAead open(UUID job, byte[] wrapped) throws GeneralSecurityException {
        return TinkProtoKeysetFormat.parseEncryptedKeyset(wrapped, kek, job.toString().getBytes(StandardCharsets.UTF_8))
                .getPrimitive(com.google.crypto.tink.RegistryConfiguration.get(), StreamingAead.class);
    }

    static byte[] fileAssociatedData(UUID job, String name) {
        return ("carapace-export/" + job + "/" + name).getBytes(StandardCharsets.UTF_8);
    }
}
