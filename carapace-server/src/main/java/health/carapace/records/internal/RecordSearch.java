package health.carapace.records.internal;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.param.DateParam;
import ca.uhn.fhir.rest.param.ParamPrefixEnum;
import health.carapace.access.PatientScope;
import health.carapace.records.internal.SearchCatalog.Kind;
import health.carapace.records.internal.SearchCatalog.Param;
import health.carapace.records.internal.SearchCatalog.Serving;
import health.carapace.records.internal.SearchIndexer.Term;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Plans and runs a search. Candidates come from metadata columns and blind-index tokens only;
 * whenever a criterion cannot be decided without the plaintext (truncated tokens, prefixes,
 * dates, status), the candidates are decrypted and filtered before anything is returned.
 * Error messages name parameters from the catalog and never echo a searched value.
 */
class RecordSearch {

    /** Parameters HAPI handles itself while rendering the result. */
    private static final Set<String> RESULT_PARAMETERS = Set.of("_count", "_format", "_pretty", "_summary", "_elements");
    /** Parameters that shape the result rather than select it: {@link SearchSort}, {@link Inclusions}. */
    private static final Set<String> SHAPING_PARAMETERS = Set.of("_sort", "_include", "_revinclude");
    private static final Pattern DAY = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");

    private final JdbcClient jdbc;
    private final GenericPlans genericPlans;
    private final RecordStore store;
    private final SearchIndexer indexer;
    private final int maxCandidates;

    RecordSearch(DataSource dataSource, TransactionTemplate transactions, RecordStore store, SearchIndexer indexer,
            @Value("${carapace.search.max-candidates}") int maxCandidates) {
        this.jdbc = JdbcClient.create(dataSource);
        this.genericPlans = new GenericPlans(jdbc, transactions);
        this.store = store;
        this.indexer = indexer;
        this.maxCandidates = maxCandidates;
    }

    /** The criteria of one search, as SQL over metadata and tokens plus filters over plaintext. */
    private static final class Plan {
        // Shredded compartments are left out of every search: their records no longer exist.
        final StringBuilder where = new StringBuilder("r.resource_type = ? and not r.deleted and not "
                + RecordStore.SHREDDED_CURRENT);
        final List<Object> args = new ArrayList<>();
        final List<Predicate<Resource>> filters = new ArrayList<>();
        boolean narrowed;
        boolean filterOnly;

        void and(String clause, Object... values) {
            where.append(" and (").append(clause).append(')');
            args.addAll(List.of(values));
        }
    }

    /**
     * Runs a search. {@code ssnVisible}: whether the caller may see SSNs; without it an SSN
     * identifier ({@link SsnRule#isSsn}) never matches, so neither a total nor a result can
     * confirm one, whatever system or spelling the query used.
     */
    IBundleProvider search(String type, Map<String, String[]> parameters, AccessEnforcement.Scopes scopes,
            boolean ssnVisible) {
        if (scopes == null) {
            // no decision was made for this search: fail closed
            throw RecordGuard.forbidden("no-decision");
        }
        Plan plan = new Plan();
        plan.args.add(type);
        narrow(plan, scopes);
        // the scope alone, for re-narrowing each page of results fixed at search time
        String scopeWhere = plan.where.toString();
        List<Object> scopeArgs = List.copyOf(plan.args);
        criteria(type, parameters, plan, ssnVisible);
        if (plan.filterOnly && !plan.narrowed) {
            throw SafeFhirException.badRequest("This search cannot be served from blind indexes: combine it with "
                    + "patient, subject, _id or an indexed parameter (see GET /fhir/metadata)");
        }
        SearchSort sort = SearchSort.parse(type, parameters);
        if (sort.decrypted() && !plan.narrowed) {
            // sorting by an encrypted key decrypts every candidate: the same bound as a filter
            throw SafeFhirException.badRequest("Sorting by an encrypted element needs a narrowing criterion: combine "
                    + "it with patient, subject, _id or an indexed parameter (see GET /fhir/metadata)");
        }
        if (plan.filters.isEmpty() && !sort.decrypted()) {
            return new SearchResults.Lazy(type, store, jdbc, plan.where.toString(), plan.args, scopes, sort.sql());
        }
        return new SearchResults.Listed(type, store, filtered(type, plan, sort), scopes, jdbc, scopeWhere, scopeArgs);
    }

    /** Adds each selecting parameter of a query to the plan (result-shaping parameters are left to their owners). */
    private void criteria(String type, Map<String, String[]> parameters, Plan plan, boolean ssnVisible) {
        Map<String, Param> catalog = SearchCatalog.forType(type);
        for (var entry : parameters.entrySet()) {
            String[] nameAndModifier = entry.getKey().split(":", 2);
            String name = nameAndModifier[0];
            String modifier = nameAndModifier.length > 1 ? nameAndModifier[1] : null;
            if (RESULT_PARAMETERS.contains(name) || SHAPING_PARAMETERS.contains(name)) {
                continue;
            }
            for (String value : entry.getValue()) {
                if (value == null || value.isBlank()) {
                    continue;
                }
                List<String> alternatives = splitOr(value);
                switch (name) {
                    case "_id" -> {
                        requireNoModifier(modifier, name);
                        plan.and("r.resource_id = any(?)", (Object) alternatives.stream()
                                .map(Ids::parse).flatMap(Optional::stream).toArray(UUID[]::new));
                        plan.narrowed = true;
                    }
                    case "_lastUpdated" -> {
                        requireNoModifier(modifier, name);
                        lastUpdated(plan, alternatives);
                    }
                    default -> {
                        Param param = catalog.get(name);
                        if (param == null) {
                            // named only when the specification defines it: any other name is input
                            throw new SafeFhirException(400, org.hl7.fhir.r4.model.OperationOutcome.IssueType.NOTSUPPORTED,
                                    UnsupportedInteractions.knownSearchParameter(type, name)
                                            .map(known -> "Search parameter " + known + " is not supported for " + type)
                                            .orElse("An unknown search parameter was used for " + type)
                                            + "; GET /fhir/metadata lists the supported ones");
                        }
                        criterion(type, param, modifier, alternatives, plan, ssnVisible);
                    }
                }
            }
        }
    }

    /**
     * One patient's records of {@code type} that a query selects, as bulk export's {@code _typeFilter}
     * applies it (ADR 0027): SQL over a {@code phi.resource} row {@code r} (tokens and metadata) and
     * the plaintext filter its candidates must pass. Only selecting parameters: the export chooses
     * the patients (no {@code patient}/{@code subject}) and the shape of its output.
     */
    record Criteria(String where, List<Object> args, Predicate<Resource> matches) {}

    /** The parameters {@link #criteria(String, Map, boolean)} accepts for a type, for a refusal to list. */
    static List<String> criteriaParameters(String type) {
        List<String> names = new ArrayList<>();
        SearchCatalog.forType(type).values().stream().filter(p -> p.kind() != SearchCatalog.Kind.REFERENCE)
                .map(Param::name).forEach(names::add);
        names.add("_id");
        names.add("_lastUpdated");
        return names;
    }

    /** Plans a {@code _typeFilter} query; refuses (400, naming parameters only) what it cannot select by. */
    Criteria criteria(String type, Map<String, String[]> parameters, boolean ssnVisible) {
        List<String> allowed = criteriaParameters(type);
        for (String key : parameters.keySet()) {
            if (!allowed.contains(key.split(":", 2)[0])) {
                throw SafeFhirException.badRequest("_typeFilter for " + type + " can use: " + String.join(", ", allowed));
            }
        }
        Plan plan = new Plan();
        plan.args.add(type);
        criteria(type, parameters, plan, ssnVisible);
        Predicate<Resource> all = plan.filters.stream().reduce(r -> true, Predicate::and);
        return new Criteria(plan.where.toString(), List.copyOf(plan.args), all);
    }

    /**
     * Restricts the candidates to the caller's scope in SQL, before counting, paging or decrypting
     * anything: a total or a page never covers a record the caller may not see.
     */
    private static void narrow(Plan plan, AccessEnforcement.Scopes scopes) {
        PatientScope.Clause clause = scopeClause(scopes);
        if (clause != null) {
            plan.and(clause.sql(), clause.args().toArray());
        }
    }

    /**
     * The scope as SQL over a {@code phi.resource} row aliased {@code r}, or null when it leaves
     * nothing out: searches, included records and {@code $everything} are all narrowed by it.
     */
    static PatientScope.Clause scopeClause(AccessEnforcement.Scopes scopes) {
        return scopeClause(scopes, "r.compartment",
                RecordCategories.currentIs(health.carapace.access.Permissions.IMAGING_CATEGORY));
    }

    /** The same over any row: its compartment column, and SQL true when the row is an imaging record. */
    static PatientScope.Clause scopeClause(AccessEnforcement.Scopes scopes, String compartment, String isImaging) {
        if (scopes.imaging() == null) {
            return scopes.other().unrestricted() ? null : scopes.other().clause(compartment);
        }
        PatientScope.Clause other = scopes.other().clause(compartment);
        PatientScope.Clause imaging = scopes.imaging().clause(compartment);
        List<Object> args = new ArrayList<>(other.args());
        args.addAll(imaging.args());
        return new PatientScope.Clause("(not " + isImaging + " and (" + other.sql() + ")) or (" + isImaging + " and ("
                + imaging.sql() + "))", args);
    }

    /**
     * The candidates that pass every plaintext filter, decrypted, in the order of the search. Its
     * statements run with generic plans ({@link GenericPlans}): this path is always narrowed by an
     * index (a token, a patient or an id), whose plan does not depend on the values.
     */
    private List<Resource> filtered(String type, Plan plan, SearchSort sort) {
        return genericPlans.run(() -> filteredWith(type, plan, sort));
    }

    private List<Resource> filteredWith(String type, Plan plan, SearchSort sort) {
        List<UUID> candidates = jdbc.sql("select r.resource_id from phi.resource r where " + plan.where
                        + " order by " + sort.sql() + " limit " + (maxCandidates + 1))
                .params(plan.args)
                .query(UUID.class)
                .list();
        if (candidates.size() > maxCandidates) {
            throw SafeFhirException.badRequest("The search is too broad to filter (more than " + maxCandidates
                    + " candidates); add criteria");
        }
        Predicate<Resource> all = plan.filters.stream().reduce(r -> true, Predicate::and);
        List<Resource> matches = new ArrayList<>();
        for (int from = 0; from < candidates.size(); from += 100) {
            List<UUID> batch = candidates.subList(from, Math.min(candidates.size(), from + 100));
            for (Resource resource : store.readCurrent(type, batch)) {
                if (all.test(resource)) {
                    matches.add(resource);
                }
            }
        }
        if (sort.decrypted()) {
            // ordered after decryption, within the bounded candidate set (ADR 0021)
            matches.sort(sort.comparator());
        }
        return matches;
    }

    private void criterion(String type, Param param, String modifier, List<String> alternatives, Plan plan,
            boolean ssnVisible) {
        switch (param.kind()) {
            case REFERENCE -> {
                requireNoModifier(modifier, param.name());
                plan.and("r.compartment = any(?)", (Object) alternatives.stream()
                        .map(v -> v.startsWith("Patient/") ? v.substring("Patient/".length()) : v)
                        .map(Ids::parse).flatMap(Optional::stream).map(id -> "Patient/" + id).toArray(String[]::new));
                plan.narrowed = true;
            }
            case TOKEN -> token(type, param, modifier, alternatives, plan, ssnVisible);
            case STRING -> string(type, param, modifier, alternatives, plan);
            case DATE -> date(type, param, modifier, alternatives, plan);
        }
    }

    private void token(String type, Param param, String modifier, List<String> alternatives, Plan plan,
            boolean ssnVisible) {
        requireNoModifier(modifier, param.name());
        List<Term> terms = new ArrayList<>();
        List<Predicate<Base>> matchers = new ArrayList<>();
        for (String alternative : alternatives) {
            int bar = alternative.indexOf('|');
            String system = bar < 0 ? null : alternative.substring(0, bar);
            String code = bar < 0 ? alternative : alternative.substring(bar + 1);
            if (code.isEmpty()) {
                throw SafeFhirException.badRequest("Search parameter " + param.name() + " needs a value, not only a system");
            }
            String base = type + "." + param.name();
            terms.add(bar < 0 ? new Term(base + ":value", code) : new Term(base, system + "|" + code));
            matchers.add(value -> (ssnVisible || !(value instanceof Identifier identifier && SsnRule.isSsn(identifier)))
                    && tokenMatches(value, system, code));
        }
        if (param.serving() == Serving.BLIND_INDEX) {
            tokenClause(terms, plan);
        } else {
            plan.filterOnly = true;
        }
        plan.filters.add(valuesMatch(param, matchers));
    }

    private void string(String type, Param param, String modifier, List<String> alternatives, Plan plan) {
        if (modifier != null && !modifier.equals("exact")) {
            throw SafeFhirException.badRequest("This modifier is not supported on " + param.name());
        }
        boolean exact = "exact".equals(modifier);
        List<Term> terms = new ArrayList<>();
        List<Predicate<Base>> matchers = new ArrayList<>();
        for (String alternative : alternatives) {
            String normalised = Normalise.text(alternative);
            String prefix = Normalise.prefix(normalised);
            if (prefix == null) {
                throw SafeFhirException.badRequest("Search parameter " + param.name() + " needs at least "
                        + Normalise.PREFIX_LENGTH + " characters");
            }
            terms.add(new Term(type + "." + param.name() + ":prefix", prefix));
            matchers.add(value -> value instanceof PrimitiveType<?> text && text.hasValue()
                    && (exact ? text.getValueAsString().equals(alternative)
                              : Normalise.text(text.getValueAsString()).startsWith(normalised)));
        }
        tokenClause(terms, plan);
        plan.filters.add(valuesMatch(param, matchers));
    }

    private void date(String type, Param param, String modifier, List<String> alternatives, Plan plan) {
        requireNoModifier(modifier, param.name());
        List<Term> dayTerms = new ArrayList<>();
        List<Predicate<Base>> matchers = new ArrayList<>();
        boolean allExactDays = param.serving() == Serving.BLIND_INDEX;
        for (String alternative : alternatives) {
            DateParam parsed = parseDate(param.name(), alternative);
            DateRanges.Range range = DateRanges.of(parsed);
            ParamPrefixEnum prefix = parsed.getPrefix();
            String raw = alternative.replaceFirst("^[a-z]{2}", "");
            if ((prefix == null || prefix == ParamPrefixEnum.EQUAL) && DAY.matcher(raw).matches()) {
                dayTerms.add(new Term(type + "." + param.name() + ":day", raw));
            } else {
                allExactDays = false;
            }
            matchers.add(value -> {
                DateRanges.Range target = DateRanges.of(value);
                return target != null && DateRanges.matches(target, prefix, range);
            });
        }
        if (allExactDays) {
            tokenClause(dayTerms, plan);
        } else {
            plan.filterOnly = true;
        }
        plan.filters.add(valuesMatch(param, matchers));
    }

    private void lastUpdated(Plan plan, List<String> alternatives) {
        StringBuilder any = new StringBuilder();
        List<Object> args = new ArrayList<>();
        for (String alternative : alternatives) {
            DateParam parsed = parseDate("_lastUpdated", alternative);
            DateRanges.Range range = DateRanges.of(parsed);
            Timestamp low = new Timestamp(range.low());
            Timestamp high = new Timestamp(range.high());
            if (!any.isEmpty()) {
                any.append(" or ");
            }
            switch (parsed.getPrefix() == null ? ParamPrefixEnum.EQUAL : parsed.getPrefix()) {
                case EQUAL, APPROXIMATE -> { any.append("r.last_updated between ? and ?"); args.add(low); args.add(high); }
                case NOT_EQUAL -> { any.append("r.last_updated not between ? and ?"); args.add(low); args.add(high); }
                case GREATERTHAN, STARTS_AFTER -> { any.append("r.last_updated > ?"); args.add(high); }
                case GREATERTHAN_OR_EQUALS -> { any.append("r.last_updated >= ?"); args.add(low); }
                case LESSTHAN, ENDS_BEFORE -> { any.append("r.last_updated < ?"); args.add(low); }
                case LESSTHAN_OR_EQUALS -> { any.append("r.last_updated <= ?"); args.add(high); }
            }
        }
        plan.and(any.toString(), args.toArray());
    }

    private void tokenClause(List<Term> terms, Plan plan) {
        StringBuilder any = new StringBuilder();
        List<Object> args = new ArrayList<>();
        // During a blind-index key rotation a resource carries the tokens of one version or the
        // other: ask for both. False positives are dropped after decryption, as always.
        List<Integer> versions = indexer.searchableVersions();
        for (Term term : terms) {
            for (int version : versions) {
                if (!any.isEmpty()) {
                    any.append(" or ");
                }
                any.append("(t.index_name = ? and t.token = ? and t.key_version = ?)");
                args.add(term.index());
                args.add(indexer.token(term, version));
                args.add(version);
            }
        }
        plan.and("exists (select 1 from phi_index.token t where t.resource_type = r.resource_type "
                + "and t.resource_id = r.resource_id and (" + any + "))", args.toArray());
        plan.narrowed = true;
    }

    private static Predicate<Resource> valuesMatch(Param param, List<Predicate<Base>> alternatives) {
        return resource -> {
            for (Base value : param.values().apply(resource)) {
                for (Predicate<Base> alternative : alternatives) {
                    if (value != null && alternative.test(value)) {
                        return true;
                    }
                }
            }
            return false;
        };
    }

    private static boolean tokenMatches(Base value, String system, String code) {
        if (value instanceof Identifier identifier) {
            return code.equals(identifier.getValue()) && systemMatches(system, identifier.getSystem());
        }
        if (value instanceof CodeableConcept concept) {
            for (Coding coding : concept.getCoding()) {
                if (code.equals(coding.getCode()) && systemMatches(system, coding.getSystem())) {
                    return true;
                }
            }
            return false;
        }
        if (value instanceof PrimitiveType<?> primitive) {
            return code.equals(primitive.getValueAsString());
        }
        return false;
    }

    private static boolean systemMatches(String wanted, String actual) {
        if (wanted == null) {
            return true;
        }
        return wanted.isEmpty() ? actual == null || actual.isEmpty() : wanted.equals(actual);
    }

    private static DateParam parseDate(String name, String value) {
        try {
            DateParam parsed = new DateParam(value);
            if (parsed.getValue() == null || parsed.getPrecision() == null
                    || parsed.getPrecision().ordinal() < TemporalPrecisionEnum.YEAR.ordinal()) {
                throw new IllegalArgumentException();
            }
            return parsed;
        } catch (RuntimeException e) {
            throw SafeFhirException.badRequest("Search parameter " + name + " has an invalid date");
        }
    }

    private static void requireNoModifier(String modifier, String name) {
        if (modifier != null) {
            throw SafeFhirException.badRequest("This modifier is not supported on " + name);
        }
    }

    /** Splits on commas not escaped with a backslash (FHIR's OR). */
    static List<String> splitOr(String value) {
        List<String> parts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' && i + 1 < value.length()) {
                current.append(value.charAt(++i));
            } else if (c == ',') {
                parts.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        parts.add(current.toString());
        return parts;
    }
}
