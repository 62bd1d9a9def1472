package health.carapace.verify;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The audit bundle's files and their JSON, in one place for the writer and the verifier. The
 * format is specified in this module's README.md.
 */
final class BundleFormat {

    static final String FORMAT = "carapace-audit-bundle";
    static final int VERSION = 1;

    static final String MANIFEST = "manifest.json";
    static final String PUBLIC_KEY = "public-key.pem";
    static final String TREE_HEADS = "tree-heads.jsonl";
    static final String CONSISTENCY = "consistency.jsonl";
    static final String EVENTS = "events.jsonl";
    static final String PROOFS = "proofs.jsonl";

    static final JsonMapper JSON = JsonMapper.builder()
            // A repeated key could show one value to this verifier and another to a different tool.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** A tree of fewer than 2^63 leaves is at most 63 levels deep; a consistency proof adds one. */
    private static final int MAX_PATH = 64;

    private BundleFormat() {
    }

    record Manifest(long firstLeafIndex, long endLeafIndex) {
    }

    record Event(long leafIndex, byte[] leaf) {
    }

    record EventProof(long leafIndex, long treeSize, List<MerkleHash> auditPath) {
    }

    // ---- writing ----

    static String manifestJson(long firstLeafIndex, long endLeafIndex) {
        ObjectNode node = JSON.createObjectNode();
        node.put("format", FORMAT);
        node.put("version", VERSION);
        node.put("first_leaf_index", firstLeafIndex);
        node.put("end_leaf_index", endLeafIndex);
        return JSON.writeValueAsString(node);
    }

    static String treeHeadLine(SignedTreeHead signed) {
        TreeHead head = signed.head();
        ObjectNode node = JSON.createObjectNode();
        node.put("tree_size", head.treeSize());
        node.put("root_hash", head.rootHash().toHex());
        node.put("timestamp", head.timestampMillis());
        node.put("key_id", head.keyId());
        node.put("signature", Base64.getEncoder().encodeToString(signed.signature()));
        return JSON.writeValueAsString(node);
    }

    static String consistencyLine(ConsistencyProof proof) {
        ObjectNode node = JSON.createObjectNode();
        node.put("old_size", proof.oldSize());
        node.put("new_size", proof.newSize());
        hexArray(node.putArray("proof"), proof.path());
        return JSON.writeValueAsString(node);
    }

    static String eventLine(long leafIndex, byte[] leaf) {
        ObjectNode node = JSON.createObjectNode();
        node.put("leaf_index", leafIndex);
        node.put("leaf", Base64.getEncoder().encodeToString(leaf));
        return JSON.writeValueAsString(node);
    }

    static String proofLine(InclusionProof proof) {
        ObjectNode node = JSON.createObjectNode();
        node.put("leaf_index", proof.leafIndex());
        node.put("tree_size", proof.treeSize());
        hexArray(node.putArray("audit_path"), proof.auditPath());
        return JSON.writeValueAsString(node);
    }

    private static void hexArray(ArrayNode array, List<MerkleHash> hashes) {
        for (MerkleHash hash : hashes) {
            array.add(hash.toHex());
        }
    }

    // ---- reading: each problem becomes a BundleVerificationException naming file and line ----

    static Manifest parseManifest(String text) throws BundleVerificationException {
        Line line = Line.parse(MANIFEST, 0, text.getBytes(StandardCharsets.US_ASCII), Set.of("format", "version", "first_leaf_index", "end_leaf_index"));
        if (!FORMAT.equals(line.string("format"))) {
            throw line.failure("format is not \"" + FORMAT + "\"");
        }
        long version = line.nonNegativeLong("version");
        if (version != VERSION) {
            throw line.failure("bundle format version " + version + " is not supported (this verifier reads "
                    + VERSION + ")");
        }
        long first = line.nonNegativeLong("first_leaf_index");
        long end = line.nonNegativeLong("end_leaf_index");
        if (end < first) {
            throw line.failure("end_leaf_index " + end + " is before first_leaf_index " + first);
        }
        return new Manifest(first, end);
    }

    static SignedTreeHead parseTreeHead(long lineNumber, byte[] text) throws BundleVerificationException {
        Line line = Line.parse(TREE_HEADS, lineNumber, text,
                Set.of("tree_size", "root_hash", "timestamp", "key_id", "signature"));
        long treeSize = line.nonNegativeLong("tree_size");
        MerkleHash root = line.hash("root_hash");
        long timestamp = line.nonNegativeLong("timestamp");
        String keyId = line.string("key_id");
        byte[] signature = line.base64("signature");
        try {
            return SignedTreeHead.of(TreeHead.of(treeSize, root, timestamp, keyId), signature);
        } catch (IllegalArgumentException e) {
            throw line.failure(e.getMessage());
        }
    }

    static ConsistencyProof parseConsistency(long lineNumber, byte[] text) throws BundleVerificationException {
        Line line = Line.parse(CONSISTENCY, lineNumber, text, Set.of("old_size", "new_size", "proof"));
        long oldSize = line.nonNegativeLong("old_size");
        long newSize = line.nonNegativeLong("new_size");
        List<MerkleHash> path = line.hashes("proof");
        if (oldSize > newSize) {
            throw line.failure("old_size " + oldSize + " is larger than new_size " + newSize);
        }
        return ConsistencyProof.of(oldSize, newSize, path);
    }

    static Event parseEvent(long lineNumber, byte[] text) throws BundleVerificationException {
        Line line = Line.parse(EVENTS, lineNumber, text, Set.of("leaf_index", "leaf"));
        return new Event(line.nonNegativeLong("leaf_index"), line.base64("leaf"));
    }

    static EventProof parseProof(long lineNumber, byte[] text) throws BundleVerificationException {
        Line line = Line.parse(PROOFS, lineNumber, text, Set.of("leaf_index", "tree_size", "audit_path"));
        return new EventProof(line.nonNegativeLong("leaf_index"), line.nonNegativeLong("tree_size"),
                line.hashes("audit_path"));
    }

    /**
     * One flat JSON object (a manifest or a JSON Lines line) with exactly the expected fields,
     * read with Jackson's streaming parser: the event and proof lines are the verifier's hot
     * path, and a tree of nodes per line would cost more than the hashing.
     */
    private record Line(String file, long number, Map<String, Object> values) {

        /** Stands for a value of a type no field of the format has (object, boolean, null, fraction, huge number). */
        private static final Object OTHER = new Object();

        static Line parse(String file, long number, byte[] text, Set<String> fields) throws BundleVerificationException {
            Map<String, Object> values = new HashMap<>();
            try (JsonParser parser = JSON.createParser(text)) {
                if (parser.nextToken() != JsonToken.START_OBJECT) {
                    throw new BundleVerificationException(file, number, "not a JSON object");
                }
                for (JsonToken token = parser.nextToken(); token != JsonToken.END_OBJECT; token = parser.nextToken()) {
                    String name = parser.currentName();
                    values.put(name, value(parser, parser.nextToken()));
                }
                if (parser.nextToken() != null) {
                    throw new BundleVerificationException(file, number, "not valid JSON: more after the object");
                }
            } catch (JacksonException e) {
                // Includes repeated keys (STRICT_DUPLICATE_DETECTION). Jackson's message may quote
                // the input; the location is enough.
                throw new BundleVerificationException(file, number, "not valid JSON");
            }
            Line line = new Line(file, number, values);
            Set<String> missing = new TreeSet<>(fields);
            missing.removeAll(values.keySet());
            if (!missing.isEmpty()) {
                throw line.failure("missing " + String.join(", ", missing));
            }
            Set<String> unexpected = new TreeSet<>(values.keySet());
            unexpected.removeAll(fields);
            if (!unexpected.isEmpty()) {
                throw line.failure("unexpected field " + String.join(", ", unexpected));
            }
            return line;
        }

        private static Object value(JsonParser parser, JsonToken token) {
            switch (token) {
                case VALUE_NUMBER_INT:
                    JsonParser.NumberType type = parser.getNumberType();
                    return type == JsonParser.NumberType.INT || type == JsonParser.NumberType.LONG
                            ? (Object) parser.getLongValue() : OTHER;
                case VALUE_STRING:
                    return parser.getString();
                case START_ARRAY:
                    List<Object> elements = new ArrayList<>();
                    for (JsonToken element = parser.nextToken(); element != JsonToken.END_ARRAY;
                            element = parser.nextToken()) {
                        elements.add(element == JsonToken.VALUE_STRING ? parser.getString() : OTHER);
                        parser.skipChildren();
                    }
                    return elements;
                default:
                    parser.skipChildren();
                    return OTHER;
            }
        }

        BundleVerificationException failure(String problem) {
            return new BundleVerificationException(file, number, problem);
        }

        long nonNegativeLong(String field) throws BundleVerificationException {
            if (values.get(field) instanceof Long value && value >= 0) {
                return value;
            }
            throw failure(field + " is not a whole number from 0 to 2^63-1");
        }

        String string(String field) throws BundleVerificationException {
            if (values.get(field) instanceof String value) {
                return value;
            }
            throw failure(field + " is not a string");
        }

        byte[] base64(String field) throws BundleVerificationException {
            try {
                return Base64.getDecoder().decode(string(field));
            } catch (IllegalArgumentException e) {
                throw failure(field + " is not base64");
            }
        }

        MerkleHash hash(String field) throws BundleVerificationException {
            return hashValue(field, string(field));
        }

        List<MerkleHash> hashes(String field) throws BundleVerificationException {
            if (!(values.get(field) instanceof List<?> elements)) {
                throw failure(field + " is not an array");
            }
            if (elements.size() > MAX_PATH) {
                throw failure(field + " has " + elements.size() + " hashes; no tree needs more than " + MAX_PATH);
            }
            List<MerkleHash> hashes = new ArrayList<>(elements.size());
            for (int i = 0; i < elements.size(); i++) {
                String name = field + "[" + i + "]";
                if (!(elements.get(i) instanceof String hex)) {
                    throw failure(name + " is not a string");
                }
                hashes.add(hashValue(name, hex));
            }
            return hashes;
        }

        private MerkleHash hashValue(String name, String hex) throws BundleVerificationException {
            try {
                return MerkleHash.fromHex(hex);
            } catch (IllegalArgumentException e) {
                throw failure(name + " is not 64 hex digits");
            }
        }
    }
}
