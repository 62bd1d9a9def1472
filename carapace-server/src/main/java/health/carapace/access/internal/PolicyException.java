package health.carapace.access.internal;

import health.carapace.platform.logging.SafeMessage;
import java.util.List;

/**
 * The policy did not load. Each problem names the file, the role and what is wrong; values from
 * the documents are quoted only when they have the shape of a name (role, permission, key), so a
 * message never carries free text.
 */
final class PolicyException extends RuntimeException implements SafeMessage {

    private final List<String> problems;

    PolicyException(List<String> problems) {
        super(problems.size() == 1 ? problems.get(0)
                : "the access policy has " + problems.size() + " problems:\n  - " + String.join("\n  - ", problems));
        this.problems = List.copyOf(problems);
    }

    List<String> problems() {
        return problems;
    }
}
