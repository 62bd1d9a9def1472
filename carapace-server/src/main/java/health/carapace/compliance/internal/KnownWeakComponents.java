package health.carapace.compliance.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The project's list of component versions known to be weak ({@code known-weak-components.txt}
 * beside this class): one line per entry, {@code COORDINATES  BELOW_VERSION  REASON}, where
 * coordinates are {@code group:artifact} from the SBOM or {@code postgresql-server} for the
 * database the server talks to. A component whose version is below an entry's is flagged.
 */
final class KnownWeakComponents {

    record Entry(String coordinates, String fixedIn, String reason) {}

    record Finding(String coordinates, String version, Entry entry) {}

    private final List<Entry> entries;

    KnownWeakComponents(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    static KnownWeakComponents bundled() {
        try (InputStream in = KnownWeakComponents.class.getResourceAsStream("known-weak-components.txt")) {
            if (in == null) {
                throw new IllegalStateException("known-weak-components.txt is missing from the jar");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static KnownWeakComponents parse(String text) {
        List<Entry> entries = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new java.io.StringReader(text))) {
            String line;
            while ((line = lines.readLine()) != null) {
                String trimmed = line.strip();
                if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                    continue;
                }
                String[] parts = trimmed.split("\\s+", 3);
                if (parts.length < 3) {
                    throw new IllegalStateException("known-weak-components.txt: a line needs coordinates, version and reason");
                }
                entries.add(new Entry(parts[0], parts[1], parts[2]));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new KnownWeakComponents(entries);
    }

    int size() {
        return entries.size();
    }

    Optional<Finding> judge(String coordinates, String version) {
        if (version == null) {
            return Optional.empty();
        }
        for (Entry entry : entries) {
            if (entry.coordinates().equals(coordinates) && compare(version, entry.fixedIn()) < 0) {
                return Optional.of(new Finding(coordinates, version, entry));
            }
        }
        return Optional.empty();
    }

    /** Compares dotted versions by their leading numbers (1.10 after 1.9); a qualifier counts as nothing. */
    static int compare(String a, String b) {
        String[] x = a.split("[.\\-+]");
        String[] y = b.split("[.\\-+]");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            long p = i < x.length ? leadingNumber(x[i]) : 0;
            long q = i < y.length ? leadingNumber(y[i]) : 0;
            if (p != q) {
                return Long.compare(p, q);
            }
        }
        return 0;
    }

    private static long leadingNumber(String part) {
        int end = 0;
        while (end < part.length() && end < 18 && Character.isDigit(part.charAt(end))) {
            end++;
        }
        return end == 0 ? 0 : Long.parseLong(part.substring(0, end));
    }
}
