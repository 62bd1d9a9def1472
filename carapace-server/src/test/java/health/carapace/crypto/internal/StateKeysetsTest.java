package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import health.carapace.crypto.KeyRotation;
import health.carapace.crypto.RecordCipher;
import health.carapace.crypto.StateSeal;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.MovableClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The state sealing keysets (ADR 0042), on the real keyring and KEK of the test installation:
 * every sealed value names its key; a rotation seals under a new key while the replaced one still
 * opens what it sealed, until those values have expired, then it is destroyed and its values are
 * refused as sealed under an unknown key. Each test uses a keyset of its own (not the sign-in's)
 * and a clock of its own.
 */
class StateKeysetsTest extends IntegrationTest {

    private static final Duration REFRESH = Duration.ofSeconds(10);
    private static final Duration LIFETIME = Duration.ofHours(12);
    private static final byte[] PLACE = "test place".getBytes(StandardCharsets.UTF_8);

    @Autowired
    private KeyringStore store;

    @Autowired
    private KekRing kek;

    @Autowired
    private UsageCounters counters;

    @Autowired
    private ApplicationEventPublisher events;

    private final MovableClock clock = MovableClock.startingNow();

    private StateKeysets node(long encryptionWarning) {
        return new StateKeysets(store, kek, counters, events, clock, REFRESH, Duration.ofDays(7), encryptionWarning);
    }

    private static String name() {
        return "test-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void aValueSealedBeforeRotationOpensUntilItsValuesHaveExpiredThenIsRefusedAsUnderAnUnknownKey() {
        String name = name();
        StateKeysets keysets = node(1L << 30);
        StateSeal seal = keysets.named(name, LIFETIME);
        byte[] before = seal.seal(bytes("sealed before"), PLACE);
        int firstKey = RecordCipher.keyIdOf(before);

        int secondKey = keysets.rotate(name, "cli:test").orElseThrow();
        byte[] after = seal.seal(bytes("sealed after"), PLACE);
        assertThat(RecordCipher.keyIdOf(after)).as("the new key seals").isEqualTo(secondKey).isNotEqualTo(firstKey);
        assertThat(opened(seal, before)).as("the replaced key still opens").isEqualTo("sealed before");

        // the scheduled check, just before every value of the old key has expired: kept
        clock.advance(LIFETIME.plus(REFRESH).minusMinutes(1));
        keysets.maintain();
        assertThat(opened(seal, before)).isEqualTo("sealed before");
        assertThat(store.liveKeysOf(StateKeysets.PREFIX + name)).hasSize(2);

        // and just after: destroyed, its values refused, the new key's still open
        clock.advance(Duration.ofMinutes(2));
        keysets.maintain();
        assertThat(seal.open(before, PLACE)).isEqualTo(StateSeal.Opening.refused(StateSeal.Refusal.UNKNOWN_KEY));
        assertThat(opened(seal, after)).isEqualTo("sealed after");
        assertThat(store.liveKeysOf(StateKeysets.PREFIX + name)).extracting(KeyringStore.DekKey::keyId)
                .containsExactly(Integer.toUnsignedLong(secondKey));
        // both steps on the record, with the key's id only
        assertThat(audited("/keys/state/" + name + "/" + Integer.toUnsignedLong(secondKey) + "/activated")).isEqualTo(1);
        assertThat(audited("/keys/state/" + name + "/" + Integer.toUnsignedLong(firstKey) + "/destroyed")).isEqualTo(1);
    }

    @Test
    void anUnknownKeyIdAnAlteredValueAnotherPlaceAndGarbageAreRefused() {
        StateSeal seal = node(1L << 30).named(name(), LIFETIME);
        byte[] sealed = seal.seal(bytes("value"), PLACE);
        assertThat(opened(seal, sealed)).as("control").isEqualTo("value");

        byte[] otherKey = sealed.clone();
        otherKey[4] ^= 0x01; // the last byte of the key id
        assertThat(seal.open(otherKey, PLACE).refusal()).isEqualTo(StateSeal.Refusal.UNKNOWN_KEY);
        byte[] altered = sealed.clone();
        altered[altered.length - 1] ^= 0x01;
        assertThat(seal.open(altered, PLACE).refusal()).isEqualTo(StateSeal.Refusal.NOT_AUTHENTIC);
        assertThat(seal.open(sealed, bytes("another place")).refusal()).isEqualTo(StateSeal.Refusal.NOT_AUTHENTIC);
        for (byte[] garbage : List.of(new byte[0], new byte[] {1, 2}, new byte[64], bytes("not sealed at all"))) {
            assertThat(seal.open(garbage, PLACE).refusal()).isNotNull();
            assertThat(seal.open(garbage, PLACE).plain()).isNull();
        }
    }

    @Test
    void anotherNodesRotationIsFollowedHereAndItsValuesOpenHere() {
        String name = name();
        StateSeal here = node(1L << 30).named(name, LIFETIME);
        byte[] first = here.seal(bytes("here"), PLACE);
        StateKeysets otherNode = node(1L << 30);
        StateSeal there = otherNode.named(name, LIFETIME);
        int rotated = otherNode.rotate(name, "cli:test").orElseThrow();
        byte[] sealedThere = there.seal(bytes("there"), PLACE);
        assertThat(RecordCipher.keyIdOf(sealedThere)).isEqualTo(rotated);
        assertThat(opened(here, sealedThere)).as("a key this node had not seen: the keyset is read again").isEqualTo("there");
        assertThat(opened(there, first)).isEqualTo("here");
    }

    @Test
    void aKeyIsReplacedWhenItIsTooOldOrHasSealedUpToTheWarning() {
        String name = name();
        StateKeysets keysets = node(3);
        StateSeal seal = keysets.named(name, LIFETIME);
        int first = RecordCipher.keyIdOf(seal.seal(bytes("1"), PLACE));
        keysets.maintain();
        assertThat(RecordCipher.keyIdOf(seal.seal(bytes("2"), PLACE))).as("young, little used: kept").isEqualTo(first);
        seal.seal(bytes("3"), PLACE);
        counters.flush();
        keysets.maintain();
        int second = RecordCipher.keyIdOf(seal.seal(bytes("4"), PLACE));
        assertThat(second).as("at the warning: replaced").isNotEqualTo(first);

        clock.advance(Duration.ofDays(7).plusMinutes(1));
        keysets.maintain();
        assertThat(RecordCipher.keyIdOf(seal.seal(bytes("5"), PLACE))).as("older than its maximum age: replaced")
                .isNotIn(first, second);
        assertThat(keysets.status()).filteredOn(key -> key.id().startsWith(StateKeysets.PREFIX + name + "#"))
                .map(KeyRotation.Key::state).contains("active", "decrypt-only");
    }

    @Test
    void theKeysetIsStoredWrappedByTheActiveKek() {
        String name = name();
        node(1L << 30).named(name, LIFETIME).seal(bytes("x"), PLACE);
        KeyringStore.WrappedKey stored = store.find(StateKeysets.PREFIX + name).orElseThrow();
        assertThat(stored.kekId()).isEqualTo(kek.active().id());
        assertThatThrownBy(() -> TinkProtoKeysetFormat.parseKeyset(stored.wrapped(), InsecureSecretKeyAccess.get()))
                .as("not a keyset in clear").isInstanceOf(Exception.class);
    }

    private static String opened(StateSeal seal, byte[] sealed) {
        StateSeal.Opening opening = seal.open(sealed, PLACE);
        assertThat(opening.refusal()).as("refusal").isNull();
        return new String(opening.plain(), StandardCharsets.UTF_8);
    }

    private long audited(String resource) {
        return JdbcClient.create(dataSource).sql("select count(*) from audit.event where position(? in body) > 0")
                .param(resource.getBytes(StandardCharsets.UTF_8)).query(Long.class).single();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
