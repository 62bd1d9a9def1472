package health.carapace.crypto.internal;

import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.prf.PrfConfig;
import health.carapace.crypto.EncryptedRecords;
import health.carapace.crypto.EncryptedStore;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.crypto.SystemSecrets;
import java.security.GeneralSecurityException;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({KekProperties.class, KeyringProperties.class, KeysProperties.class})
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
    KeyringStore keyringStore(KeyringProperties properties,
            @org.springframework.beans.factory.annotation.Value("${carapace.db.connection-wait}")
            java.time.Duration connectionWait) {
        return new KeyringStore(properties, connectionWait);
    }

    /** Readiness: without the keyring no new patient gets a key and no uncached key unwraps. */
    @Bean
    health.carapace.platform.web.DependencyProbe keyringProbe(KeyringStore store) {
        return health.carapace.platform.web.DependencyProbe.database("keyring", store.pool());
    }

    @Bean
    UsageCounters usageCounters(KeyringStore store) {
        return new UsageCounters(store);
    }

    /**
     * Opens the KEK, creating it only while the keyring is empty. Nodes that start together against
     * an empty keyring would otherwise each find no key in the HSM and each create one under the
     * same label; SunPKCS11's key store then refuses to load the token at all ("multiple secret
     * keys sharing same CKA_LABEL"), and no node can start again until someone deletes the right
     * one of the two from the HSM. Under the keyring lock the second node finds the first's key.
     *
     * <p>The bean is the {@link KekRing}: every KEK version, the active one for new wraps.
     */
    @Bean
    KekRing keyEncryptionKey(KekProperties properties, KeyringStore store, UsageCounters counters,
            KeysProperties keys) {
        return store.withKekCreationLock(() -> {
            boolean empty = store.isEmpty();
            boolean versioned = !store.versions(KekRing.KIND).isEmpty();
            KekSource source;
            KeyEncryptionKey first = null;
            HsmSession session = null;
            switch (String.valueOf(properties.provider())) {
                case "dev-keystore" -> {
                    first = DevKeystoreKek.open(properties.devKeystore().path(), empty);
                    source = KekSource.devKeystore(properties.devKeystore().path());
                }
                case "pkcs11" -> {
                    KekProperties.Pkcs11 p = properties.pkcs11();
                    // every login, this first one too, against the installation's budget in the keyring (ADR 0049)
                    HsmSession hsm = HsmSession.open(p.library(), p.slotListIndex(),
                            p.pin() == null ? null : p.pin().toCharArray(), p.keyLabel(), p.recovery(),
                            new HsmLoginBudget(store.pool(), p.recovery()));
                    session = hsm;
                    source = KekSource.pkcs11(hsm);
                    if (!versioned) {
                        // Before versioning, the configured label is the one and only KEK.
                        first = hsm.find(p.keyLabel());
                        if (first == null && !empty) {
                            throw new KeyUnavailableException("The keyring holds keys wrapped by pkcs11/"
                                    + p.keyLabel() + " but the HSM token has no key with that label: "
                                    + "encrypted records cannot be read");
                        }
                        if (first == null) {
                            first = hsm.create(p.keyLabel());
                        }
                    }
                }
                default -> throw new IllegalStateException(
                        "carapace.kek.provider must be set to 'pkcs11' (or 'dev-keystore' under start-dev)");
            }
            KekRing ring = new KekRing(source, store, counters, keys.refreshInterval());
            if (first != null) {
                ring.bootstrap(first);
            } else {
                ring.active();
            }
            if (session != null) {
                // the probe asks about the active version, which rotation changes (ADR 0045)
                session.probeActiveKey(() -> ring.activeVersion().keyId().substring("pkcs11/".length()));
            }
            return ring;
        });
    }

    /**
     * Readiness: without the HSM no key that is not cached unwraps and no new patient gets a key. The
     * probe makes the token answer through the node's session, and opens a lost one again (ADR 0041).
     */
    @Bean
    @org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(name = "carapace.kek.provider",
            havingValue = "pkcs11")
    health.carapace.platform.web.DependencyProbe hsmProbe(KekRing kek) {
        return new health.carapace.platform.web.DependencyProbe() {
            @Override
            public String name() {
                return "hsm";
            }

            @Override
            public boolean reachable() {
                return kek.sourceReachable();
            }
        };
    }

    /** The record cipher, and the key shredder: both act on the same cache of unwrapped keys. */
    @Bean
    PatientKeyring recordCipher(KeyringStore store, KekRing kek, UsageCounters counters,
            KeyringProperties properties, KeysProperties keys) {
        return new PatientKeyring(store, kek, counters, properties, keys.refreshInterval());
    }

    @Bean
    TinkBlindIndex blindIndex(KeyringStore store, KekRing kek, KeysProperties keys) {
        return new TinkBlindIndex(store, kek, keys.refreshInterval());
    }

    @Bean
    SystemSecrets systemSecrets(KeyringStore store, KekRing kek) {
        return new KeyringSecrets(store, kek);
    }

    /** The job runner and the three kinds of job it runs, sharing the HSM workers. */
    @Bean
    KeyJobs keyRotation(DataSource dataSource, KeyringStore store, KekRing kek, PatientKeyring deks,
            TinkBlindIndex index, UsageCounters counters, KeysProperties keys,
            ObjectProvider<EncryptedRecords> records, ObjectProvider<EncryptedStore> stores,
            ApplicationEventPublisher events, java.time.Clock clock, StateKeysets stateKeys) {
        HsmWorkers hsm = new HsmWorkers();
        return new KeyJobs(dataSource, store, counters, keys, events, hsm,
                new KekRewrap(store, kek, keys, hsm, clock),
                new DekRotation(store, deks, keys, records, stores, new KeysInUse(), hsm),
                new IndexRekeying(index, keys, records), stateKeys);
    }

    /** Sealing keysets for short-lived state such as the sign-in state (ADR 0042). */
    @Bean
    StateKeysets stateSeals(KeyringStore store, KekRing kek, UsageCounters counters, ApplicationEventPublisher events,
            java.time.Clock clock, KeysProperties keys) {
        java.time.Duration maxAge = keys.stateKeyMaxAge() == null ? java.time.Duration.ofDays(7) : keys.stateKeyMaxAge();
        return new StateKeysets(store, kek, counters, events, clock, keys.refreshInterval(), maxAge,
                keys.encryptionWarning());
    }

    /** The server checks key separation on its live connections ({@link KeyringReadiness} checks names only). */
    @Bean
    @ConditionalOnWebApplication
    KeySeparationCheck keySeparationCheck(DataSource dataSource, KeyringStore store, Environment environment) {
        return new KeySeparationCheck(dataSource, store, environment);
    }

    @Bean
    KeyMetrics keyMetrics(KeyJobs jobs, KeyringStore store) {
        return new KeyMetrics(jobs, store);
    }

    @Bean
    @ConditionalOnWebApplication
    KeyRotationScheduler keyRotationScheduler(KeyJobs jobs, UsageCounters counters, KeyMetrics metrics,
            KeysProperties keys, StateKeysets stateKeys) {
        return new KeyRotationScheduler(jobs, counters, metrics, stateKeys, keys.checkInterval(),
                keys.refreshInterval());
    }
}
