/**
 * Access policy: roles (permissions with time-window and IP-range constraints) loaded from the
 * policy directory, the decision point ({@link health.carapace.access.AccessPolicy}), care-team
 * scoping ({@link health.carapace.access.CareRelationships},
 * {@link health.carapace.access.PatientScope}), break-glass ({@link health.carapace.access.BreakGlass})
 * and the permission questions of masking ({@link health.carapace.access.AccessPolicy#grants}).
 * Decisions are made on a {@link health.carapace.access.Caller}, which is defined here and
 * resolved by the {@code signin} module: sign-in depends on the policy, never the reverse, so
 * nothing here knows how a caller proved who they are (docs/adr/0014-sign-in-apart-from-policy.md).
 */
@org.springframework.modulith.ApplicationModule(
        allowedDependencies = {"audit", "compliance", "crypto", "platform :: config", "platform :: logging", "platform :: web"})
package health.carapace.access;
