package health.carapace.records.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.util.DateUtils;
import java.time.Instant;
import java.util.Date;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A read's Last-Modified is the text HAPI's own formatter gives, whatever the instant. */
class LastModifiedTest {

    @Test
    void lastModifiedIsWhatHapiWrites() {
        SplittableRandom random = new SplittableRandom(13);
        long from = Instant.parse("1800-01-01T00:00:00Z").toEpochMilli();
        long to = Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();
        for (int i = 0; i < 20_000; i++) {
            Date date = new Date(random.nextLong(from, to));
            assertThat(RecordReads.httpDate(date)).as("%s", date.toInstant()).isEqualTo(DateUtils.formatDate(date));
        }
        for (String instant : new String[] {"1970-01-01T00:00:00Z", "1899-12-31T23:59:59.999Z", "1900-01-01T00:00:00Z",
                "2026-12-06T01:06:51.695Z", "2024-02-29T12:00:00Z", "9999-12-31T23:59:59.999Z", "+10000-01-01T00:00:00Z",
                "1582-10-04T00:00:00Z", "0001-01-01T00:00:00Z"}) {
            Date date = Date.from(Instant.parse(instant));
            assertThat(RecordReads.httpDate(date)).as(instant).isEqualTo(DateUtils.formatDate(date));
        }
    }
}
