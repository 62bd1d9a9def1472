package health.carapace.verify;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The files of a bundle, from a directory or from a .zip of one (at the top level of the
 * archive, or inside one top-level directory).
 */
abstract class BundleFiles implements Closeable {

    static BundleFiles open(Path bundle) throws IOException {
        if (Files.isDirectory(bundle)) {
            return new Directory(bundle);
        }
        if (Files.isRegularFile(bundle)) {
            return new Zip(bundle);
        }
        throw new IOException("no such directory or file: " + bundle);
    }

    abstract boolean exists(String name);

    abstract InputStream openStream(String name) throws IOException;

    private static final class Directory extends BundleFiles {
        private final Path directory;

        Directory(Path directory) {
            this.directory = directory;
        }

        @Override
        boolean exists(String name) {
            return Files.isRegularFile(directory.resolve(name));
        }

        @Override
        InputStream openStream(String name) throws IOException {
            return Files.newInputStream(directory.resolve(name));
        }

        @Override
        public void close() {
        }
    }

    private static final class Zip extends BundleFiles {
        private final ZipFile zip;
        private final Map<String, ZipEntry> entries = new HashMap<>();

        Zip(Path file) throws IOException {
            zip = new ZipFile(file.toFile(), StandardCharsets.UTF_8);
            try {
                Map<String, ZipEntry> byPath = new HashMap<>();
                String commonDirectory = null;
                boolean oneDirectory = true;
                for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                    ZipEntry entry = e.nextElement();
                    if (entry.isDirectory()) {
                        continue;
                    }
                    if (byPath.put(entry.getName(), entry) != null) {
                        // Two entries with one name: tools disagree on which one counts.
                        throw new IOException("the archive holds " + entry.getName() + " twice");
                    }
                    int slash = entry.getName().indexOf('/');
                    String directory = slash < 0 ? "" : entry.getName().substring(0, slash + 1);
                    if (commonDirectory == null) {
                        commonDirectory = directory;
                    } else if (!commonDirectory.equals(directory)) {
                        oneDirectory = false;
                    }
                }
                String prefix = oneDirectory && commonDirectory != null ? commonDirectory : "";
                for (Map.Entry<String, ZipEntry> entry : byPath.entrySet()) {
                    String name = entry.getKey();
                    if (name.startsWith(prefix) && name.indexOf('/', prefix.length()) < 0) {
                        entries.put(name.substring(prefix.length()), entry.getValue());
                    }
                }
            } catch (IOException | RuntimeException e) {
                zip.close();
                throw e;
            }
        }

        @Override
        boolean exists(String name) {
            return entries.containsKey(name);
        }

        @Override
        InputStream openStream(String name) throws IOException {
            ZipEntry entry = entries.get(name);
            if (entry == null) {
                throw new IOException("the archive has no " + name);
            }
            return zip.getInputStream(entry);
        }

        @Override
        public void close() throws IOException {
            zip.close();
        }
    }
}
