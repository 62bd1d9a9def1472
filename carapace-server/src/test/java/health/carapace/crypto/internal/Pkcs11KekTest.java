package health.carapace.crypto.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.testing.SoftHsm;
import health.carapace.testing.TokenInspector;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.SecureRandom;
import java.security.spec.InvalidKeySpecException;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The production KEK against SoftHSM2. Every test uses a key label of its own on one shared
 * token, so the tests do not depend on each other or on their order.
 */
@ExtendWith(SoftHsm.Required.class)
class Pkcs11KekTest {

    private static final SecureRandom RANDOM = new SecureRandom();

    private static SoftHsm hsm;
    private static SoftHsm.Token token;
    private static TokenInspector inspector;

    @BeforeAll
    static void softHsm() throws GeneralSecurityException {
        hsm = SoftHsm.get();
        token = hsm.token(SoftHsm.KEK_TOKEN);
        inspector = TokenInspector.of(hsm.library());
        AeadConfig.register();
    }

    @Test
    void aDataKeysetWrappedByTheTokenKeyUnwrapsToTheSameKeyset() throws GeneralSecurityException {
        Pkcs11Kek kek = open(freshLabel(), true);
        KeysetHandle dek = KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM);
        byte[] associatedData = "dek/Patient/0b9e".getBytes(UTF_8);

        // The same call PatientKeyring makes: Tink encrypts the serialised keyset with the KEK.
        byte[] wrapped = TinkProtoKeysetFormat.serializeEncryptedKeyset(dek, kek, associatedData);
        KeysetHandle unwrapped = TinkProtoKeysetFormat.parseEncryptedKeyset(wrapped, kek, associatedData);

        assertThat(unwrapped.equalsKeyset(dek)).isTrue();
        byte[] record = bytes(64);
        byte[] sealed = dek.getPrimitive(RegistryConfiguration.get(), Aead.class).encrypt(record, associatedData);
        assertThat(unwrapped.getPrimitive(RegistryConfiguration.get(), Aead.class).decrypt(sealed, associatedData))
                .isEqualTo(record);
    }

    @Test
    void wrappingTheSameKeyTwiceGivesDifferentCiphertextsThatBothUnwrap() throws GeneralSecurityException {
        Pkcs11Kek kek = open(freshLabel(), true);
        byte[] secret = bytes(32);
        byte[] associatedData = "secret/token-signing-es256".getBytes(UTF_8);

        byte[] first = kek.encrypt(secret, associatedData);
        byte[] second = kek.encrypt(secret, associatedData);

        assertThat(first).isNotEqualTo(second); // a fresh GCM nonce per wrap
        assertThat(first).hasSize(1 + 12 + secret.length + 16); // format version, nonce, ciphertext, tag
        assertThat(kek.decrypt(first, associatedData)).isEqualTo(secret);
        assertThat(kek.decrypt(second, associatedData)).isEqualTo(secret);
    }

    @Test
    void unwrappingUnderOtherAssociatedDataOrAfterTamperingFails() throws GeneralSecurityException {
        Pkcs11Kek kek = open(freshLabel(), true);
        byte[] secret = bytes(32);
        byte[] wrapped = kek.encrypt(secret, "dek/Patient/a".getBytes(UTF_8));

        // A key row copied onto another patient's key_ref must not unwrap there.
        assertThatThrownBy(() -> kek.decrypt(wrapped, "dek/Patient/b".getBytes(UTF_8)))
                .isInstanceOf(GeneralSecurityException.class);
        byte[] tampered = wrapped.clone();
        tampered[tampered.length - 1] ^= 1;
        assertThatThrownBy(() -> kek.decrypt(tampered, "dek/Patient/a".getBytes(UTF_8)))
                .isInstanceOf(GeneralSecurityException.class);

        // The failed checks leave no broken operation behind in the token's session.
        assertThat(kek.decrypt(wrapped, "dek/Patient/a".getBytes(UTF_8))).isEqualTo(secret);
    }

    @Test
    void theKeyIsGeneratedInsideTheTokenAsASensitiveNeverExtractableAes256Key() {
        String label = freshLabel();
        Pkcs11Kek kek = open(label, true);

        assertThat(kek.tokenKey().getEncoded()).isNull();
        assertThat(kek.tokenKey().getFormat()).isNull();
        // What the token itself records about the object, read below the JCA provider.
        assertThat(inspector.secretKeys(token.slotListIndex(), label)).singleElement().satisfies(key -> {
            assertThat(key.tokenObject()).as("CKA_TOKEN: persistent, not a session object").isTrue();
            assertThat(key.generatedOnToken()).as("CKA_LOCAL: made by C_GenerateKey, never imported").isTrue();
            assertThat(key.sensitive()).as("CKA_SENSITIVE").isTrue();
            assertThat(key.alwaysSensitive()).as("CKA_ALWAYS_SENSITIVE").isTrue();
            assertThat(key.extractable()).as("CKA_EXTRACTABLE").isFalse();
            assertThat(key.neverExtractable()).as("CKA_NEVER_EXTRACTABLE").isTrue();
            assertThat(key.valueBytes()).as("CKA_VALUE_LEN: AES-256").isEqualTo(32);
        });
    }

    @Test
    void everyAttemptToExportTheKeyIsRefused() {
        String label = freshLabel();
        Pkcs11Kek kek = open(label, true);
        Key key = kek.tokenKey();

        // The provider's own export path: key bytes through its SecretKeyFactory.
        assertThatThrownBy(() -> SecretKeyFactory.getInstance("AES", kek.provider())
                .getKeySpec((SecretKey) key, SecretKeySpec.class))
                .isInstanceOf(InvalidKeySpecException.class);
        // Copying it into a keystore file.
        assertThatThrownBy(() -> {
            KeyStore file = KeyStore.getInstance("PKCS12");
            file.load(null, null);
            file.setKeyEntry("stolen-kek", key, "pw".toCharArray(), null);
            file.store(new ByteArrayOutputStream(), "pw".toCharArray());
        }).isInstanceOf(KeyStoreException.class);
        // Using it outside the token, with a software provider.
        assertThatThrownBy(() -> Cipher.getInstance("AES/GCM/NoPadding", "SunJCE")
                .init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, bytes(12))))
                .isInstanceOf(InvalidKeyException.class);
        // And below the provider: the token refuses to return CKA_VALUE at all.
        assertThatThrownBy(() -> inspector.readKeyValue(token.slotListIndex(), label))
                .isInstanceOf(TokenInspector.TokenRefusal.class)
                .hasMessageStartingWith("CKR_ATTRIBUTE_SENSITIVE");
    }

    /**
     * Configuring SunPKCS11 twice on one library in one JVM works: the JDK initialises the library
     * once and shares it, and each provider opens sessions and loads the token's key list on its
     * own. So this proves that a new provider instance finds the key by its label; that the key
     * outlives the process is proved by {@link #aValueWrappedBeforeAProcessRestartUnwrapsAfterIt}.
     */
    @Test
    void reopeningInANewProviderInstanceFindsTheSameKeyByItsLabel() throws GeneralSecurityException {
        String label = freshLabel();
        Pkcs11Kek first = open(label, true);
        byte[] secret = bytes(32);
        byte[] associatedData = "index-root".getBytes(UTF_8);
        byte[] wrapped = first.encrypt(secret, associatedData);

        Pkcs11Kek reopened = open(label, false);
        Pkcs11Kek reopenedMayCreate = open(label, true);

        assertThat(reopened.provider()).isNotSameAs(first.provider());
        assertThat(reopened.decrypt(wrapped, associatedData)).isEqualTo(secret);
        assertThat(reopenedMayCreate.decrypt(wrapped, associatedData)).isEqualTo(secret);
        assertThat(reopened.id()).isEqualTo(first.id()).isEqualTo("pkcs11/" + label);
        // Finding an existing key never makes a second one under the same label.
        assertThat(inspector.secretKeys(token.slotListIndex(), label)).hasSize(1);
    }

    @Test
    void aValueWrappedBeforeAProcessRestartUnwrapsAfterIt() throws Exception {
        String label = freshLabel();
        byte[] secret = bytes(32);
        byte[] wrapped = open(label, true).encrypt(secret, label.getBytes(UTF_8));

        // A new JVM initialises SoftHSM afresh and can only find the key in the token's storage.
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                UnwrapInAnotherProcess.class.getName(),
                hsm.library(), Integer.toString(token.slotListIndex()), label, HexFormat.of().formatHex(wrapped));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("CARAPACE_TEST_PIN", token.pin()); // not on the command line
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), UTF_8).strip();

        assertThat(process.waitFor()).as(output).isZero();
        assertThat(output).isEqualTo(HexFormat.of().formatHex(secret));
    }

    /** Entry point of the restarted process in the test above. */
    static final class UnwrapInAnotherProcess {
        public static void main(String[] args) throws GeneralSecurityException {
            Pkcs11Kek kek = Pkcs11Kek.open(args[0], Integer.parseInt(args[1]),
                    System.getenv("CARAPACE_TEST_PIN").toCharArray(), args[2], false);
            byte[] secret = kek.decrypt(HexFormat.of().parseHex(args[3]), args[2].getBytes(UTF_8));
            System.out.println(HexFormat.of().formatHex(secret));
        }
    }

    @Test
    void aMissingKeyIsReportedAndNotCreatedWhenTheKeyringAlreadyHoldsWrappedKeys() {
        String label = freshLabel();

        assertThatThrownBy(() -> open(label, false))
                .isInstanceOf(KeyUnavailableException.class)
                .hasMessageContaining("pkcs11/" + label)
                .hasMessageContaining("the HSM token has no key with that label");
        assertThat(inspector.secretKeys(token.slotListIndex(), label)).isEmpty();
    }

    @Test
    void aWrongPinIsRefusedAndNamedAsTheReason() {
        SoftHsm.Token pinToken = hsm.token(SoftHsm.NEVER_LOGGED_IN_TOKEN);
        // Only a token this JVM is not logged in to checks the PIN at all (see NEVER_LOGGED_IN_TOKEN).
        assertThat(inspector.isLoggedIn(pinToken.slotListIndex())).as("precondition: not logged in").isFalse();

        assertThatThrownBy(() -> Pkcs11Kek.open(hsm.library(), pinToken.slotListIndex(),
                ("not-" + pinToken.pin()).toCharArray(), freshLabel(), true))
                .isInstanceOf(KeyUnavailableException.class)
                .hasMessageStartingWith("The PKCS#11 token refused the PIN (carapace.kek.pkcs11.pin)")
                .hasMessageNotContaining(pinToken.pin());
        assertThat(inspector.isLoggedIn(pinToken.slotListIndex())).isFalse();
    }

    @Test
    void aSlotWithoutAnInitialisedTokenIsReportedWithTheSettingsToCheck() {
        int uninitialisedSlot = inspector.tokenLabelsBySlotListIndex().indexOf("");

        assertThatThrownBy(() -> Pkcs11Kek.open(hsm.library(), uninitialisedSlot, token.pinChars(), freshLabel(), true))
                .isInstanceOf(KeyUnavailableException.class)
                .hasMessageContaining("slot list index " + uninitialisedSlot)
                .hasMessageContaining("carapace.kek.pkcs11.slot-list-index");
    }

    private static Pkcs11Kek open(String label, boolean mayCreate) {
        return Pkcs11Kek.open(hsm.library(), token.slotListIndex(), token.pinChars(), label, mayCreate);
    }

    private static String freshLabel() {
        return "kek-" + UUID.randomUUID();
    }

    private static byte[] bytes(int length) {
        byte[] bytes = new byte[length];
        RANDOM.nextBytes(bytes);
        return bytes;
    }
}
