package health.carapace.platform.config;

import java.util.List;

/**
 * Implemented by a bean of each module that uses cryptography: the algorithms it uses, read from
 * the keys and settings actually loaded (not from constants), for the startup check.
 */
public interface AlgorithmInventory {

    List<AlgorithmUse> algorithmsInUse();
}
