package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.KeysetHandle;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.PhiScanner;
import health.carapace.testing.RawHttp;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * Evidence bundles made through the real server ({@code POST /admin/incidents/{id}/evidence}),
 * opened and verified offline with the start-dev evidence private key, as the compliance officer
 * would: intact bundles verify (manifest signature, every hash, the audit export with
 * carapace-verify); an altered inner file, an altered ciphertext byte and the wrong private key are
 * each reported; the heap dump is only ever inside the encryption; no PHI in the manifest, the
 * custody record or the logs.
 */
@ExtendWith(OutputCaptureExtension.class)
class EvidenceBundleTest extends IncidentTesting {

    @TempDir
    Path temp;

    private Path evidenceDir() {
        return TestInstallation.dataDir().resolve("evidence");
    }

    private KeysetHandle privateKey() throws Exception {
        return EvidenceBundle.readPrivateKey(Files.readString(evidenceDir().resolve("evidence-private-key.json")));
    }

    private KeysetHandle publicKey() throws Exception {
        return EvidenceBundle.readPublicKey(Files.readString(evidenceDir().resolve("evidence-public-key.json")));
    }

    /** A self-access incident of a fresh client that read its own (linked) Patient. */
    private Incident incident(String patient) {
        ServiceClients.Credentials client = client("evidence-reader", TestPolicy.EVERYTHING);
        link(client.clientId(), patient);
        assertThat(read(tokenFor(client.clientId(), client.clientSecret()), patient).statusCode()).isEqualTo(200);
        return awaitIncident("self-access", client.clientId());
    }

    private HttpResponse<Path> makeBundle(String token, String path, Path file) {
        try {
            return http().send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + token)
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofFile(file));
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private Path bundleOf(Incident incident, boolean heap) {
        Path file = temp.resolve("bundle-" + UUID.randomUUID());
        HttpResponse<Path> made = makeBundle(officer(), "/admin/incidents/" + incident.id() + "/evidence"
                + (heap ? "?withHeap=true" : ""), file);
        assertThat(made.statusCode()).isEqualTo(200);
        assertThat(made.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
        assertThat(made.headers().firstValue("X-Evidence-SHA256")).hasValue(sha256(file));
        return file;
    }

    @Test
    void aBundleMadeThroughTheServerDecryptsAndVerifiesWithItsCustodyRecorded() throws Exception {
        Incident incident = incident(createPatient());
        Path bundle = bundleOf(incident, false);

        Path out = temp.resolve("opened");
        EvidenceBundle.Opened opened = EvidenceBundle.open(bundle, privateKey(), out, null, null);

        assertThat(opened.files()).contains("incident.json", "configuration.properties", "threads.txt",
                "audit/manifest.json", "audit/events.jsonl", "audit/tree-heads.jsonl",
                EvidenceBundle.MANIFEST, EvidenceBundle.MANIFEST_SIGNATURE, EvidenceBundle.SIGNING_KEY);
        assertThat(opened.files()).doesNotContain("heap.hprof");
        assertThat(opened.manifest().incident()).isEqualTo(incident.id().toString());
        assertThat(opened.audit().events()).isPositive();
        assertThat(Files.readString(out.resolve("incident.json"))).contains(incident.id().toString())
                .contains("\"timeline\"").contains("self-access");
        assertThat(Files.readString(out.resolve("threads.txt"))).contains("\"main\"");
        // A test context's logging is set up before its properties arrive, so it logs to the console only:
        // the bundle says so (the log file's window is LogWindowTest's; start-dev logs to data/logs).
        assertThat(opened.manifest().notes()).anyMatch(note -> note.startsWith("logs: ")
                && (note.contains("console") || note.contains("lines of the window")));
        // the incident's own audit events are in the export, each proved by carapace-verify
        StringBuilder leaves = new StringBuilder();
        for (String line : Files.readAllLines(out.resolve("audit/events.jsonl"))) {
            String leaf = line.replaceAll(".*\"leaf\":\"([^\"]+)\".*", "$1");
            leaves.append(new String(java.util.Base64.getDecoder().decode(leaf), StandardCharsets.UTF_8)).append('\n');
        }
        assertThat(leaves).as("the events that triggered the incident")
                .contains(incidents.find(incident.id()).orElseThrow().auditEvents().get(0).toString());
        String tlsPassword = Files.readString(TestInstallation.dataDir().resolve("tls/server.p12.password")).trim();
        assertThat(Files.readString(out.resolve("configuration.properties")))
                .contains("server.ssl.key-store-password=[redacted]").doesNotContain(tlsPassword)
                .contains("carapace.incident.evidence.public-key=");

        // the chain of custody: recorded, listed, matching the file, and audited
        String custody = as(officer(), HttpRequest.newBuilder(uri("/admin/incidents/" + incident.id() + "/evidence"))
                .GET()).body();
        assertThat(custody).contains(sha256(bundle)).contains(opened.signingKeyId())
                .contains("\"bundleBytes\":" + Files.size(bundle));
        Incident after = incidents.find(incident.id()).orElseThrow();
        assertThat(after.timeline()).extracting(Incident.TimelineEntry::entry).contains("evidence-preserved");
        assertThat(Files.readString(out.resolve(EvidenceBundle.MANIFEST))).contains("\"madeBy\"");
    }

    @Test
    void anAlteredInnerFileOrCiphertextByteIsReportedPrecisely() throws Exception {
        Path bundle = bundleOf(incident(createPatient()), false);
        Path opened = temp.resolve("opened");
        EvidenceBundle.open(bundle, privateKey(), opened, null, null);

        // Anyone can seal a bundle to the public key: re-seal it with one byte of incident.json changed.
        Path forged = temp.resolve("forged");
        try (OutputStream file = Files.newOutputStream(forged);
                ZipOutputStream zip = new ZipOutputStream(EvidenceBundle.encrypting(file, publicKey()));
                Stream<Path> files = Files.walk(opened)) {
            for (Path path : files.filter(Files::isRegularFile).sorted().toList()) {
                String name = opened.relativize(path).toString().replace('\\', '/');
                byte[] content = Files.readAllBytes(path);
                if (name.equals("incident.json")) {
                    content[content.length / 2] ^= 1;
                }
                zip.putNextEntry(new ZipEntry(name));
                zip.write(content);
                zip.closeEntry();
            }
        }
        assertThatThrownBy(() -> EvidenceBundle.open(forged, privateKey(), temp.resolve("forged-out"), null, null))
                .isInstanceOf(EvidenceBundle.Refused.class)
                .satisfies(e -> assertThat(((EvidenceBundle.Refused) e).problems()).singleElement().asString()
                        .startsWith("incident.json: SHA-256").contains("differs from the signed manifest"));

        // One byte of the ciphertext flipped: the encryption itself refuses.
        byte[] bytes = Files.readAllBytes(bundle);
        bytes[bytes.length - 100] ^= 1;
        Path flipped = temp.resolve("flipped");
        Files.write(flipped, bytes);
        assertThatThrownBy(() -> EvidenceBundle.open(flipped, privateKey(), temp.resolve("flipped-out"), null, null))
                .isInstanceOf(EvidenceBundle.Refused.class).hasMessageContaining("does not authenticate");

        // A forger who also re-signs the manifest with a key of their own: the bundle is consistent with
        // itself, so the signing key is what tells (pinned, or compared with the custody record), and
        // carapace-verify still refuses the altered audit event (its tree heads are the audit key's).
        Path events = opened.resolve("audit/events.jsonl");
        String firstLine = Files.readAllLines(events).get(0);
        int at = firstLine.indexOf("\"leaf\":\"") + 8;
        char swapped = firstLine.charAt(at) == 'A' ? 'B' : 'A';
        Files.writeString(events, Files.readString(events).replaceFirst(java.util.regex.Pattern.quote(firstLine),
                java.util.regex.Matcher.quoteReplacement(firstLine.substring(0, at) + swapped + firstLine.substring(at + 1))));
        java.security.KeyPair forger = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        EvidenceBundle.Manifest manifest = EvidenceBundle.Manifest.parse(
                Files.readAllBytes(opened.resolve(EvidenceBundle.MANIFEST)));
        List<EvidenceBundle.FileEntry> entries = manifest.files().stream()
                .map(f -> f.name().equals("audit/events.jsonl")
                        ? new EvidenceBundle.FileEntry(f.name(), sha256(events), size(events)) : f)
                .toList();
        byte[] forgedManifest = new EvidenceBundle.Manifest(manifest.format(), manifest.version(), manifest.bundle(),
                manifest.incident(), manifest.madeAt(), manifest.madeBy(), manifest.windowFrom(), manifest.windowTo(),
                manifest.recipientKeyId(), manifest.signingKeyId(), entries, manifest.notes()).toBytes();
        Files.write(opened.resolve(EvidenceBundle.MANIFEST), forgedManifest);
        Files.write(opened.resolve(EvidenceBundle.MANIFEST_SIGNATURE),
                EvidenceBundle.signManifest(forger.getPrivate(), forgedManifest));
        String serverKey = Files.readString(opened.resolve(EvidenceBundle.SIGNING_KEY));
        Files.writeString(opened.resolve(EvidenceBundle.SIGNING_KEY), EvidenceBundle.pem(forger.getPublic()));
        Path resealed = temp.resolve("resealed");
        try (OutputStream file = Files.newOutputStream(resealed);
                ZipOutputStream zip = new ZipOutputStream(EvidenceBundle.encrypting(file, publicKey()));
                Stream<Path> files = Files.walk(opened)) {
            for (Path path : files.filter(Files::isRegularFile).sorted().toList()) {
                zip.putNextEntry(new ZipEntry(opened.relativize(path).toString().replace('\\', '/')));
                zip.write(Files.readAllBytes(path));
                zip.closeEntry();
            }
        }
        assertThatThrownBy(() -> EvidenceBundle.open(resealed, privateKey(), temp.resolve("pinned"), serverKey, null))
                .isInstanceOf(EvidenceBundle.Refused.class)
                .hasMessageContaining("manifest-signing-key.pem: not the given signing key");
        assertThatThrownBy(() -> EvidenceBundle.open(resealed, privateKey(), temp.resolve("unpinned"), null, null))
                .isInstanceOf(EvidenceBundle.Refused.class)
                .satisfies(e -> assertThat(e.getMessage()).startsWith("audit/"));
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aWrongPrivateKeyOpensNothing() throws Exception {
        Path bundle = bundleOf(incident(createPatient()), false);
        KeysetHandle another = EvidenceBundle.readPrivateKey(EvidenceBundle.newKeyPair().privateKeysetJson());
        Path out = temp.resolve("wrong-key");
        assertThatThrownBy(() -> EvidenceBundle.open(bundle, another, out, null, null))
                .isInstanceOf(EvidenceBundle.Refused.class)
                .hasMessageContaining("this private key does not open the bundle");
        assertThat(Files.exists(out) && Files.list(out).findAny().isPresent()).as("nothing decrypted").isFalse();
        assertThatThrownBy(() -> EvidenceBundle.readPrivateKey(
                Files.readString(evidenceDir().resolve("evidence-public-key.json"))))
                .as("a public key is no private key").isInstanceOf(EvidenceBundle.Refused.class);
    }

    @Test
    void theHeapDumpHoldsTheRecordReadButOnlyInsideTheEncryption(CapturedOutput output) throws Exception {
        String marker = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String family = "Heapcanary" + marker;
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\""
                        + family + "\"}]}")));
        assertThat(created.statusCode()).isEqualTo(201);
        String patient = fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
        Incident incident = incident(patient);
        List<Path> scratchBefore = scratchDirectories();

        Path bundle = bundleOf(incident, true);

        // This test runs in the server's JVM, so the heap also holds the test's own copy of the canary: what the
        // decrypted dump proves is that it is this JVM's heap; what the bundle's bytes prove is that nothing of it
        // shows through the encryption.
        byte[] canary = family.getBytes(StandardCharsets.UTF_8);
        assertThat(contains(bundle, canary)).as("the canary in the bundle file's bytes").isFalse();
        assertThat(scratchDirectories()).as("no scratch copy of the heap dump is left").isEqualTo(scratchBefore);
        Path out = temp.resolve("opened");
        EvidenceBundle.Opened opened = EvidenceBundle.open(bundle, privateKey(), out, null, null);
        assertThat(opened.files()).contains("heap.hprof");
        assertThat(contains(out.resolve("heap.hprof"), canary)).as("the canary in the decrypted heap dump").isTrue();
        assertThat(Files.getPosixFilePermissions(out.resolve("heap.hprof"))).as("decrypted for the officer alone")
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(Files.getPosixFilePermissions(out.resolve("audit"))).containsExactlyInAnyOrder(
                PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);

        String custody = as(officer(), HttpRequest.newBuilder(uri("/admin/incidents/" + incident.id() + "/evidence"))
                .GET()).body();
        List<String> canaries = List.of(family);
        List<String> leaks = new ArrayList<>(PhiScanner.inText("the manifest",
                Files.readString(out.resolve(EvidenceBundle.MANIFEST)), canaries));
        leaks.addAll(PhiScanner.inText("the custody record", custody, canaries));
        leaks.addAll(PhiScanner.inText("log output", output.getAll(), canaries));
        if (Files.exists(out.resolve("logs/server.log"))) { // a test context logs to the console only
            leaks.addAll(PhiScanner.inText("the bundled log lines", Files.readString(out.resolve("logs/server.log")),
                    canaries));
        }
        leaks.addAll(PhiScanner.inText("the incident", Files.readString(out.resolve("incident.json")), canaries));
        assertThat(leaks).isEmpty();
        assertThat(custody).contains("\"heapDump\":true");
    }

    @Test
    void badRequestsAreRefusedWithoutEchoAndChangeNothing() {
        Incident incident = incident(createPatient());
        String path = "/admin/incidents/" + incident.id() + "/evidence";
        Path file = temp.resolve("refused");
        assertThat(makeBundle(officer(), "/admin/incidents/" + UUID.randomUUID() + "/evidence", file).statusCode())
                .isEqualTo(404);
        assertThat(makeBundle(officer(), "/admin/incidents/JaneCanary/evidence", file).statusCode()).isEqualTo(404);
        assertThat(makeBundle(officer(), path + "?withHeap=JaneCanary", file).statusCode()).isEqualTo(400);
        assertThat(makeBundle(officer(), path + "?JaneCanary=true", file).statusCode()).isEqualTo(400);
        assertThat(makeBundle(token(), path, file).statusCode()).as("a records role").isEqualTo(403);
        assertThat(makeBundle(tokenWithRoles("evidence-auditor", TestPolicy.AUDITOR), path, file).statusCode())
                .as("view:audit is not manage:incidents").isEqualTo(403);
        HttpResponse<String> anonymous = sendWithoutToken(HttpRequest.newBuilder(uri(path))
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(anonymous.statusCode()).isEqualTo(401);
        HttpResponse<String> refused = as(officer(), HttpRequest.newBuilder(
                uri(path + "?withHeap=JaneCanary")).POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(refused.body()).contains("OperationOutcome").doesNotContain("JaneCanary");
        assertThat(as(officer(), HttpRequest.newBuilder(uri("/admin/incidents/" + UUID.randomUUID() + "/evidence"))
                .GET()).statusCode()).isEqualTo(404);
        assertThat(as(officer(), HttpRequest.newBuilder(uri(path)).GET()).body()).contains("\"custody\":[]");
        assertThat(incidents.find(incident.id()).orElseThrow().timeline()).extracting(Incident.TimelineEntry::entry)
                .doesNotContain("evidence-preserved");
    }

    /** The evidence route attacked as an outsider would, over a raw TLS socket (as run by hand against start-dev). */
    @Test
    void rawRequestsWithOddHostsPathsMethodsAndTokensAreRefusedWithoutEcho() throws IOException {
        String path = "/admin/incidents/" + UUID.randomUUID() + "/evidence";
        String auth = "Authorization: Bearer " + officer();
        RawHttp.Response otherHost = raw("POST " + path + " HTTP/1.1\r\nHost: JaneCanary.example\r\n" + auth);
        assertThat(otherHost.status()).isEqualTo(421);
        assertThat(otherHost.body()).doesNotContain("JaneCanary");
        assertThat(raw("POST /admin/incidents/%2e%2e/privacy/evidence HTTP/1.1\r\nHost: localhost\r\n" + auth).status())
                .isEqualTo(400);
        assertThat(raw("DELETE " + path + " HTTP/1.1\r\nHost: localhost\r\n" + auth).status()).isIn(403, 405);
        assertThat(raw("PUT " + path + " HTTP/1.1\r\nHost: localhost\r\n" + auth).status()).isIn(403, 405);
        assertThat(raw("POST " + path + " HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.").status())
                .as("an unsigned token").isEqualTo(401);
        RawHttp.Response encoded = raw("POST " + path + "?withHeap=%3Cscript%3EJaneCanary HTTP/1.1\r\nHost: localhost\r\n"
                + auth);
        assertThat(encoded.status()).isEqualTo(400);
        assertThat(encoded.body()).doesNotContain("JaneCanary").doesNotContain("<script>");
    }

    private RawHttp.Response raw(String head) throws IOException {
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) TestInstallation.trustingSslContext(
                TestInstallation.dataDir()).getSocketFactory().createSocket("localhost", port)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write((head + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return RawHttp.read(socket.getInputStream());
        }
    }

    private static List<Path> scratchDirectories() throws IOException {
        try (Stream<Path> tmp = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return tmp.filter(p -> p.getFileName().toString().startsWith("evidence-")).sorted().toList();
        }
    }

    static String sha256(Path file) {
        try {
            return EvidenceBundle.sha256Hex(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@code needle} occurs in the file, streamed (heap dumps are large). */
    static boolean contains(Path file, byte[] needle) throws IOException {
        byte[] buffer = new byte[1 << 20];
        int carried = 0;
        try (InputStream in = Files.newInputStream(file)) {
            for (int read; (read = in.read(buffer, carried, buffer.length - carried)) > 0; ) {
                int length = carried + read;
                outer:
                for (int i = 0; i + needle.length <= length; i++) {
                    for (int j = 0; j < needle.length; j++) {
                        if (buffer[i + j] != needle[j]) {
                            continue outer;
                        }
                    }
                    return true;
                }
                carried = Math.min(needle.length - 1, length);
                System.arraycopy(buffer, length - carried, buffer, 0, carried);
            }
        }
        return false;
    }
}
