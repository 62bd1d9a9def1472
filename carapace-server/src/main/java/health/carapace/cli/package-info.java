/**
 * The {@code carapace} command line: one command per file. It composes the other modules (it may
 * use any module's public API) and nothing depends on it.
 */
package health.carapace.cli;
