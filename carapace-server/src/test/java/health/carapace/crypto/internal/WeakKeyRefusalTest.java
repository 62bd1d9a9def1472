package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import com.google.crypto.tink.prf.PrfConfig;
import health.carapace.CarapaceApplication;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.platform.config.AlgorithmHygiene;
import health.carapace.platform.config.AlgorithmUse;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.testing.SoftHsm;
import health.carapace.testing.TestInstallation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.UUID;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The algorithm check refuses weak keys of the crypto module: each weak configuration on its own.
 * The last test plants a weak data keyset in a real keyring and shows that the server refuses
 * to start on it.
 */
class WeakKeyRefusalTest {

    @BeforeAll
    static void tink() throws GeneralSecurityException {
        AeadConfig.register();
        PrfConfig.register();
    }

    @Test
    void theDataKeyTemplateAndTheIndexRootPass() throws GeneralSecurityException {
        List<AlgorithmUse> uses = TinkAlgorithms.describe("data", KeysetHandle.generateNew(PatientKeyring.DATA_KEY_TEMPLATE));
        assertThat(uses).extracting(AlgorithmUse::algorithm, AlgorithmUse::bits).containsExactly(
                org.assertj.core.groups.Tuple.tuple("AES-GCM", 256));
        AlgorithmHygiene.check(uses);
        AlgorithmHygiene.check(TinkAlgorithms.describe("index", KeysetHandle.generateNew(
                com.google.crypto.tink.prf.PredefinedPrfParameters.HKDF_SHA256)));
    }

    @Test
    void anAes128GcmKeysetIsRefused() throws GeneralSecurityException {
        KeysetHandle weak = KeysetHandle.generateNew(PredefinedAeadParameters.AES128_GCM);

        assertThatThrownBy(() -> AlgorithmHygiene.check(TinkAlgorithms.describe("data", weak)))
                .isInstanceOf(AlgorithmHygiene.WeakAlgorithms.class)
                .hasMessageContaining("AES-GCM (128-bit)").hasMessageContaining("AES keys below 256 bits are refused");
        assertThatThrownBy(() -> TinkAlgorithms.requireAllowed("data", weak)).isInstanceOf(KeyUnavailableException.class);
    }

    @Test
    void anAesCtrHmacKeysetIsRefused() throws GeneralSecurityException {
        KeysetHandle weak = KeysetHandle.generateNew(PredefinedAeadParameters.AES128_CTR_HMAC_SHA256);

        assertThatThrownBy(() -> AlgorithmHygiene.check(TinkAlgorithms.describe("data", weak)))
                .isInstanceOf(AlgorithmHygiene.WeakAlgorithms.class)
                .hasMessageContaining("AES-CTR-HMAC-SHA256").hasMessageContaining("not an allowed AEAD");
    }

    @Test
    void aStrongPrimaryDoesNotHideAnOldAes128KeyInTheSameKeyset() throws GeneralSecurityException {
        KeysetHandle mixed = KeysetHandle.newBuilder()
                .addEntry(KeysetHandle.generateEntryFromParameters(PredefinedAeadParameters.AES128_GCM).withRandomId())
                .addEntry(KeysetHandle.generateEntryFromParameters(PredefinedAeadParameters.AES256_GCM).withRandomId()
                        .makePrimary())
                .build();

        assertThatThrownBy(() -> TinkAlgorithms.requireAllowed("data", mixed))
                .isInstanceOf(KeyUnavailableException.class).hasMessageContaining("128-bit");
    }

    @Test
    void anAes128KekIsRefused() {
        int bits = JceKeyEncryptionKey.keyBits(new SecretKeySpec(new byte[16], "AES"));

        assertThat(bits).isEqualTo(128);
        assertThatThrownBy(() -> AlgorithmHygiene.check(List.of(
                AlgorithmUse.of("KEK", AlgorithmUse.Kind.KEY_WRAP, "AES-GCM", bits))))
                .isInstanceOf(AlgorithmHygiene.WeakAlgorithms.class).hasMessageContaining("AES keys below 256 bits");
    }

    @Test
    @ExtendWith(SoftHsm.Required.class)
    void theSizeOfAKekInsideTheHsmIsRead() {
        SoftHsm hsm = SoftHsm.get();
        SoftHsm.Token token = hsm.token(SoftHsm.KEK_TOKEN);
        Pkcs11Kek kek = Pkcs11Kek.open(hsm.library(), token.slotListIndex(), token.pinChars(),
                "kek-" + UUID.randomUUID(), true);

        assertThat(kek.tokenKey().getEncoded()).as("not extractable").isNull();
        assertThat(kek.keyBits()).isEqualTo(256);
    }

    @Test
    void theServerRefusesToStartOnAStoredAes128DataKeyset() throws Exception {
        DevEnvironment dev = TestInstallation.separate("weak-keyset");
        var properties = dev.properties();
        KeyringStore store = new KeyringStore(new KeyringProperties(properties.get("carapace.keyring.url").toString(),
                DevDatabase.KEYRING_ROLE, "", DevDatabase.OWNER, "", 10, java.time.Duration.ofMinutes(1),
                java.time.Duration.ofHours(1)));
        try {
            DevKeystoreKek kek = DevKeystoreKek.open(Path.of(properties.get("carapace.kek.dev-keystore.path").toString()), true);
            byte[] associatedData = "dek/shared".getBytes(StandardCharsets.UTF_8);
            store.insertIfAbsent("dek/shared", kek.id(), TinkProtoKeysetFormat.serializeEncryptedKeyset(
                    KeysetHandle.generateNew(PredefinedAeadParameters.AES128_GCM), kek, associatedData));
        } finally {
            store.destroy();
        }

        assertThatThrownBy(() -> CarapaceApplication.run(properties, false, "--logging.level.root=WARN").close())
                .satisfies(e -> assertThat(rootMessages(e)).contains("Carapace refuses to start: algorithms below the floor")
                        .contains("record data keys: AEAD AES-GCM (128-bit): AES keys below 256 bits are refused"))
                .isInstanceOf(AlgorithmHygiene.WeakAlgorithms.class);
    }

    private static String rootMessages(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t.getMessage()).append('\n');
        }
        return all.toString();
    }
}
