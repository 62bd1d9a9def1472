package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Review of the evidence dumps (MEDIUM): jcmd signals the process it attaches to, and a process
 * that is not a JVM dies of that signal (PostgreSQL's postmaster shuts down at once). Only a Java
 * process running Carapace is asked; anything else is refused before any signal is sent.
 */
class ServingNodeTargetTest {

    @Test
    void aProcessThatIsNotACarapaceJvmIsRefusedAndNeverSignalled() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        try {
            assertThatThrownBy(() -> ServingNode.ofPid(sleeper.pid())).isInstanceOf(ServingNode.NotFound.class)
                    .hasMessageContaining("not a Carapace server");
            // a SIGQUIT would have ended it (sleep does not handle it)
            assertThat(sleeper.waitFor(1, TimeUnit.SECONDS)).as("still running: never signalled").isFalse();
        } finally {
            sleeper.destroyForcibly();
        }
    }

    @Test
    void aJavaProcessIsAskedOnlyWhenItRunsCarapace() {
        // this test JVM is Java but runs surefire, not Carapace
        assertThat(ServingNode.isCarapaceJvm(ProcessHandle.current().info())).isFalse();
        assertThatThrownBy(() -> ServingNode.ofPid(ProcessHandle.current().parent().orElseThrow().pid()))
                .isInstanceOf(ServingNode.NotFound.class);
    }
}
