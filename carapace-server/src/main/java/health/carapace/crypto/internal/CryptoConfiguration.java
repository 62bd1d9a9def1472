package health.carapace.crypto.internal;

import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.prf.PrfConfig;
import health.carapace.crypto.BlindIndex;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.SystemSecrets;
import java.security.GeneralSecurityException;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({KekProperties.class, KeyringProperties.class})
class CryptoConfiguration {

    static {
        try {
            AeadConfig.register();
            PrfConfig.register();
        } catch (GeneralSecurityException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Bean
    KeyringStore keyringStore(KeyringProperties properties) {
        return new KeyringStore(properties);
    }

    /**
     * Opens the KEK, creating it only while the keyring is empty. Nodes that start together against
     * an empty keyring would otherwise each find no key in the HSM and each create one under the
     * same label; SunPKCS11's key store then refuses to load the token at all ("multiple secret
     * keys sharing same CKA_LABEL"), and no node can start again until someone deletes the right
     * one of the two from the HSM. Under the keyring lock the second node finds the first's key.
     */
    @Bean
    KeyEncryptionKey keyEncryptionKey(KekProperties properties, KeyringStore store) {
        return store.withKekCreationLock(() -> open(properties, store.isEmpty()));
    }

    private static KeyEncryptionKey open(KekProperties properties, boolean mayCreate) {
        return switch (String.valueOf(properties.provider())) {
            case "dev-keystore" -> DevKeystoreKek.open(properties.devKeystore().path(), mayCreate);
            case "pkcs11" -> {
                KekProperties.Pkcs11 p = properties.pkcs11();
                yield Pkcs11Kek.open(p.library(), p.slotListIndex(),
                        p.pin() == null ? null : p.pin().toCharArray(), p.keyLabel(), mayCreate);
            }
            default -> throw new IllegalStateException(
                    "carapace.kek.provider must be set to 'pkcs11' (or 'dev-keystore' under start-dev)");
        };
    }

    /** The record cipher, and the key shredder: both act on the same cache of unwrapped keys. */
    @Bean
    PatientKeyring recordCipher(KeyringStore store, KeyEncryptionKey kek, KeyringProperties properties) {
        return new PatientKeyring(store, kek, properties);
    }

    @Bean
    BlindIndex blindIndex(KeyringStore store, KeyEncryptionKey kek) {
        return new TinkBlindIndex(store, kek);
    }

    @Bean
    SystemSecrets systemSecrets(KeyringStore store, KeyEncryptionKey kek) {
        return new KeyringSecrets(store, kek);
    }
}
