/**
 * The key hierarchy: KEK providers, per-patient Tink keysets, blind indexes, the keyring, system
 * secrets, rotation and shredding. Public API: {@link health.carapace.crypto.RecordCipher},
 * {@link health.carapace.crypto.BlindIndex} and the other types of this package.
 */
@org.springframework.modulith.ApplicationModule(
        allowedDependencies = {"compliance", "platform :: config", "platform :: logging", "platform :: metrics",
                "platform :: web"})
package health.carapace.crypto;
