package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.ServiceClients;
import health.carapace.testing.TestPolicy;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * {@code unusual-hours} through the server: a principal whose history (the detector's own table,
 * seeded here as if weeks of work had been read) never includes this hour is flagged on its next
 * read; one whose history includes it is not.
 */
class UnusualHoursTest extends IncidentTesting {

    @Test
    void anAccessAtAnHourOutsideThePrincipalsOwnHistoryIsFlagged() {
        int now = ZonedDateTime.now(ZoneOffset.UTC).getHour();
        ServiceClients.Credentials dayShift = client("day-shift", TestPolicy.EVERYTHING);
        ServiceClients.Credentials roundTheClock = client("round-the-clock", TestPolicy.EVERYTHING);
        history(dayShift.clientId(), (now + 12) % 24, 300);
        history(roundTheClock.clientId(), (now + 12) % 24, 300);
        history(roundTheClock.clientId(), now, 40);
        // either side of the hour boundary counts as usual for the second one
        history(roundTheClock.clientId(), (now + 1) % 24, 40);
        String patient = createPatient();

        assertThat(read(tokenFor(roundTheClock.clientId(), roundTheClock.clientSecret()), patient).statusCode())
                .isEqualTo(200);
        assertThat(read(tokenFor(dayShift.clientId(), dayShift.clientSecret()), patient).statusCode()).isEqualTo(200);
        Incident flagged = awaitIncident("unusual-hours", dayShift.clientId());
        assertThat(incidents.find(flagged.id()).orElseThrow().timeline())
                .anySatisfy(entry -> assertThat(entry.detail()).startsWith("hour:"));
        drainDetectors();
        assertThat(incidentsOf("unusual-hours", roundTheClock.clientId())).isEmpty();
    }

    private void history(String principal, int hour, long accesses) {
        JdbcClient.create(dataSource).sql("insert into incident.hour_of_day values (?, ?, ?)")
                .params(principal, hour, accesses).update();
    }
}
