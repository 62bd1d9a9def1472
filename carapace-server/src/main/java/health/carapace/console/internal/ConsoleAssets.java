package health.carapace.console.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The addresses the console's pages load their files from, each carrying its content's hash
 * ({@code ?v=}): static files are cached publicly for a year (application.properties), so a page
 * must name a changed file by a new address, or a fix to the script that sends the CSRF header, or
 * to the design, would not reach browsers and shared caches for a year (review of the console,
 * finding 10). htmx's file name already carries its version.
 *
 * @param stylesheet the shared design, {@code /assets/carapace.css?v=<hash>}
 * @param script the console's script, {@code /assets/console.js?v=<hash>}
 * @param htmx the vendored htmx
 */
public record ConsoleAssets(String stylesheet, String script, String htmx) {

    static final ConsoleAssets CURRENT = new ConsoleAssets(
            "/assets/carapace.css?v=" + contentVersion("/static/assets/carapace.css"),
            "/assets/console.js?v=" + contentVersion("/static/assets/console.js"),
            "/assets/htmx-2.0.11.min.js");

    /** The first 8 bytes of the file's SHA-256, in hex: what changes whenever the file does. */
    static String contentVersion(String resource) {
        try (InputStream in = ConsoleAssets.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is missing from the build");
            }
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(in.readAllBytes()), 0, 8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
