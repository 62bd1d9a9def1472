package health.carapace.export.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Where export files live: {@code <directory>/<job>/part-<n>-<Type>.ndjson.enc}, ciphertext only
 * (written through the export's streaming AEAD), mode 0600 in directories of mode 0700. File names
 * hold a part number and a resource type, never a patient.
 */
final class ExportFiles {

    private static final Pattern NAME = Pattern.compile("part-([0-9]{1,6})-([A-Z][A-Za-z]{1,63})\\.ndjson\\.enc");

    private final Path directory;

    ExportFiles(Path directory) {
        this.directory = directory;
    }

    static String name(int part, String type) {
        return "part-" + part + "-" + type + ".ndjson.enc";
    }

    static boolean validName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    Path directory() {
        return directory;
    }

    OutputStream create(UUID job, String name) throws IOException {
        Path dir = directory.resolve(job.toString());
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Path file = dir.resolve(name);
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        return Files.newOutputStream(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    InputStream open(UUID job, String name) throws IOException {
        return Files.newInputStream(directory.resolve(job.toString()).resolve(name));
    }

    /** Deletes files of parts after {@code committedPart}: written before a restart, never committed. */
    void deleteUncommitted(UUID job, int committedPart) {
        Path dir = directory.resolve(job.toString());
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                var m = NAME.matcher(entry.getFileName().toString());
                if (!m.matches() || Integer.parseInt(m.group(1)) > committedPart) {
                    Files.deleteIfExists(entry);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void deleteAll(UUID job) {
        Path dir = directory.resolve(job.toString());
        if (!Files.isDirectory(dir)) {
            return;
        }
        deleteUncommitted(job, -1);
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
