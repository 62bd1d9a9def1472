package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.ServiceClients;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Measures the time from the containment command ({@code POST /admin/incidents/{id}/containment}
 * {@code {"disable":true}}) to the refusal of the contained principal's next request, which follows
 * at once, on the node that took the command (the target is 1 s, issue 15; other nodes hear of it
 * through the announcement and the 250 ms check, ContainmentTest proves the second node). Rounds:
 * {@code -Drounds} (default 20). Run alone: {@code CI=true ./mvnw -q -o -pl carapace-server
 * surefire:test@default-test -Dcarapace.test.excluded-groups=none -Dtest=ContainmentSpeedMeasurement
 * -Dsurefire.failIfNoSpecifiedTests=false} and read the lines starting "MEASURED".
 */
@Tag("measurement")
class ContainmentSpeedMeasurement extends IncidentTesting {

    private static final int ROUNDS = Integer.getInteger("rounds", 20);

    @Test
    void measureCommandToRefusal() {
        List<Double> commandToRefusal = new ArrayList<>();
        List<Double> command = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            ServiceClients.Credentials nurse = client("contain-speed-" + round, TestPolicy.EVERYTHING);
            String patient = createPatient();
            link(nurse.clientId(), patient);
            String token = tokenFor(nurse.clientId(), nurse.clientSecret());
            assertThat(read(token, patient).statusCode()).isEqualTo(200);
            Incident incident = awaitIncident("self-access", nurse.clientId());

            long start = System.nanoTime();
            HttpResponse<String> contained = postJson(officer(), "/admin/incidents/" + incident.id() + "/containment",
                    "{\"disable\":true}");
            long answered = System.nanoTime();
            assertThat(contained.statusCode()).isEqualTo(200);
            int status = read(token, patient).statusCode();
            long refused = System.nanoTime();
            assertThat(status).as("the very next request is refused").isEqualTo(401);
            command.add((answered - start) / 1e6);
            commandToRefusal.add((refused - start) / 1e6);
        }
        Collections.sort(commandToRefusal);
        Collections.sort(command);
        System.out.printf("MEASURED containment: command to refusal of the next request over %d rounds: median %.0f ms,"
                + " p90 %.0f ms, max %.0f ms (the command itself: median %.0f ms, max %.0f ms)%n", ROUNDS,
                commandToRefusal.get(ROUNDS / 2), commandToRefusal.get((int) (ROUNDS * 0.9)),
                commandToRefusal.get(ROUNDS - 1), command.get(ROUNDS / 2), command.get(ROUNDS - 1));
    }
}
