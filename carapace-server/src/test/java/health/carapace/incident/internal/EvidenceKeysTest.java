package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.incident.EvidenceBundle;
import health.carapace.platform.config.Mode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evidence public key at start: production refuses to start without one, with an unreadable
 * one, with one of other parameters, and with the private key configured by mistake; each message
 * names the setting and the problem, never the file's content. start-dev makes a pair and uses it.
 */
class EvidenceKeysTest {

    @TempDir
    Path dir;

    @Test
    void startRefusesAMissingUnreadableWrongOrPrivateKey() throws Exception {
        assertThatThrownBy(() -> EvidenceKeys.load(null, Mode.PROD, null))
                .isInstanceOf(EvidenceKeys.Unusable.class)
                .hasMessageContaining("carapace.incident.evidence.public-key is required");
        assertThatThrownBy(() -> EvidenceKeys.load(dir.resolve("absent.json").toString(), Mode.PROD, null))
                .isInstanceOf(EvidenceKeys.Unusable.class).hasMessageContaining("cannot be read");

        Path garbage = Files.writeString(dir.resolve("garbage.json"), "{\"JaneCanary\":1}");
        assertThatThrownBy(() -> EvidenceKeys.load(garbage.toString(), Mode.PROD, null))
                .isInstanceOf(EvidenceKeys.Unusable.class)
                .hasMessageContaining("not a Tink JSON public keyset").hasMessageNotContaining("JaneCanary");

        EvidenceBundle.KeyPair pair = EvidenceBundle.newKeyPair();
        Path privateKey = Files.writeString(dir.resolve("private.json"), pair.privateKeysetJson());
        assertThatThrownBy(() -> EvidenceKeys.load(privateKey.toString(), Mode.PROD, null))
                .as("the private key stays offline").isInstanceOf(EvidenceKeys.Unusable.class)
                .hasMessageContaining("a keyset holding the private key is refused");

        var aesKeyset = com.google.crypto.tink.KeysetHandle.generateNew(
                com.google.crypto.tink.hybrid.PredefinedHybridParameters.ECIES_P256_HKDF_HMAC_SHA256_AES128_GCM);
        Path weak = Files.writeString(dir.resolve("ecies.json"), com.google.crypto.tink.TinkJsonProtoKeysetFormat
                .serializeKeysetWithoutSecret(aesKeyset.getPublicKeysetHandle()));
        assertThatThrownBy(() -> EvidenceKeys.load(weak.toString(), Mode.PROD, null))
                .as("another hybrid scheme (AES-128)").isInstanceOf(EvidenceKeys.Unusable.class)
                .hasMessageContaining("must be HPKE DHKEM_X25519_HKDF_SHA256");

        Path good = Files.writeString(dir.resolve("public.json"), pair.publicKeysetJson());
        assertThat(EvidenceKeys.load(good.toString(), Mode.PROD, null).recipientKeyId())
                .isEqualTo(EvidenceBundle.keyId(EvidenceBundle.readPrivateKey(pair.privateKeysetJson())));
    }

    @Test
    void startDevGeneratesAPairBesideTheConfiguredPathOnce() throws Exception {
        Path publicKey = dir.resolve("evidence/evidence-public-key.json");
        String first = EvidenceKeys.load(publicKey.toString(), Mode.DEV, null).recipientKeyId();
        assertThat(Files.getPosixFilePermissions(dir.resolve("evidence/" + EvidenceKeys.DEV_PRIVATE_KEY)))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        assertThat(EvidenceKeys.load(publicKey.toString(), Mode.DEV, null).recipientKeyId()).isEqualTo(first);
        assertThat(EvidenceBundle.keyId(EvidenceBundle.readPrivateKey(
                Files.readString(dir.resolve("evidence/" + EvidenceKeys.DEV_PRIVATE_KEY))))).isEqualTo(first);
    }
}
