package health.carapace.records.internal;

import health.carapace.crypto.BlindIndex;
import health.carapace.records.internal.SearchCatalog.Kind;
import health.carapace.records.internal.SearchCatalog.Param;
import health.carapace.records.internal.SearchCatalog.Serving;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Resource;
import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Writes and looks up blind-index tokens. What is indexed, per the CipherSweet rules:
 * <ul>
 *   <li>tokens ({@code identifier}, {@code code}): {@code system|value} and {@code value}, each
 *       its own index;</li>
 *   <li>strings: only the first {@value Normalise#PREFIX_LENGTH} normalised characters, so that
 *       one token covers many names and starts-with search works (longer queries are filtered
 *       after decryption);</li>
 *   <li>birth dates: the exact day, truncated hard, because the domain is small.</li>
 * </ul>
 * Low-entropy fields (gender, status) are never indexed.
 */
class SearchIndexer {

    record Term(String index, String value) {}

    private final JdbcClient jdbc;
    private final JdbcTemplate batches;
    private final BlindIndex blindIndex;
    private final IndexPlanner planner;

    SearchIndexer(DataSource dataSource, BlindIndex blindIndex, IndexPlanner planner) {
        this.jdbc = JdbcClient.create(dataSource);
        this.batches = new JdbcTemplate(dataSource);
        this.blindIndex = blindIndex;
        this.planner = planner;
    }

    /** Replaces the tokens of a resource with those of its new current version. */
    void index(String type, UUID id, Resource resource) {
        remove(type, id);
        insert(type, id, resource);
    }

    /** Writes the tokens of a resource that has none (now), in one batched statement. */
    void insert(String type, UUID id, Resource resource) {
        List<Object[]> rows = new ArrayList<>();
        addRows(rows, type, id, resource, blindIndex.activeVersion());
        write(rows);
    }

    /**
     * The tokens of a resource that has none yet (a create), under the active key version, as
     * columns: a create inserts them in the statement that stores the resource
     * ({@link RecordStore#create}), one round trip for the pointer, the version and the tokens.
     */
    record NewTokens(String[] indexes, Integer[] tokens, int keyVersion) {}

    NewTokens tokensOf(String type, UUID id, Resource resource) {
        int keyVersion = blindIndex.activeVersion();
        List<Object[]> rows = new ArrayList<>();
        addRows(rows, type, id, resource, keyVersion);
        String[] indexes = new String[rows.size()];
        Integer[] tokens = new Integer[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            indexes[i] = (String) rows.get(i)[2];
            tokens[i] = (Integer) rows.get(i)[3];
        }
        return new NewTokens(indexes, tokens, keyVersion);
    }

    /** Token rows {@code (type, id, index, token, key version)} of one resource, under {@code keyVersion}. */
    void addRows(List<Object[]> rows, String type, UUID id, Resource resource, int keyVersion) {
        Set<Integer> seen = new LinkedHashSet<>();
        for (Param param : SearchCatalog.forType(type).values()) {
            if (param.serving() != Serving.BLIND_INDEX) {
                continue;
            }
            for (Base value : param.values().apply(resource)) {
                for (Term term : terms(type, param, value)) {
                    int token = token(term, keyVersion);
                    // the same (index, token) once per resource is enough
                    if (seen.add(31 * term.index().hashCode() + token)) {
                        rows.add(new Object[] {type, id, term.index(), token, keyVersion});
                    }
                }
            }
        }
    }

    void write(List<Object[]> rows) {
        if (!rows.isEmpty()) {
            batches.batchUpdate("insert into phi_index.token (resource_type, resource_id, index_name, token, key_version) "
                    + "values (?, ?, ?, ?, ?)", rows);
        }
    }

    void remove(String type, UUID id) {
        jdbc.sql("delete from phi_index.token where resource_type = ? and resource_id = ?").params(type, id).update();
    }

    int token(Term term, int keyVersion) {
        return blindIndex.token(keyVersion, term.index(), term.value(), planner.bits(term.index()));
    }

    int activeVersion() {
        return blindIndex.activeVersion();
    }

    /** Index key versions whose tokens a search must look for (more than one during a re-index). */
    List<Integer> searchableVersions() {
        return blindIndex.searchableVersions();
    }

    /** The index terms a stored value contributes. */
    static List<Term> terms(String type, Param param, Base value) {
        String base = type + "." + param.name();
        List<Term> terms = new ArrayList<>();
        if (param.kind() == Kind.TOKEN) {
            if (value instanceof Identifier identifier && identifier.hasValue()) {
                addToken(terms, base, identifier.getSystem(), identifier.getValue());
            } else if (value instanceof CodeableConcept concept) {
                for (Coding coding : concept.getCoding()) {
                    if (coding.hasCode()) {
                        addToken(terms, base, coding.getSystem(), coding.getCode());
                    }
                }
            }
        } else if (param.kind() == Kind.STRING && value instanceof PrimitiveType<?> text && text.hasValue()) {
            String prefix = Normalise.prefix(Normalise.text(text.getValueAsString()));
            if (prefix != null) {
                terms.add(new Term(base + ":prefix", prefix));
            }
        } else if (param.kind() == Kind.DATE && value instanceof BaseDateTimeType date && date.hasValue()
                && date.getPrecision() == TemporalPrecisionEnum.DAY) {
            terms.add(new Term(base + ":day", date.getValueAsString()));
        }
        return terms;
    }

    static void addToken(List<Term> terms, String base, String system, String value) {
        terms.add(new Term(base, (system == null ? "" : system) + "|" + value));
        terms.add(new Term(base + ":value", value));
    }
}
