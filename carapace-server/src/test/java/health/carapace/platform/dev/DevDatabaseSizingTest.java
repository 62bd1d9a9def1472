package health.carapace.platform.dev;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** start-dev's PostgreSQL buffer cache: a quarter of the machine, within PostgreSQL's default and 8 GB. */
class DevDatabaseSizingTest {

    private static final long GIB = 1024L * 1024 * 1024;

    @Test
    void aQuarterOfTheMachineBetweenTheDefaultAndEightGigabytes() {
        assertThat(DevDatabase.sharedBuffersMib(24 * GIB)).isEqualTo(6 * 1024);
        assertThat(DevDatabase.sharedBuffersMib(2 * GIB)).isEqualTo(512);
        assertThat(DevDatabase.sharedBuffersMib(GIB / 4)).as("never below the default").isEqualTo(128);
        assertThat(DevDatabase.sharedBuffersMib(256 * GIB)).as("never above 8 GB").isEqualTo(8 * 1024);
    }
}
