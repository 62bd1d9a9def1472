package health.carapace.access.internal;

import health.carapace.access.ClientAddress;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The decision point's beans: the policy directory loaded at startup (a policy that does not load
 * stops the server, naming file, role and problem), and the client-address resolver.
 */
@Configuration(proxyBeanMethods = false)
class AccessPolicyConfiguration {

    private static final Logger log = LoggerFactory.getLogger(AccessPolicyConfiguration.class);

    @Bean
    PolicyDirectory policyDirectory(@Value("${carapace.access.policy-dir:}") String dir,
            @Value("${carapace.access.time-zone:UTC}") String timeZone, @Value("${carapace.mode:}") String mode) {
        if (dir.isBlank()) {
            throw new PolicyException(List.of("carapace.access.policy-dir is required: the directory of role documents"));
        }
        ZoneId zone;
        try {
            zone = ZoneId.of(timeZone);
        } catch (DateTimeException e) {
            throw new PolicyException(List.of("carapace.access.time-zone is not a time zone (use an IANA name like "
                    + "America/New_York)"));
        }
        PolicyDirectory directory = new PolicyDirectory(Path.of(dir), zone);
        if ("dev".equals(mode) && directory.seedDevRolesIfAbsent()) {
            log.info("start-dev: seeded the policy directory with {} dev roles", PolicyDirectory.DEV_ROLES.size());
        }
        return directory;
    }

    @Bean
    RolePolicy rolePolicy(PolicyDirectory directory,
            org.springframework.beans.factory.ObjectProvider<health.carapace.access.SuspendedRoles> suspended) {
        PolicySnapshot snapshot = directory.load();
        long unconstrained = snapshot.roles().values().stream().filter(Role::unconstrained).count();
        log.info("access policy loaded: {} roles, {} without constraints", snapshot.roles().size(), unconstrained);
        return new RolePolicy(snapshot, suspended::getIfAvailable);
    }

    @Bean
    ClientAddress clientAddress(@Value("${carapace.access.trusted-proxies:}") String trustedProxies) {
        List<CidrBlock> proxies = new ArrayList<>();
        int index = 0;
        for (String entry : trustedProxies.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            index++;
            try {
                proxies.add(CidrBlock.parse(entry.strip()));
            } catch (IllegalArgumentException e) {
                throw new ClientAddress.BadTrustedProxies("carapace.access.trusted-proxies entry " + index + ": "
                        + e.getMessage());
            }
        }
        List<CidrBlock> frozen = List.copyOf(proxies);
        Predicate<InetAddress> trusted = address -> {
            for (CidrBlock block : frozen) {
                if (block.contains(address)) {
                    return true;
                }
            }
            return false;
        };
        return new ClientAddress(trusted);
    }

    @Bean
    @org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication
    org.springframework.boot.web.servlet.FilterRegistrationBean<ClientAddressFilter> clientAddressFilter(
            ClientAddress clientAddress) {
        var registration = new org.springframework.boot.web.servlet.FilterRegistrationBean<>(
                new ClientAddressFilter(clientAddress));
        // Before Spring Security (order -100): refusals are audited with the resolved address too.
        registration.setOrder(health.carapace.platform.web.FilterOrder.CLIENT_ADDRESS);
        return registration;
    }

    @Bean
    CallerRateLimits callerRateLimits(
            @org.springframework.beans.factory.annotation.Value("${carapace.rate-limit.requests-per-second}") long perSecond,
            @org.springframework.beans.factory.annotation.Value("${carapace.rate-limit.burst}") long burst) {
        return new CallerRateLimits(perSecond, burst);
    }

    @Bean
    @org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication
    org.springframework.boot.web.servlet.FilterRegistrationBean<CallerRateLimits> callerRateLimitsFilter(
            CallerRateLimits limits) {
        var registration = new org.springframework.boot.web.servlet.FilterRegistrationBean<>(limits);
        registration.setOrder(health.carapace.platform.web.FilterOrder.RATE_LIMITS);
        return registration;
    }
}
