package health.carapace.access.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The policy directory: one role document per {@code *.json} file (other files and dot-files are
 * ignored). Loading reads and validates every file and fails with every problem at once; changes
 * through the admin API are validated against the whole directory first, then written atomically
 * (temporary file in the same directory, mode 0600, fsync, rename).
 */
final class PolicyDirectory {

    private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}\\.json");
    /** The roles start-dev seeds into a new policy directory (classpath resources next to this class). */
    static final List<String> DEV_ROLES = List.of("admin", "clinician", "radiologist", "records-service",
            "privacy-officer");

    private final Path dir;
    private final ZoneId siteZone;

    PolicyDirectory(Path dir, ZoneId siteZone) {
        this.dir = dir.toAbsolutePath().normalize();
        this.siteZone = siteZone;
    }

    Path path() {
        return dir;
    }

    /** Reads and validates every role file. */
    synchronized PolicySnapshot load() {
        return validate(readAll());
    }

    /**
     * Creates or replaces a role. The document must name the same role; it is validated alone and
     * with the rest of the directory before anything is written.
     *
     * @param beforeWrite runs once the change is known to be valid, before the file is written (the
     *     audit record: if it throws, nothing is written)
     * @return the new snapshot, to install; whether the role was created is {@code created}
     * @throws PolicyException if the document or the resulting directory is invalid (nothing written)
     */
    synchronized Change put(String roleName, String json, Runnable beforeWrite) {
        Map<String, String> files = readAll();
        String existingFile = null;
        PolicySnapshot before = validate(files);
        Role existing = before.role(roleName);
        if (existing != null) {
            existingFile = existing.source();
        }
        String fileName = existingFile != null ? existingFile : roleName + ".json";
        Role parsed = RoleDocuments.parseSent(fileName, roleName, json, siteZone);
        if (!parsed.name().equals(roleName)) {
            // named by the path: the document's own name is what the client sent
            throw new PolicyException(List.of(RoleDocuments.prefix(fileName, roleName)
                    + "the document names another role than the request path"));
        }
        if (existingFile == null && files.containsKey(fileName)) {
            // Unreachable while the directory validates (that file would define this role), kept as a guard.
            throw new PolicyException(List.of(RoleDocuments.prefix(fileName, roleName) + "the file already exists"));
        }
        Map<String, String> after = new TreeMap<>(files);
        after.put(fileName, json);
        PolicySnapshot snapshot = validate(after);
        beforeWrite.run();
        writeAtomically(dir.resolve(fileName), json);
        return new Change(snapshot, existing == null);
    }

    /** Removes a role's file; empty if no such role. */
    synchronized Optional<PolicySnapshot> delete(String roleName, Runnable beforeWrite) {
        Map<String, String> files = readAll();
        Role existing = validate(files).role(roleName);
        if (existing == null) {
            return Optional.empty();
        }
        Map<String, String> after = new TreeMap<>(files);
        after.remove(existing.source());
        PolicySnapshot snapshot = validate(after);
        beforeWrite.run();
        try {
            Files.delete(dir.resolve(existing.source()));
            fsyncDirectory();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete a role file in the policy directory", e);
        }
        return Optional.of(snapshot);
    }

    record Change(PolicySnapshot snapshot, boolean created) {}

    /**
     * start-dev only: creates the directory with the documented dev roles if it does not exist yet.
     * Never overwrites: once the directory exists it belongs to the operator.
     */
    synchronized boolean seedDevRolesIfAbsent() {
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            for (String role : DEV_ROLES) {
                try (InputStream in = PolicyDirectory.class.getResourceAsStream("dev-policy/" + role + ".json")) {
                    if (in == null) {
                        throw new IllegalStateException("dev role resource missing from the build");
                    }
                    writeAtomically(dir.resolve(role + ".json"), new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the dev policy directory", e);
        }
    }

    private Map<String, String> readAll() {
        if (!Files.isDirectory(dir)) {
            throw new PolicyException(List.of("the policy directory (carapace.access.policy-dir) does not exist "
                    + "or is not a directory"));
        }
        Map<String, String> files = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.startsWith(".") || !name.endsWith(".json") || !Files.isRegularFile(entry)) {
                    continue;
                }
                if (!FILE_NAME.matcher(name).matches()) {
                    problems.add("a file name in the policy directory is not of the form NAME.json "
                            + "(letters, digits, '.', '_', '-')");
                    continue;
                }
                if (Files.size(entry) > RoleDocuments.MAX_DOCUMENT_BYTES) {
                    problems.add(RoleDocuments.prefix(name, null) + "larger than 64 KiB");
                    continue;
                }
                try {
                    files.put(name, StandardCharsets.UTF_8.newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(Files.readAllBytes(entry))).toString());
                } catch (CharacterCodingException e) {
                    problems.add(RoleDocuments.prefix(name, null) + "not UTF-8");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the policy directory", e);
        }
        if (!problems.isEmpty()) {
            throw new PolicyException(problems);
        }
        return files;
    }

    private PolicySnapshot validate(Map<String, String> files) {
        List<String> problems = new ArrayList<>();
        Map<String, Role> roles = new HashMap<>();
        for (Map.Entry<String, String> file : new TreeMap<>(files).entrySet()) {
            try {
                Role role = RoleDocuments.parse(file.getKey(), file.getValue(), siteZone);
                Role earlier = roles.putIfAbsent(role.name(), role);
                if (earlier != null) {
                    problems.add(RoleDocuments.prefix(file.getKey(), role.name())
                            + "duplicate role name (also defined in " + earlier.source() + ")");
                }
            } catch (PolicyException e) {
                problems.addAll(e.problems());
            }
        }
        if (!problems.isEmpty()) {
            throw new PolicyException(problems);
        }
        return new PolicySnapshot(roles, siteZone);
    }

    private void writeAtomically(Path target, String content) {
        Path temp = null;
        try {
            temp = Files.createTempFile(dir, ".role-", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer bytes = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                channel.force(true);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the policy directory does not support atomic rename", e);
            }
            temp = null;
            fsyncDirectory();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a role file in the policy directory", e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // a leftover dot-file is ignored by the loader
                }
            }
        }
    }

    /** Makes the rename itself durable (Linux: fsync on the directory). */
    private void fsyncDirectory() {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException ignored) {
            // Some file systems refuse to open a directory; the rename is still atomic.
        }
    }
}
