package health.carapace.platform.logging;

import health.carapace.platform.config.Mode;
import health.carapace.platform.config.ReadinessCheck;
import java.util.ArrayList;
import java.util.List;
import org.springframework.core.env.Environment;

/** Every log line goes through {@link RedactingJsonFormat}, in every mode: the console's and a log file's. */
public final class LogFormatReadiness implements ReadinessCheck {

    @Override
    public List<String> problems(Mode mode, Environment environment) {
        String ourFormat = RedactingJsonFormat.class.getName();
        List<String> problems = new ArrayList<>();
        if (!ourFormat.equals(environment.getProperty("logging.structured.format.console"))) {
            problems.add("logging.structured.format.console must stay " + ourFormat + " (PHI redaction)");
        }
        if (environment.getProperty("logging.file.name") != null || environment.getProperty("logging.file.path") != null) {
            if (!ourFormat.equals(environment.getProperty("logging.structured.format.file"))) {
                problems.add("logging.structured.format.file must be " + ourFormat + " when logging to a file");
            }
        }
        return problems;
    }
}
