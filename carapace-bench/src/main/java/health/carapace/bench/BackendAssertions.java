package health.carapace.bench;

import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

/**
 * SMART Backend Services client assertions (RFC 7523 {@code private_key_jwt}, ES384), signed
 * before the clock runs: the bench measures the server's issuance, not its own signing, and a
 * bench that signed while measuring would take one of the machine's two cores from the server.
 * Each assertion has its own {@code jti} (the server refuses a replay) and lives 290 seconds (the
 * server's ceiling is five minutes), so a run must start within that time of {@link #sign}.
 */
final class BackendAssertions {

    static final String KEY_FILE = "assertion-key.pk8";
    static final String JWKS_FILE = "jwks.json";
    private static final Base64.Encoder URL = Base64.getUrlEncoder().withoutPadding();
    private static final long LIFETIME_SECONDS = 290;

    private final byte[][] bodies;
    private final AtomicInteger next = new AtomicInteger();

    private BackendAssertions(byte[][] bodies) {
        this.bodies = bodies;
    }

    /** Writes a new P-384 key (PKCS#8, owner-only) and its public JWKS for {@code create-client --jwks}. */
    static void writeKey(Path directory, String kid) throws IOException, GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp384r1"));
        KeyPair pair = generator.generateKeyPair();
        Files.createDirectories(directory);
        Path key = directory.resolve(KEY_FILE);
        Files.deleteIfExists(key);
        Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(key, pair.getPrivate().getEncoded());
        ECPublicKey pub = (ECPublicKey) pair.getPublic();
        String jwks = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"use\":\"sig\",\"alg\":\"ES384\",\"kid\":"
                + SyntheticData.quote(kid) + ",\"x\":\"" + coordinate(pub.getW().getAffineX()) + "\",\"y\":\""
                + coordinate(pub.getW().getAffineY()) + "\"}]}";
        Files.writeString(directory.resolve(JWKS_FILE), jwks);
    }

    /**
     * Signs {@code count} assertions for the client, audience the token endpoint, using every core
     * (before the measurement), and keeps the form bodies of the token requests.
     */
    static BackendAssertions sign(Path keyFile, String kid, String clientId, URI tokenEndpoint, String scope, int count)
            throws IOException, GeneralSecurityException {
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(keyFile)));
        String header = URL.encodeToString(("{\"alg\":\"ES384\",\"typ\":\"JWT\",\"kid\":" + SyntheticData.quote(kid) + "}")
                .getBytes(StandardCharsets.UTF_8));
        long expires = Instant.now().getEpochSecond() + LIFETIME_SECONDS;
        String prefix = "grant_type=client_credentials&scope=" + form(scope)
                + "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                + "&client_assertion=";
        byte[][] bodies = new byte[count][];
        IntStream.range(0, count).parallel().forEach(i -> {
            String claims = "{\"iss\":" + SyntheticData.quote(clientId) + ",\"sub\":" + SyntheticData.quote(clientId)
                    + ",\"aud\":" + SyntheticData.quote(tokenEndpoint.toString()) + ",\"exp\":" + expires
                    + ",\"jti\":\"" + UUID.randomUUID() + "\"}";
            String input = header + "." + URL.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
            try {
                // JWS wants R || S, not DER: the JDK's P1363 format gives exactly that.
                Signature signer = Signature.getInstance("SHA384withECDSAinP1363Format");
                signer.initSign(key);
                signer.update(input.getBytes(StandardCharsets.US_ASCII));
                bodies[i] = (prefix + input + "." + URL.encodeToString(signer.sign())).getBytes(StandardCharsets.US_ASCII);
            } catch (GeneralSecurityException e) {
                throw new BenchException("could not sign a client assertion: " + e.getClass().getSimpleName(), e);
            }
        });
        return new BackendAssertions(bodies);
    }

    /** The next unused token request body; each is sent once (a second use would be a refused replay). */
    byte[] next() {
        int i = next.getAndIncrement();
        if (i >= bodies.length) {
            throw new BenchException("all " + bodies.length + " signed assertions are used; raise --assertions");
        }
        return bodies[i];
    }

    /** One body per line (they are form-encoded: no line break inside one), owner-only: each is a credential for 290 s. */
    void writeTo(Path file) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (var out = new java.io.BufferedOutputStream(Files.newOutputStream(file))) {
            for (byte[] body : bodies) {
                out.write(body);
                out.write('\n');
            }
        }
    }

    int count() {
        return bodies.length;
    }

    private static String coordinate(BigInteger value) {
        byte[] raw = value.toByteArray();
        byte[] fixed = new byte[48];
        int copy = Math.min(raw.length, 48);
        System.arraycopy(raw, raw.length - copy, fixed, 48 - copy, copy);
        return URL.encodeToString(fixed);
    }

    private static String form(String value) {
        return java.net.URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
