package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.subtle.AesGcmJce;
import health.carapace.crypto.RecordCipher;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The data-key cache holds a one-key keyset as Tink's primitive of that key instead of the keyset
 * and its wrapper (ADR 0055). That primitive must be the same cipher on the wire: records written
 * before the change are read after it and the other way round, on nodes of either version, and a
 * ciphertext under any other key is still refused.
 */
class DataKeyPrimitiveTest {

    private static final byte[] PLAINTEXT = "{\"resourceType\":\"Patient\"}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] AAD = "Patient/1/1".getBytes(StandardCharsets.UTF_8);

    @BeforeAll
    static void register() throws GeneralSecurityException {
        AeadConfig.register();
    }

    @Test
    void aOneKeyKeysetIsHeldAsTheKeysOwnPrimitiveWhichReadsAndWritesWhatTheKeysetDoes() throws Exception {
        KeysetHandle keyset = KeysetHandle.generateNew(PatientKeyring.DATA_KEY_TEMPLATE);
        Aead cached = PatientKeyring.primitive(keyset);
        Aead wrapper = keyset.getPrimitive(RegistryConfiguration.get(), Aead.class);

        assertThat(cached).isInstanceOf(AesGcmJce.class);
        byte[] byCached = cached.encrypt(PLAINTEXT, AAD);
        byte[] byWrapper = wrapper.encrypt(PLAINTEXT, AAD);
        // the key id prefix that rotation and the re-read of a rotated keyset go by is written
        assertThat(RecordCipher.keyIdOf(byCached)).isEqualTo(keyset.getPrimary().getId());
        assertThat(wrapper.decrypt(byCached, AAD)).isEqualTo(PLAINTEXT);
        assertThat(cached.decrypt(byWrapper, AAD)).isEqualTo(PLAINTEXT);
    }

    @Test
    void theKeysOwnPrimitiveRefusesAnotherKeysCiphertextAnotherRecordsAadAndATamperedByte() throws Exception {
        Aead cached = PatientKeyring.primitive(KeysetHandle.generateNew(PatientKeyring.DATA_KEY_TEMPLATE));
        Aead other = PatientKeyring.primitive(KeysetHandle.generateNew(PatientKeyring.DATA_KEY_TEMPLATE));
        byte[] ciphertext = cached.encrypt(PLAINTEXT, AAD);

        assertThatThrownBy(() -> other.decrypt(ciphertext, AAD)).isInstanceOf(GeneralSecurityException.class);
        assertThatThrownBy(() -> cached.decrypt(ciphertext, "Patient/2/1".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(GeneralSecurityException.class);
        byte[] tampered = ciphertext.clone();
        tampered[tampered.length - 1] ^= 1;
        assertThatThrownBy(() -> cached.decrypt(tampered, AAD)).isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void aKeysetInRotationKeepsTheWrapperWhichReadsUnderEveryKeyAndWritesUnderThePrimary() throws Exception {
        KeysetHandle before = KeysetHandle.generateNew(PatientKeyring.DATA_KEY_TEMPLATE);
        byte[] underOldKey = PatientKeyring.primitive(before).encrypt(PLAINTEXT, AAD);
        KeysetHandle rotated = KeysetHandle.newBuilder(before)
                .addEntry(KeysetHandle.generateEntryFromParameters(PatientKeyring.DATA_KEY_TEMPLATE)
                        .withRandomId().makePrimary())
                .build();

        Aead during = PatientKeyring.primitive(rotated);

        assertThat(during).isNotInstanceOf(AesGcmJce.class);
        assertThat(during.decrypt(underOldKey, AAD)).isEqualTo(PLAINTEXT);
        assertThat(RecordCipher.keyIdOf(during.encrypt(PLAINTEXT, AAD))).isEqualTo(rotated.getPrimary().getId());
    }
}
