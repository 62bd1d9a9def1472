package health.carapace.audit.internal;

import health.carapace.verify.MerkleHash;
import health.carapace.verify.SignedTreeHead;
import health.carapace.verify.TreeHead;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Signed tree heads written outside the database, one JSON line each, flushed to disk. Someone
 * who rewrites the audit tables cannot also rewrite what was witnessed here (put the directory
 * on other storage: another host, write-once media), so a rolled-back or re-built log shows up
 * in {@code audit verify}.
 */
final class WitnessDirectory {

    static final String FILE = "tree-heads.jsonl";
    private static final Pattern LINE = Pattern.compile(
            "\\{\"tree_size\":(\\d+),\"root_hash\":\"([0-9a-f]{64})\",\"timestamp\":(\\d+),\"key_id\":\"([^\"]+)\",\"signature\":\"([A-Za-z0-9+/=]+)\"}");

    private final Path file;

    WitnessDirectory(Path directory) {
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create the audit witness directory " + directory, e);
        }
        this.file = directory.resolve(FILE);
    }

    static String toJson(SignedTreeHead signed) {
        TreeHead head = signed.head();
        return "{\"tree_size\":" + head.treeSize() + ",\"root_hash\":\"" + head.rootHash().toHex()
                + "\",\"timestamp\":" + head.timestampMillis() + ",\"key_id\":\"" + head.keyId()
                + "\",\"signature\":\"" + Base64.getEncoder().encodeToString(signed.signature()) + "\"}";
    }

    synchronized void append(SignedTreeHead signed) {
        byte[] line = (toJson(signed) + "\n").getBytes(StandardCharsets.UTF_8);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            channel.write(ByteBuffer.wrap(line));
            channel.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write to the audit witness file " + file, e);
        }
    }

    /** Every witnessed head; a line that is not a tree head is reported by its number. */
    List<SignedTreeHead> read(List<String> problems) {
        List<SignedTreeHead> heads = new ArrayList<>();
        if (!Files.exists(file)) {
            return heads;
        }
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = LINE.matcher(lines.get(i));
                if (!m.matches()) {
                    problems.add("witness file line " + (i + 1) + " is not a tree head");
                    continue;
                }
                heads.add(SignedTreeHead.of(TreeHead.of(Long.parseLong(m.group(1)), MerkleHash.fromHex(m.group(2)),
                        Long.parseLong(m.group(3)), m.group(4)), Base64.getDecoder().decode(m.group(5))));
            }
        } catch (IOException e) {
            problems.add("the witness file cannot be read: " + e.getClass().getSimpleName());
        }
        return heads;
    }

    Path file() {
        return file;
    }
}
