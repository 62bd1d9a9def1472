package health.carapace.records.internal;

import health.carapace.access.ShreddedPatients;
import health.carapace.records.Compartment;
import health.carapace.records.PatientRecords;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/** {@link PatientRecords} and {@link ShreddedPatients} over the {@code phi} schema. */
final class PatientRecordsStore implements PatientRecords, ShreddedPatients {

    private final JdbcClient jdbc;

    PatientRecordsStore(DataSource dataSource) {
        this.jdbc = JdbcClient.create(dataSource);
    }

    @Override
    public boolean exists(Compartment patient) {
        return jdbc.sql("select exists (select 1 from phi.resource where resource_type = 'Patient' and resource_id = ?)")
                .param(patient.patient()).query(Boolean.class).single();
    }

    @Override
    public boolean shredded(Compartment patient) {
        return jdbc.sql("select exists (select 1 from phi.shredded_compartment where compartment = ?)")
                .param(patient.toString()).query(Boolean.class).single();
    }

    @Override
    public Set<String> shreddedAmong(Collection<String> compartments) {
        if (compartments.isEmpty()) {
            return Set.of();
        }
        return new HashSet<>(jdbc.sql("select compartment from phi.shredded_compartment where compartment = any(?)")
                .param(compartments.stream().distinct().toArray(String[]::new)).query(String.class).list());
    }

    @Override
    public void tombstone(Compartment patient, UUID requestId, Instant at, String requestedBy, String approvedBy) {
        String compartment = patient.toString();
        ShreddingLock.holdExclusive(jdbc, compartment);
        jdbc.sql("""
                insert into phi.shredded_compartment (compartment, request_id, shredded_at, requested_by, approved_by)
                values (?, ?, ?, ?, ?)""")
                .params(compartment, requestId, Timestamp.from(at), requestedBy, approvedBy)
                .update();
        jdbc.sql("""
                delete from phi_index.token t using phi.resource r
                where t.resource_type = r.resource_type and t.resource_id = r.resource_id and r.compartment = ?""")
                .param(compartment)
                .update();
    }
}
