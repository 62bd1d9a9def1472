package health.carapace.records.internal;

import java.util.function.Supplier;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Runs statements with PostgreSQL's generic plans (ADR 0056). A search's candidate look-up and the
 * load of the candidates' current versions were planned afresh on every call: PostgreSQL prices
 * their generic plan above the custom ones (it cannot use the blind-index token's most common
 * values, and it counts an id array as ten elements), so it never switches to it although the
 * plan is the same — measured on 66,515 patients, 0.17 and 0.22 ms of planning per call against
 * 0.06 and 0.07 ms of execution, about 40% of PostgreSQL's time per identifier search.
 *
 * <p>The setting is {@code SET LOCAL}: it ends with the transaction, so it can never stay on a
 * pooled connection. Inside a caller's transaction (a Bundle's conditional look-up) the statements
 * run as they are, so a write transaction never has its planning changed from under it.
 */
final class GenericPlans {

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;

    GenericPlans(JdbcClient jdbc, TransactionTemplate transactions) {
        this.jdbc = jdbc;
        this.transactions = transactions;
    }

    <T> T run(Supplier<T> statements) {
        if (TransactionSynchronizationManager.isActualTransactionActive()) {
            return statements.get();
        }
        return transactions.execute(status -> {
            jdbc.sql("select set_config('plan_cache_mode', 'force_generic_plan', true)").query(String.class).single();
            return statements.get();
        });
    }
}
