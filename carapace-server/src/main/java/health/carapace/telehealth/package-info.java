/**
 * Telehealth: video visits started from an Appointment ({@code $start-visit}), a signaling relay
 * over WebSocket for the participants of one visit, and the visit page. Media is encrypted end to
 * end in the browser (SFrame, RFC 9605, keys exchanged under ECDH between the participants): the
 * server relays what it cannot read and stores nothing of it (docs/TELEHEALTH.md, ADR 0018).
 */
@org.springframework.modulith.ApplicationModule(
        allowedDependencies = {"access", "audit", "records", "platform :: config", "platform :: logging",
                "platform :: web"})
package health.carapace.telehealth;
