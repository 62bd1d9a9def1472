package health.carapace.records.internal;

import health.carapace.records.internal.SearchCatalog.Param;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Resource;

/**
 * {@code _sort}: {@code _lastUpdated} and {@code _id} order the rows in SQL (metadata columns);
 * any other key is a search parameter of the type whose values are encrypted, so the search
 * decrypts its bounded candidate set ({@code carapace.search.max-candidates}) and orders it in
 * memory, after the scope and every criterion have been applied (ADR 0021). Nothing about the
 * order is stored or indexed: an order-revealing index over encrypted fields would leak the
 * values' order to anyone reading the database. Keys are compared on the first value of the
 * parameter (dates by their start, strings normalised as for search, tokens by code); records
 * without a value come last, whatever the direction. Unknown keys are refused (400) naming the
 * parameter, never echoing it.
 */
final class SearchSort {

    /** One key; {@code param} is null for the metadata keys. */
    private record Key(String name, boolean descending, Param param) {}

    private static final SearchSort DEFAULT = new SearchSort(List.of());

    private final List<Key> keys;

    private SearchSort(List<Key> keys) {
        this.keys = List.copyOf(keys);
    }

    static SearchSort parse(String type, Map<String, String[]> parameters) {
        String[] values = parameters.get("_sort");
        if (values == null) {
            return DEFAULT;
        }
        Map<String, Param> catalog = SearchCatalog.forType(type);
        List<Key> keys = new ArrayList<>();
        for (String value : values) {
            for (String raw : value.split(",")) {
                String name = raw.strip();
                if (name.isEmpty()) {
                    continue;
                }
                boolean descending = name.startsWith("-");
                if (descending) {
                    name = name.substring(1);
                }
                if (name.equals("_lastUpdated") || name.equals("_id")) {
                    keys.add(new Key(name, descending, null));
                    continue;
                }
                Param param = catalog.get(name);
                // identifiers are not sorted: the order of SSNs would be a property of SSNs a caller
                // without view:ssn could learn
                if (param == null || param.kind() == SearchCatalog.Kind.REFERENCE || name.equals("identifier")) {
                    throw SafeFhirException.badRequest("An unsupported _sort key was used for " + type
                            + "; _sort takes _lastUpdated, _id or a string, date or code search parameter of the type"
                            + " (GET /fhir/metadata lists them)");
                }
                keys.add(new Key(name, descending, param));
            }
        }
        return new SearchSort(keys);
    }

    /** Whether a key needs the decrypted records (the search then filters and orders in memory). */
    boolean decrypted() {
        return keys.stream().anyMatch(key -> key.param() != null);
    }

    /** The SQL order over {@code phi.resource r}: the metadata keys, then last-updated and id for a stable order. */
    String sql() {
        List<String> order = new ArrayList<>();
        for (Key key : keys) {
            if (key.param() != null) {
                break; // later metadata keys only break ties of a decrypted key: ordered in memory
            }
            order.add((key.name().equals("_id") ? "r.resource_id" : "r.last_updated") + (key.descending() ? " desc" : ""));
        }
        order.add("r.last_updated");
        order.add("r.resource_id");
        return String.join(", ", order);
    }

    /** The order of decrypted records, key by key, then by last-updated and id as in SQL. */
    Comparator<Resource> comparator() {
        Comparator<Resource> order = (a, b) -> 0;
        for (Key key : keys) {
            Comparator<Resource> next = key.param() == null ? metadata(key.name()) : byValue(key.param());
            order = order.thenComparing(key.descending() ? descendingKeepingMissingLast(key) : next);
        }
        return order.thenComparing(metadata("_lastUpdated")).thenComparing(metadata("_id"));
    }

    private static Comparator<Resource> descendingKeepingMissingLast(Key key) {
        if (key.param() == null) {
            return metadata(key.name()).reversed();
        }
        return Comparator.comparing((Resource r) -> sortValue(key.param(), r),
                Comparator.nullsLast(Comparator.<Comparable<Object>>reverseOrder()));
    }

    private static Comparator<Resource> byValue(Param param) {
        return Comparator.comparing((Resource r) -> sortValue(param, r),
                Comparator.nullsLast(Comparator.<Comparable<Object>>naturalOrder()));
    }

    private static Comparator<Resource> metadata(String name) {
        if (name.equals("_id")) {
            return Comparator.comparing(r -> r.getIdElement().getIdPart());
        }
        return Comparator.comparing(r -> r.getMeta().getLastUpdated());
    }

    @SuppressWarnings("unchecked")
    private static Comparable<Object> sortValue(Param param, Resource resource) {
        for (Base value : param.values().apply(resource)) {
            Comparable<?> key = switch (param.kind()) {
                case DATE -> {
                    DateRanges.Range range = DateRanges.of(value);
                    yield range == null ? null : range.low();
                }
                case STRING -> value instanceof PrimitiveType<?> text && text.hasValue()
                        ? Normalise.text(text.getValueAsString()) : null;
                case TOKEN -> token(value);
                case REFERENCE -> null;
            };
            if (key != null) {
                return (Comparable<Object>) key;
            }
        }
        return null;
    }

    private static String token(Base value) {
        if (value instanceof Identifier identifier) {
            return identifier.getValue();
        }
        if (value instanceof CodeableConcept concept) {
            return concept.getCoding().stream().filter(c -> c.hasCode()).map(c -> c.getCode()).findFirst().orElse(null);
        }
        if (value instanceof PrimitiveType<?> primitive && primitive.hasValue()) {
            return primitive.getValueAsString();
        }
        return null;
    }
}
