package health.carapace.export.internal;

import health.carapace.access.Caller;
import health.carapace.access.Interaction;
import health.carapace.access.RecordAccess;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.records.Compartment;
import health.carapace.records.RecordExport;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/**
 * The patients of a Group-level export (ADR 0027): the group's active members as the client may
 * read the Group when the job runs, a part at a time after the cursor, and for each member whether
 * the client may see them at all. A member the client may not see (no requested type may be
 * searched in their compartment) is left out: nothing of theirs is read, nothing in the manifest
 * or the files says they were a member, and the refusal is on the audit trail (denied, the
 * patient, the client, the policy's reason).
 */
final class GroupMembership {

    private final RecordExport records;
    private final RecordAccess access;
    private final AuditTrail audit;
    private final java.util.Set<String> exportableTypes;

    GroupMembership(RecordExport records, RecordAccess access, AuditTrail audit, java.util.Set<String> exportableTypes) {
        this.records = records;
        this.access = access;
        this.audit = audit;
        this.exportableTypes = exportableTypes;
    }

    static String exportPath(UUID group) {
        return "/fhir/Group/" + group + "/$export";
    }

    /** The group's members for a job run now; empty if the group is gone, no longer a list, or no longer readable. */
    java.util.Optional<List<Compartment>> members(Caller caller, InetAddress address, Instant now, UUID group) {
        if (records.group(caller, address, now, group) instanceof RecordExport.GroupLookup.Found found && found.actual()) {
            return java.util.Optional.of(found.members());
        }
        return java.util.Optional.empty();
    }

    /** Up to {@code limit} members after {@code cursor} (null: from the first), in compartment order. */
    static List<Compartment> after(List<Compartment> members, Compartment cursor, int limit) {
        List<Compartment> next = new ArrayList<>();
        for (Compartment member : members) {
            if (cursor == null || member.toString().compareTo(cursor.toString()) > 0) {
                next.add(member);
                if (next.size() == limit) {
                    break;
                }
            }
        }
        return next;
    }

    /**
     * Whether the client may see this member now: some requested type may be searched in their
     * compartment. If not, the member is left out and the refusal audited (durable before the
     * export goes on; fail closed).
     */
    boolean mayExport(Caller caller, InetAddress address, Instant now, Compartment member, Collection<String> types,
            UUID group, String jobReference) {
        String reason = null;
        for (String type : types.isEmpty() ? exportableTypes : types) {
            var decision = access.decide(caller, Interaction.SEARCH, type, null, member.toString(), address, now);
            if (decision.allowed()) {
                return true;
            }
            reason = reason == null ? decision.reason() : reason;
        }
        audit.record(List.of(new AuditEvent(UUID.randomUUID(), now, caller.principal(), AuditAction.DENIED,
                exportPath(group), AuditContext.none(), false, member.toString(), null, jobReference, false, null,
                reason == null ? "no-permission" : reason)));
        return false;
    }
}
