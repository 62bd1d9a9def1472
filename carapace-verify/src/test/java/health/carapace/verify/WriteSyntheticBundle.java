package health.carapace.verify;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a large synthetic bundle for measuring the verifier by hand (see README.md,
 * "Performance"): {@code WriteSyntheticBundle DIRECTORY EVENTS [HEADS]}. The key it signs with
 * is thrown away; the bundle's public-key.pem is the only copy.
 */
public final class WriteSyntheticBundle {

    private WriteSyntheticBundle() {
    }

    public static void main(String[] args) throws Exception {
        Path directory = Path.of(args[0]);
        int events = Integer.parseInt(args[1]);
        int heads = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        List<Long> sizes = new ArrayList<>();
        for (int i = 1; i <= heads; i++) {
            sizes.add((long) events * i / heads);
        }
        Ed25519TreeHeadSigner signer = Ed25519TreeHeadSigner.generate();
        SyntheticBundle.log(events, sizes, signer).write(directory, signer.verifier(), 0, events);
    }
}
