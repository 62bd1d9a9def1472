package health.carapace.fuzz;

import java.io.PrintWriter;
import java.lang.reflect.Method;
import java.util.Arrays;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Fuzzes one target for a given time in this JVM, without Maven: the measurement run
 * ({@code carapace-server/fuzz-measurement}) starts one JVM per target, since Jazzer fuzzes one
 * target per JVM, and Maven's own start and the replay of its test configuration would cost a
 * minute a target. Needs {@code JAZZER_FUZZ=1} in the environment (else JUnit replays the
 * committed inputs only). libFuzzer's status lines and its closing {@code Done N runs in S
 * second(s)} go to standard error; the exit code is 0 when the target found nothing.
 *
 * <p>Usage: {@code FuzzingRun health.carapace.fuzz.FhirInputInProcessFuzzTest#json 600}
 */
public final class FuzzingRun {

    private FuzzingRun() {
    }

    public static void main(String[] args) throws ClassNotFoundException {
        if (args.length != 2 || !args[0].contains("#")) {
            System.err.println("usage: FuzzingRun <class>#<method> <seconds>");
            System.exit(2);
        }
        long seconds = Long.parseLong(args[1]);
        Class<?> targetClass = Class.forName(args[0].substring(0, args[0].indexOf('#')));
        String methodName = args[0].substring(args[0].indexOf('#') + 1);
        Method target = Arrays.stream(targetClass.getDeclaredMethods())
                .filter(method -> method.getName().equals(methodName)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no fuzz target " + args[0]));
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(DiscoverySelectors.selectMethod(target.getDeclaringClass(), target))
                // libFuzzer arguments as Jazzer's own command line passes them (the first is argv[0]);
                // they come after the annotation's maxDuration on libFuzzer's command line, so they win
                .configurationParameter("jazzer.internal.arg.0", "fuzzing-run")
                .configurationParameter("jazzer.internal.arg.1", "-max_total_time=" + seconds)
                // libFuzzer writes an input that took over 10 s into the inputs directory as a "slow
                // unit"; on a shared machine whose niced processes are paused for minutes (SIGSTOP) that
                // is every input under way at the pause. Ten minutes is slow for any single input here.
                .configurationParameter("jazzer.internal.arg.2", "-report_slow_units=600")
                .build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        launcher.execute(request, summary);
        TestExecutionSummary result = summary.getSummary();
        result.printTo(new PrintWriter(System.out));
        // the whole cause chain of a finding: JUnit's own printing trims the frames that locate it
        result.getFailures().forEach(failure -> failure.getException().printStackTrace(System.out));
        boolean clean = result.getTestsFoundCount() > 0 && result.getTotalFailureCount() == 0;
        System.exit(clean ? 0 : 1);
    }
}
