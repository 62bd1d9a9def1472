package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import health.carapace.crypto.RecordCipher;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Encrypted resource versions in PostgreSQL. Every version is serialised, encrypted under its
 * compartment's data key with the row's identity as associated data, and written together with
 * its blind-index tokens in the caller's transaction. Nothing in clear but metadata.
 */
class RecordStore {

    /**
     * Metadata of one stored version (no PHI). {@code shredded}: its compartment's keys were
     * destroyed by crypto-shredding (the tombstone in {@code phi.shredded_compartment}).
     */
    record Row(String type, UUID id, long version, String compartment, Instant lastUpdated, boolean deleted,
            byte[] ciphertext, boolean shredded) {}

    /** Whether a version's compartment (alias v) was shredded: a primary-key probe of the tombstones. */
    static final String SHREDDED_VERSION =
            "exists (select 1 from phi.shredded_compartment s where s.compartment = v.compartment)";
    /** Whether a resource's current compartment (alias r) was shredded. */
    static final String SHREDDED_CURRENT =
            "exists (select 1 from phi.shredded_compartment s where s.compartment = r.compartment)";

    private final JdbcClient jdbc;
    /** For the statements sent together in one round trip (JdbcClient has no multi-result call). */
    private final org.springframework.jdbc.core.JdbcTemplate template;
    private final FhirContext fhir;
    private final RecordCipher cipher;
    private final SearchIndexer indexer;
    private final WriteGuard guard;
    private final CareTeamLinks careLinks;
    private final LocalReferences references;

    RecordStore(DataSource dataSource, FhirContext fhir, RecordCipher cipher, SearchIndexer indexer, WriteGuard guard,
            CareTeamLinks careLinks) {
        this.jdbc = JdbcClient.create(dataSource);
        this.template = new org.springframework.jdbc.core.JdbcTemplate(dataSource);
        this.fhir = fhir;
        this.cipher = cipher;
        this.indexer = indexer;
        this.guard = guard;
        this.careLinks = careLinks;
        this.references = new LocalReferences(jdbc, fhir);
    }

    /**
     * Runs {@code work} (a transaction's entries) with the reference rule checked once at its end,
     * when every record the transaction creates exists, in the same database transaction.
     */
    <T> T checkingReferencesAtTheEnd(java.util.function.Supplier<T> work) {
        if (patientsCreatedHere.get() != null) {
            return references.deferred(work);
        }
        patientsCreatedHere.set(new java.util.HashSet<>());
        firstKeys.set(NONE);
        try {
            return references.deferred(work);
        } finally {
            patientsCreatedHere.remove();
            firstKeys.remove();
        }
    }

    /**
     * The patient compartments that the transaction Bundle running on this thread created, each
     * after taking its shredding lock (shared, held to the commit) and finding no tombstone under
     * it; null outside a transaction Bundle. Their later entries (a patient's observations) skip
     * the lock and the check: the lock is already held by this transaction, so no tombstone can be
     * written before it commits, and the patient exists, created by it (a Bundle deletes before it
     * creates). One round trip fewer per entry; the check itself is unchanged for every other
     * compartment.
     */
    private final ThreadLocal<java.util.Set<String>> patientsCreatedHere = new ThreadLocal<>();

    /**
     * Asks the access policy about a write before anything is stored (in the write's transaction,
     * so a refusal stores nothing). Reads are decided earlier, by {@link AccessEnforcement}.
     */
    interface WriteGuard {
        void check(health.carapace.access.Interaction interaction, String type, String compartment, String category);

        /** Refuses a write that would put the caller themselves in a care relationship through emergency access alone. */
        void checkCareLinks(String type, String compartment, java.util.List<UUID> practitioners);

        /** Whether the caller may see SSNs unmasked (view:ssn); without it, {@link MaskedWriteBack} applies. */
        boolean maySeeSsn();

        /** Refuses the write (403 with {@code reason}, audited as denied). */
        RuntimeException refuseWrite(String reason, String type, String compartment);
    }

    /**
     * A version just written: the resource as stamped (id, version, last-updated), its compartment,
     * and the JSON that was encrypted, which a response may send as it is ({@link StoredEcho}).
     */
    record Written(Resource resource, String compartment, StoredJson stored) {

        /** The patient whose record this is, or null for a record outside every patient compartment. */
        String patient() {
            return RecordGuard.patient(compartment);
        }
    }

    /** Stores a new resource under a server-assigned id, or under {@code assignedId} in a transaction. */
    Written create(Resource resource, UUID assignedId) {
        String type = resource.fhirType();
        UUID id = assignedId != null ? assignedId : UUID.randomUUID();
        // A Patient under an id drawn here (a random UUID) is a compartment no one can name until this
        // transaction commits: no shredding approval can wait for it and no tombstone can hold it, so the
        // shredding lock and check (a round trip) would answer nothing (ADR 0057). The keyring still
        // refuses a key for a shredded compartment under its own lock.
        String compartment = assignedId == null && type.equals("Patient") ? "Patient/" + id
                : compartmentOf(type, id, resource);
        String category = RecordCategories.of(resource);
        List<UUID> practitioners = CareTeamLinks.practitioners(resource);
        guard.check(health.carapace.access.Interaction.CREATE, type, compartment, category);
        guard.checkCareLinks(type, compartment, practitioners);
        PatientGroups.check(resource);
        references.check(resource, compartment);
        keepMaskedValues(type, compartment, null, resource);
        SafeNarrative.check(resource);
        Instant now = now();
        stamp(resource, type, id, 1, now);
        StoredJson stored = serialise(resource);
        SearchIndexer.NewTokens tokens = indexer.tokensOf(type, id, resource);
        // the current pointer, the first version and its blind-index tokens in one statement (no
        // foreign keys between these tables, so the order of a CTE's inserts does not matter)
        jdbc.sql("""
                with pointer as (
                  insert into phi.resource (resource_type, resource_id, current_version, compartment, last_updated, deleted)
                  values (?, ?, 1, ?, ?, false)),
                tokens as (
                  insert into phi_index.token (resource_type, resource_id, index_name, token, key_version)
                  select ?, ?, t.index_name, t.token, ? from unnest(?::text[], ?::integer[]) as t(index_name, token))
                insert into phi.resource_version (resource_type, resource_id, version, compartment, last_updated, deleted, ciphertext)
                values (?, ?, 1, ?, ?, false, ?)""")
                .params(type, id, compartment, Timestamp.from(now),
                        type, id, tokens.keyVersion(), tokens.indexes(), tokens.tokens(),
                        type, id, compartment, Timestamp.from(now), sealFirst(type, id, compartment, stored))
                .update();
        RecordCategories.insert(jdbc, type, id, 1, category);
        careLinks.written(type, id, compartment, resource, practitioners);
        java.util.Set<String> createdHere = patientsCreatedHere.get();
        if (createdHere != null && type.equals("Patient")) {
            createdHere.add(compartment);
        }
        return new Written(resource, compartment, stored);
    }

    /**
     * Asks the access policy whether the caller may create this Patient under {@code id}, as
     * {@link #create} will ask again when the entry runs: a transaction decides its new patients
     * before it makes their keys ({@link #makeFirstKeys}), so that no key is made for a patient
     * the caller may not create.
     */
    void decideCreate(org.hl7.fhir.r4.model.Patient patient, UUID id) {
        guard.check(health.carapace.access.Interaction.CREATE, "Patient", "Patient/" + id, RecordCategories.of(patient));
    }

    /**
     * The data keys of a transaction's new patients (fresh ids, each decided by
     * {@link #decideCreate}), made and stored in one keyring transaction instead of one per
     * patient; each patient's first record then encrypts under the key made for it. Each patient
     * still gets a keyset of their own.
     */
    void makeFirstKeys(java.util.Collection<UUID> patients) {
        if (!patients.isEmpty() && firstKeys.get() != null) {
            firstKeys.set(cipher.createFirstKeys(patients.stream().map(id -> "Patient/" + id).toList()));
        }
    }

    /** The keys {@link #makeFirstKeys} made for the transaction Bundle running on this thread (a no-op holder outside one). */
    private final ThreadLocal<RecordCipher.FirstKeys> firstKeys = new ThreadLocal<>();
    private static final RecordCipher.FirstKeys NONE = (compartment, plaintext, associatedData) -> Optional.empty();

    /**
     * Stores a new version. {@code expectedVersion}, from {@code If-Match}, must be the current one.
     */
    Written update(String type, UUID id, Resource resource, Long expectedVersion) {
        Row current = lockCurrent(type, id)
                .orElseThrow(() -> new SafeFhirException(405, org.hl7.fhir.r4.model.OperationOutcome.IssueType.NOTSUPPORTED,
                        "This server assigns resource ids: create new resources with POST"));
        // Decided first: a 410 or a 412 naming the current version would tell a caller who may not
        // touch this record that it exists, was shredded, or how often it changed.
        guard.check(health.carapace.access.Interaction.UPDATE, type, current.compartment(),
                RecordCategories.current(jdbc, type, id, current.version()));
        if (current.shredded()) {
            throw SafeFhirException.shredded();
        }
        if (expectedVersion != null && expectedVersion != current.version()) {
            throw new SafeFhirException(412, org.hl7.fhir.r4.model.OperationOutcome.IssueType.CONFLICT,
                    "Version conflict: If-Match names version " + expectedVersion + " but the current version is "
                            + current.version());
        }
        long version = current.version() + 1;
        String compartment = compartmentOf(type, id, resource);
        if (!current.compartment().equals(RecordCipher.SHARED_COMPARTMENT)
                && compartment.equals(RecordCipher.SHARED_COMPARTMENT)) {
            // a patient's record never becomes readable by the type's permission alone
            throw SafeFhirException.badRequest("A record in a patient's compartment cannot be moved out of it");
        }
        String category = RecordCategories.of(resource);
        List<UUID> practitioners = CareTeamLinks.practitioners(resource);
        // moving a record to another patient, or into another category, needs access to both sides
        guard.check(health.carapace.access.Interaction.UPDATE, type, compartment, category);
        guard.checkCareLinks(type, compartment, practitioners);
        PatientGroups.check(resource);
        references.check(resource, compartment);
        keepMaskedValues(type, compartment, current, resource);
        SafeNarrative.check(resource);
        Instant now = later(current.lastUpdated());
        stamp(resource, type, id, version, now);
        StoredJson stored = serialise(resource);
        // the new version and the moved pointer in one round trip
        jdbc.sql("""
                with pointer as (
                  update phi.resource set current_version = ?, compartment = ?, last_updated = ?, deleted = false
                  where resource_type = ? and resource_id = ?)
                insert into phi.resource_version (resource_type, resource_id, version, compartment, last_updated, deleted, ciphertext)
                values (?, ?, ?, ?, ?, false, ?)""")
                .params(version, compartment, Timestamp.from(now), type, id,
                        type, id, version, compartment, Timestamp.from(now), seal(type, id, version, compartment, stored))
                .update();
        RecordCategories.insert(jdbc, type, id, version, category);
        indexer.index(type, id, resource);
        careLinks.written(type, id, compartment, resource, practitioners);
        return new Written(resource, compartment, stored);
    }

    /**
     * The one place where every write (create, update, bundle entries; PATCH and conditional
     * writes must come through {@link #create} or {@link #update} too) keeps a caller without
     * view:ssn from storing the masks it was shown: they are restored to the stored values, or
     * the write is refused ({@link MaskedWriteBack}, ADR 0012). The current version is decrypted
     * only for such callers.
     */
    private void keepMaskedValues(String type, String compartment, Row current, Resource incoming) {
        if (guard.maySeeSsn()) {
            return;
        }
        Resource stored = current == null || current.deleted() ? null : storedVersion(current);
        MaskedWriteBack.restore(fhir, stored, incoming).ifPresent(reason -> {
            throw guard.refuseWrite(reason, type, compartment);
        });
    }

    private Resource storedVersion(Row current) {
        return jdbc.sql("""
                select resource_type, resource_id, version, compartment, last_updated, deleted, ciphertext, false
                from phi.resource_version where resource_type = ? and resource_id = ? and version = ?""")
                .params(current.type(), current.id(), current.version())
                .query(RecordStore::row)
                .optional()
                .filter(row -> !row.deleted())
                .map(this::open)
                .orElse(null);
    }

    /** Records a deletion as a new version; returns it, or empty if already deleted. */
    Optional<Long> delete(String type, UUID id) {
        Row current = lockCurrent(type, id).orElseThrow(SafeFhirException::notFound);
        String category = RecordCategories.current(jdbc, type, id, current.version());
        guard.check(health.carapace.access.Interaction.DELETE, type, current.compartment(), category);
        if (current.shredded()) {
            throw SafeFhirException.shredded();
        }
        if (current.deleted()) {
            return Optional.empty();
        }
        long version = current.version() + 1;
        Instant now = later(current.lastUpdated());
        jdbc.sql("update phi.resource set current_version = ?, last_updated = ?, deleted = true "
                        + "where resource_type = ? and resource_id = ?")
                .params(version, Timestamp.from(now), type, id)
                .update();
        insertVersion(type, id, version, current.compartment(), now, true, null);
        // the deletion keeps the category, so history scopes it as the record it ends
        RecordCategories.insert(jdbc, type, id, version, category);
        indexer.remove(type, id);
        careLinks.deleted(type, id);
        return Optional.of(version);
    }

    /**
     * A version with everything a read decides on, loaded in one statement: the current version
     * ({@code version} null) or the one named. The ciphertext comes along but is opened only once
     * the caller is allowed ({@link RecordReads}).
     */
    record Loaded(Row row, String category) {}

    // Built once: formatting them on every read was 1% of a read's request-thread CPU (issue 13).
    private static final String LOAD_CURRENT = """
            select r.resource_type, r.resource_id, r.current_version, v.compartment, r.last_updated, r.deleted,
                   v.ciphertext, %s, c.category
            from phi.resource r join phi.resource_version v
              on v.resource_type = r.resource_type and v.resource_id = r.resource_id and v.version = r.current_version
            left join phi.resource_category c on c.resource_type = r.resource_type
              and c.resource_id = r.resource_id and c.version = r.current_version
            where r.resource_type = ? and r.resource_id = ?""".formatted(SHREDDED_VERSION);
    private static final String LOAD_VERSION = """
            select v.resource_type, v.resource_id, v.version, v.compartment, v.last_updated, v.deleted,
                   v.ciphertext, %s, c.category
            from phi.resource_version v
            left join phi.resource_category c on c.resource_type = v.resource_type
              and c.resource_id = v.resource_id and c.version = v.version
            where v.resource_type = ? and v.resource_id = ? and v.version = ?""".formatted(SHREDDED_VERSION);

    Optional<Loaded> load(String type, UUID id, Long version) {
        if (version == null) {
            return jdbc.sql(LOAD_CURRENT)
                    .params(type, id)
                    .query((rs, n) -> new Loaded(row(rs, n), rs.getString(9)))
                    .optional();
        }
        return jdbc.sql(LOAD_VERSION)
                .params(type, id, version)
                .query((rs, n) -> new Loaded(row(rs, n), rs.getString(9)))
                .optional();
    }

    /**
     * All versions, newest first; deletion markers are returned as rows without a resource. If any
     * version is in a shredded compartment the history as a whole is gone (410): it can no longer
     * be given completely, and a partial history would misstate the record.
     */
    List<Row> history(String type, UUID id) {
        List<Row> rows = jdbc.sql("""
                select resource_type, resource_id, version, compartment, last_updated, deleted, ciphertext,
                       %s
                from phi.resource_version v where resource_type = ? and resource_id = ? order by version desc"""
                        .formatted(SHREDDED_VERSION))
                .params(type, id)
                .query(RecordStore::row)
                .list();
        if (rows.isEmpty()) {
            throw SafeFhirException.notFound();
        }
        if (rows.stream().anyMatch(Row::shredded)) {
            throw SafeFhirException.shredded();
        }
        return rows;
    }

    /**
     * Versions ({@code phi.resource_version v}) matching {@code where}, newest first, {@code from}
     * to {@code to}: a page of a type's or the server's history. Shredded compartments are left out.
     */
    List<Row> versions(String where, List<Object> args, int from, int to) {
        return jdbc.sql("""
                select v.resource_type, v.resource_id, v.version, v.compartment, v.last_updated, v.deleted, v.ciphertext, false
                from phi.resource_version v where (%s) and not %s
                order by v.last_updated desc, v.resource_type, v.resource_id, v.version desc limit %d offset %d"""
                        .formatted(where, SHREDDED_VERSION, Math.max(0, to - from), from))
                .params(args)
                .query(RecordStore::row)
                .list();
    }

    int countVersions(String where, List<Object> args) {
        return jdbc.sql("select count(*) from phi.resource_version v where (" + where + ") and not " + SHREDDED_VERSION)
                .params(args)
                .query(Integer.class)
                .single();
    }

    /**
     * Current versions of {@code ids}, in the order given; deleted, shredded (a search page
     * rendered after its patient was shredded) or missing ones are skipped.
     */
    List<Resource> readCurrent(String type, List<UUID> ids) {
        return readCurrent(type, ids, null);
    }

    /**
     * Current versions of {@code ids} that are also in {@code scope} (SQL over {@code phi.resource r};
     * null: no restriction), in the order given, in one statement: records a response brings
     * along ({@code _include}) are narrowed to the caller's scope as they are loaded.
     */
    List<Resource> readCurrent(String type, List<UUID> ids, health.carapace.access.PatientScope.Clause scope) {
        if (ids.isEmpty()) {
            return List.of();
        }
        // One id (a search by identifier finds one patient) is compared with "=", not "= any(array)":
        // PostgreSQL prices a generic plan for "any" at ten elements, so it kept planning the statement
        // afresh on every call (224 us of planning for 40 us of execution, issue 13's search row).
        boolean one = ids.size() == 1;
        List<Object> args = new java.util.ArrayList<>(List.of(type, one ? ids.get(0) : ids.toArray(UUID[]::new)));
        if (scope != null) {
            args.addAll(scope.args());
        }
        List<Row> rows = jdbc.sql(currentVersionsSql(one, scope == null ? "true" : scope.sql()))
                .params(args)
                .query(RecordStore::row)
                .list();
        var byId = new java.util.HashMap<UUID, Row>();
        rows.forEach(r -> byId.put(r.id(), r));
        // each with the JSON it was stored as, which a search page may send as it is (StoredBundle)
        return ids.stream().map(byId::get).filter(java.util.Objects::nonNull).map(row -> {
            StoredJson stored = plaintext(row);
            return StoredBundle.attach(parse(stored), stored);
        }).toList();
    }

    /** The current-versions statement: type, then one id or an array of ids, then the scope's arguments. */
    static String currentVersionsSql(boolean oneId, String scopeSql) {
        return """
                select r.resource_type, r.resource_id, r.current_version, v.compartment, r.last_updated, r.deleted, v.ciphertext,
                       false
                from phi.resource r join phi.resource_version v
                  on v.resource_type = r.resource_type and v.resource_id = r.resource_id and v.version = r.current_version
                where r.resource_type = ? and r.resource_id %s and not r.deleted
                  and not %s and (%s)""".formatted(oneId ? "= ?" : "= any(?)", SHREDDED_VERSION, scopeSql);
    }

    Resource open(Row row) {
        return parse(plaintext(row));
    }

    /** The stored JSON of a version, decrypted, as it was written (with its id and meta). */
    StoredJson plaintext(Row row) {
        return StoredJson.unframe(cipher.decrypt(row.compartment(), row.ciphertext(),
                associatedData(row.type(), row.id(), row.version(), row.compartment())));
    }

    Resource parse(StoredJson stored) {
        return (Resource) fhir.newJsonParser().parseResource(new String(stored.json(), StandardCharsets.UTF_8));
    }

    /** The compartment of a resource's current version, or null if there is no such resource. */
    String compartmentOfCurrent(String type, UUID id) {
        return jdbc.sql("select compartment from phi.resource where resource_type = ? and resource_id = ?")
                .params(type, id)
                .query(String.class)
                .optional()
                .orElse(null);
    }

    /** Compartment and category of a stored version (metadata, nothing decrypted), for access decisions. */
    record Placement(String compartment, String category, boolean deleted) {}

    /** Compartment and category of every version (for history). */
    List<Placement> placements(String type, UUID id) {
        return jdbc.sql("""
                select v.compartment, c.category, v.deleted from phi.resource_version v
                left join phi.resource_category c on c.resource_type = v.resource_type
                  and c.resource_id = v.resource_id and c.version = v.version
                where v.resource_type = ? and v.resource_id = ? order by v.version""")
                .params(type, id)
                .query((rs, n) -> new Placement(rs.getString(1), rs.getString(2), rs.getBoolean(3)))
                .list();
    }

    boolean exists(String type, UUID id) {
        return jdbc.sql("select exists (select 1 from phi.resource where resource_type = ? and resource_id = ? and not deleted)")
                .params(type, id)
                .query(Boolean.class)
                .single();
    }

    /** A record by type and id (metadata only). */
    record Key(String type, UUID id) {}

    /**
     * Locks the current rows of {@code records} ({@code FOR UPDATE}) in one global order, by type
     * and then id, in one statement: PostgreSQL sorts before it locks, so two transactions changing
     * the same records in different entry orders wait for each other instead of deadlocking (ADR
     * 0035). Records that do not exist are skipped (their entries fail on their own). Each write
     * locks its row again ({@link #lockCurrent}), which a transaction already holding it passes.
     */
    void lockForChange(java.util.Collection<Key> records) {
        if (records.isEmpty()) {
            return;
        }
        java.util.SortedSet<Key> sorted = new java.util.TreeSet<>(
                java.util.Comparator.comparing(Key::type).thenComparing(Key::id));
        sorted.addAll(records);
        jdbc.sql("""
                select 1 from phi.resource r
                join unnest(?::text[], ?::uuid[]) as wanted(resource_type, resource_id)
                  on r.resource_type = wanted.resource_type and r.resource_id = wanted.resource_id
                order by r.resource_type collate "C", r.resource_id
                for update of r""")
                .params(sorted.stream().map(Key::type).toArray(String[]::new),
                        sorted.stream().map(Key::id).toArray(UUID[]::new))
                .query((rs, n) -> 1)
                .list();
    }

    private Optional<Row> lockCurrent(String type, UUID id) {
        return jdbc.sql("""
                select resource_type, resource_id, current_version, compartment, last_updated, deleted, null,
                       %s
                from phi.resource r where resource_type = ? and resource_id = ? for update""".formatted(SHREDDED_CURRENT))
                .params(type, id)
                .query(RecordStore::row)
                .optional();
    }

    private void insertVersion(String type, UUID id, long version, String compartment, Instant at, boolean deleted,
            byte[] ciphertext) {
        jdbc.sql("""
                insert into phi.resource_version (resource_type, resource_id, version, compartment, last_updated, deleted, ciphertext)
                values (?, ?, ?, ?, ?, ?, ?)""")
                .params(type, id, version, compartment, Timestamp.from(at), deleted, ciphertext)
                .update();
    }

    /**
     * The stamped resource serialised, once per write: these bytes are encrypted and may be the
     * response too. Whether it holds an SSN ({@link SsnMasking#holdsSsn}) is judged here and
     * sealed with them, so that a read can tell without parsing whether they may be sent as stored.
     */
    private StoredJson serialise(Resource resource) {
        byte[] json = fhir.newJsonParser().encodeResourceToString(resource).getBytes(StandardCharsets.UTF_8);
        return new StoredJson(json, SsnMasking.holdsSsn(fhir, resource) ? StoredJson.Ssn.PRESENT : StoredJson.Ssn.ABSENT);
    }

    private byte[] seal(String type, UUID id, long version, String compartment, StoredJson stored) {
        return cipher.encrypt(compartment, StoredJson.frame(stored.json(), stored.ssn() == StoredJson.Ssn.PRESENT),
                associatedData(type, id, version, compartment));
    }

    /**
     * The first version of a new record. A new Patient is the first record of its compartment
     * (a fresh id), so the keyring makes its key without looking for one first; a hint only
     * ({@link RecordCipher#encryptFirst}): a key already there is used, a shredded compartment refused.
     */
    private byte[] sealFirst(String type, UUID id, String compartment, StoredJson stored) {
        byte[] plaintext = StoredJson.frame(stored.json(), stored.ssn() == StoredJson.Ssn.PRESENT);
        byte[] associatedData = associatedData(type, id, 1, compartment);
        // The key a transaction Bundle made for this new patient, for their records in it too (a node's
        // full key cache may have turned it away, and each observation would look it up and unwrap it again).
        RecordCipher.FirstKeys made = firstKeys.get();
        java.util.Optional<byte[]> sealed = (made == null ? NONE : made).encrypt(compartment, plaintext, associatedData);
        if (sealed.isPresent()) {
            return sealed.get();
        }
        return type.equals("Patient") ? cipher.encryptFirst(compartment, plaintext, associatedData)
                : cipher.encrypt(compartment, plaintext, associatedData);
    }

    /** Binds a ciphertext to its row: copying it to another row or compartment breaks decryption. */
    static byte[] associatedData(String type, UUID id, long version, String compartment) {
        return ("carapace/v1|" + type + "/" + id + "/_history/" + version + "|" + compartment)
                .getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Patients are their own compartment; clinical resources belong to the patient they name,
     * which must exist; anything else is in the shared compartment.
     */
    String compartmentOf(String type, UUID id, Resource resource) {
        Optional<String> patient = resource instanceof org.hl7.fhir.r4.model.Provenance provenance
                ? provenanceCompartment(provenance)
                : patientCompartmentOf(type, id, resource);
        if (patient.isEmpty()) {
            return RecordCipher.SHARED_COMPARTMENT;
        }
        String compartment = patient.get();
        // Writers hold the patient's shredding lock shared until they commit; an approval takes
        // it exclusively before writing the tombstone. So an approval waits for writes already
        // past this check (and then deletes their index tokens too), and a write arriving
        // during an approval waits for it and then sees the tombstone. The check must be a
        // statement of its own, after the lock: its snapshot then includes the tombstone.
        // Lock and check are sent together, one round trip (ShreddingLock#holdSharedThenRead).
        boolean referenced = !type.equals("Patient");
        java.util.Set<String> createdHere = patientsCreatedHere.get();
        if (createdHere != null && createdHere.contains(compartment)) {
            return compartment;
        }
        ShreddingLock.PatientState state = ShreddingLock.holdSharedThenRead(template, compartment,
                UUID.fromString(compartment.substring("Patient/".length())));
        if (state.shredded()) {
            // No write may create a new data key for a shredded patient, or add data to it.
            throw SafeFhirException.shredded();
        }
        if (referenced && !state.patientExists()) {
            throw SafeFhirException.badRequest("The resource's " + ResourceTypes.patientLink(type).orElseThrow()
                    + " references a Patient that does not exist on this server");
        }
        return compartment;
    }

    boolean isShredded(String compartment) {
        return jdbc.sql("select exists (select 1 from phi.shredded_compartment where compartment = ?)")
                .param(compartment)
                .query(Boolean.class)
                .single();
    }

    /**
     * The patient compartment a resource names (not yet checked to exist), or empty for the shared
     * one. A patient-linked type must name a Patient unless it may be shared
     * ({@link ResourceTypes#mayBeShared}): a record about a patient must never land in the shared
     * compartment, where the type's permission alone is enough to read it.
     */
    private static Optional<String> patientCompartmentOf(String type, UUID id, Resource resource) {
        if (type.equals("Patient")) {
            return Optional.of("Patient/" + id);
        }
        Optional<String> link = ResourceTypes.patientLink(type);
        if (link.isEmpty()) {
            return Optional.empty();
        }
        Reference reference = ResourceTypes.patientReference(resource).orElse(null);
        var target = reference == null || !reference.hasReference() ? null : reference.getReferenceElement();
        if (target == null || !"Patient".equals(target.getResourceType())) {
            if (ResourceTypes.mayBeShared(type)) {
                return Optional.empty();
            }
            throw SafeFhirException.badRequest("A " + type + " must name its patient: its " + link.get()
                    + " must reference a Patient on this server");
        }
        UUID patient = Ids.parse(target.getIdPart()).orElseThrow(() -> SafeFhirException.badRequest(
                "The resource's " + link.get() + " references a Patient that does not exist on this server"));
        return Optional.of("Patient/" + patient);
    }

    /**
     * A Provenance is in the compartment of the records it is about: every target must be a
     * record on this server, and all of them in one compartment (a Patient target is its own
     * compartment). A Provenance about one patient's Observation is that patient's record, even
     * though it names no Patient; one spanning two compartments could be read by whoever may
     * read either, so it is refused.
     */
    private Optional<String> provenanceCompartment(org.hl7.fhir.r4.model.Provenance provenance) {
        java.util.Set<String> compartments = new java.util.TreeSet<>();
        for (Reference target : provenance.getTarget()) {
            String reference = target.getReference();
            var element = target.getReferenceElement();
            if (reference == null || reference.startsWith("#") || reference.contains("://") || reference.startsWith("urn:")
                    || !element.hasResourceType() || !ResourceTypes.names().contains(element.getResourceType())) {
                throw SafeFhirException.badRequest("Every Provenance.target must reference a record on this server");
            }
            UUID targetId = Ids.parse(element.getIdPart()).orElseThrow(() -> SafeFhirException.badRequest(
                    "Every Provenance.target must reference a record on this server"));
            if (element.getResourceType().equals("Patient")) {
                compartments.add("Patient/" + targetId);
                continue;
            }
            compartments.add(jdbc.sql("select compartment from phi.resource where resource_type = ? and resource_id = ? and not deleted")
                    .params(element.getResourceType(), targetId)
                    .query(String.class)
                    .optional()
                    .orElseThrow(() -> SafeFhirException.badRequest(
                            "Every Provenance.target must reference a record on this server")));
        }
        if (compartments.size() != 1) {
            throw SafeFhirException.badRequest(compartments.isEmpty()
                    ? "A Provenance must have a target"
                    : "A Provenance's targets must all belong to one patient (or all to none)");
        }
        String compartment = compartments.iterator().next();
        return compartment.equals(RecordCipher.SHARED_COMPARTMENT) ? Optional.empty() : Optional.of(compartment);
    }

    private static void stamp(Resource resource, String type, UUID id, long version, Instant at) {
        resource.setIdElement(new org.hl7.fhir.r4.model.IdType(type, id.toString(), Long.toString(version)));
        resource.getMeta().setVersionId(Long.toString(version));
        resource.getMeta().setLastUpdated(Date.from(at));
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS);
    }

    /** Keeps last-updated strictly increasing per resource even if the clock steps back. */
    private static Instant later(Instant previous) {
        Instant now = now();
        return now.isAfter(previous) ? now : previous.plusMillis(1);
    }

    private static Row row(java.sql.ResultSet rs, int n) throws java.sql.SQLException {
        return new Row(rs.getString(1), rs.getObject(2, UUID.class), rs.getLong(3), rs.getString(4),
                rs.getTimestamp(5).toInstant(), rs.getBoolean(6), rs.getBytes(7), rs.getBoolean(8));
    }
}
