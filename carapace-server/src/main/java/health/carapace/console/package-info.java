/**
 * The privacy officer's console (docs/CONSOLE.md, ADR 0031): server-rendered pages (Thymeleaf,
 * htmx for partial updates) over the services the admin API calls, for the people who act on an
 * incident or an audit. It is a sign-in app like any other (authorization code with PKCE through
 * the sign-in pages, password and TOTP) and keeps its tokens server-side; every page is decided by
 * the access policy's permissions on every request.
 *
 * <p>Public API: {@link health.carapace.console.ConsoleApp} (its client id and paths). Everything
 * else is in {@code internal}.
 */
@org.springframework.modulith.ApplicationModule(
        allowedDependencies = {"access", "audit", "compliance", "crypto", "disposal", "incident", "signin",
                "platform :: logging", "platform :: web"})
package health.carapace.console;
