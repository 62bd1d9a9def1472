package health.carapace.crypto.internal;

import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.prf.PrfConfig;
import health.carapace.crypto.BlindIndex;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.RecordCipher;
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

    @Bean
    KeyEncryptionKey keyEncryptionKey(KekProperties properties, KeyringStore store) {
        boolean mayCreate = store.isEmpty();
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

    @Bean
    RecordCipher recordCipher(KeyringStore store, KeyEncryptionKey kek, KeyringProperties properties) {
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
