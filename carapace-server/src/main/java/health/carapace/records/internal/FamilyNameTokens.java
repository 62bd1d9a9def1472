package health.carapace.records.internal;

import health.carapace.records.Compartment;
import health.carapace.records.FamilyNameIndex;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.StringType;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * {@link FamilyNameIndex} over the {@code Patient.family} prefix index that search already keeps:
 * the term is made by the same code that indexes a stored Patient, so the two cannot drift apart.
 */
@Component
class FamilyNameTokens implements FamilyNameIndex {

    private static final SearchCatalog.Param FAMILY = SearchCatalog.forType("Patient").get("family");

    private final SearchIndexer indexer;
    private final JdbcClient jdbc;

    FamilyNameTokens(SearchIndexer indexer, DataSource dataSource) {
        this.indexer = indexer;
        this.jdbc = JdbcClient.create(dataSource);
    }

    @Override
    public Optional<Token> tokenOf(String familyName) {
        if (familyName == null) {
            return Optional.empty();
        }
        var terms = SearchIndexer.terms("Patient", FAMILY, new StringType(familyName));
        if (terms.isEmpty()) {
            return Optional.empty();
        }
        int version = indexer.activeVersion();
        return Optional.of(new Token(version, indexer.token(terms.get(0), version)));
    }

    @Override
    public Map<Compartment, Set<Token>> tokensOf(Collection<Compartment> patients) {
        Map<Compartment, Set<Token>> tokens = new HashMap<>();
        if (patients.isEmpty()) {
            return tokens;
        }
        String[] ids = patients.stream().map(c -> c.patient().toString()).distinct().toArray(String[]::new);
        String index = SearchIndexer.terms("Patient", FAMILY, new StringType("aaa")).get(0).index();
        jdbc.sql("""
                select resource_id, key_version, token from phi_index.token
                where resource_type = 'Patient' and index_name = ? and resource_id = any(?::uuid[])""")
                .params(index, ids)
                .query(rs -> {
                    tokens.computeIfAbsent(new Compartment(rs.getObject(1, UUID.class)), k -> new HashSet<>())
                            .add(new Token(rs.getInt(2), rs.getInt(3)));
                });
        return tokens;
    }
}
